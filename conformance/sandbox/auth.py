"""The API's two ways to authenticate: Basic with an API key, or a JWT signed with its secret."""

from __future__ import annotations

import base64
import hmac
from collections.abc import Callable
from dataclasses import dataclass

import jwt

from conformance.sandbox.errors import ApiError

SCOPES = ("app", "account", "integration")
# The store collection of keys handlers mint at run time (OAuth access tokens), by key id.
MINTED_KEYS = ("credential",)
MISSING_TITLE = "Authorization is required"
INVALID_TITLE = "Invalid credentials"


def check_key(name: str, value: str) -> None:
    """Raise ValueError (one line) for a key id or secret the sandbox could never compare: not UTF-8 text."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{name} is not valid UTF-8 text") from None


def unauthorized(title: str = MISSING_TITLE) -> ApiError:
    return ApiError(401, "unauthorized", title)


@dataclass(frozen=True)
class Credential:
    """An API key the sandbox accepts: its scope, and the app (or integration) it is bound to."""

    key_id: str
    secret: str
    scope: str
    app_id: str | None = None
    integration_id: str | None = None


Lookup = Callable[[str], "Credential | None"]


def authenticate(header: str | None, lookup: Lookup) -> Credential:
    """The credential ``header`` proves; a 401 otherwise. A JWT narrows the key to its ``scope`` claim."""
    if not header or not header.strip():
        raise unauthorized()
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "basic":
        return _basic(credentials, lookup)
    if scheme.lower() == "bearer":
        return _bearer(credentials, lookup)
    raise unauthorized()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _basic(credentials: str, lookup: Lookup) -> Credential:
    # RFC 7617: the user-id and password are UTF-8, as the client encodes them.
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except ValueError:
        # binascii.Error, UnicodeDecodeError, and non-ASCII text (a header sent as raw bytes).
        raise unauthorized(INVALID_TITLE) from None
    user, colon, password = decoded.partition(":")
    key = lookup(user) if colon else None
    # Compare a secret every time, so a wrong id takes as long as a wrong secret.
    if not (_same(password, key.secret if key else "\0" * 32) and key is not None):
        raise unauthorized(INVALID_TITLE)
    return key


def _bearer(token: str, lookup: Lookup) -> Credential:
    try:
        header = jwt.get_unverified_header(token)
        kid = header.get("kid")
        key = lookup(kid) if isinstance(kid, str) else None
        if header.get("alg") != "HS256" or key is None:
            raise unauthorized(INVALID_TITLE)
        # Only HS256: a token signed otherwise (or "none") is not one of ours.
        claims = jwt.decode(token, key.secret, algorithms=["HS256"], options={"require": ["scope"]})
    except jwt.PyJWTError:
        raise unauthorized(INVALID_TITLE) from None
    scope = claims.get("scope")
    if scope not in SCOPES or not _narrows(key.scope, str(scope)):
        raise unauthorized(INVALID_TITLE)
    return Credential(key.key_id, key.secret, str(scope), key.app_id, key.integration_id)


def _narrows(granted: str, asked: str) -> bool:
    """A token may ask for its key's scope or a narrower one (account > app > integration)."""
    order = {"integration": 0, "app": 1, "account": 2}
    return order[asked] <= order.get(granted, -1)


def forbidden(title: str) -> ApiError:
    return ApiError(403, "forbidden", title)


def authorize(credential: Credential, scopes: frozenset[str], app_id: str | None) -> None:
    """403 when the key's scope may not call the operation, or its app is another one."""
    if scopes and credential.scope not in scopes:
        needed = " or ".join(sorted(scopes))
        raise forbidden(f"This operation needs a key of {needed} scope; this key has {credential.scope} scope")
    if credential.scope != "account" and app_id is not None and credential.app_id not in (None, app_id):
        raise forbidden("This key belongs to another app")
