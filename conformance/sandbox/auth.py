"""The API's two ways to authenticate: Basic with an API key, or a JWT signed with its secret."""

from __future__ import annotations

import base64
import binascii
import hmac

import jwt

from conformance.sandbox.errors import ApiError

SCOPES = ("app", "account")
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


def authenticate(header: str | None, key_id: str, key_secret: str) -> None:
    """Return when ``header`` carries valid credentials for the key; raise a 401 otherwise."""
    if not header or not header.strip():
        raise unauthorized()
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "basic":
        _basic(credentials, key_id, key_secret)
    elif scheme.lower() == "bearer":
        _bearer(credentials, key_id, key_secret)
    else:
        raise unauthorized()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _basic(credentials: str, key_id: str, key_secret: str) -> None:
    # RFC 7617: the user-id and password are UTF-8, as the client encodes them.
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise unauthorized(INVALID_TITLE) from None
    user, colon, password = decoded.partition(":")
    # Compare both halves every time, so a wrong id takes as long as a wrong secret.
    if not (colon and _same(user, key_id) & _same(password, key_secret)):
        raise unauthorized(INVALID_TITLE)


def _bearer(token: str, key_id: str, key_secret: str) -> None:
    try:
        header = jwt.get_unverified_header(token)
        kid = header.get("kid")
        if header.get("alg") != "HS256" or not isinstance(kid, str) or not _same(kid, key_id):
            raise unauthorized(INVALID_TITLE)
        # Only HS256: a token signed otherwise (or "none") is not one of ours.
        claims = jwt.decode(token, key_secret, algorithms=["HS256"], options={"require": ["scope"]})
    except jwt.PyJWTError:
        raise unauthorized(INVALID_TITLE) from None
    if claims.get("scope") not in SCOPES:
        raise unauthorized(INVALID_TITLE)
