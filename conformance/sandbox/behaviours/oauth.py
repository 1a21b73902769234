"""OAuth for partner integrations: authorize, exchange the code for a token, read and revoke it.

The real Authorize needs a browser session and the app owner's consent; the sandbox has neither,
so it consents at once, for its own app, and redirects straight back to the client's
``redirect_uri`` with ``code`` and ``state`` (RFC 6749 section 4.1.2). Errors follow RFC 6749's
names inside the API's error envelope: an unknown client or an unregistered ``redirect_uri`` is
a 400 and never a redirect; any other ``response_type`` than ``code`` redirects with
``error=unsupported_response_type``. Get Token takes JSON (as documented) or a form (as RFC 6749
sends it); a wrong client secret is 401 ``invalid_client``, an unknown, used or foreign code 400
``invalid_grant``. The access token is an integration-scope JWT, like the API's own, signed by a
key minted for the grant; Revoke Access deletes that key, so the token stops working.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import jwt

from conformance.sandbox import seeded
from conformance.sandbox.api import Handler, Request, Response
from conformance.sandbox.auth import MINTED_KEYS
from conformance.sandbox.errors import ApiError
from conformance.sandbox.store import Record

CODES = ("oauthCode",)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
DEFAULT_SUBDOMAIN = "sandbox"


def _with_query(uri: str, **params: str | None) -> str:
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def found(location: str) -> Response:
    """A 302 as the API sends it: Location, and a short text body naming it."""
    return Response(302, f"Found. Redirecting to {location}", {"Location": location}, "text/plain; charset=utf-8")


def _client(request: Request, client_id: Any) -> Record | None:
    return request.store.get(seeded.OAUTH_CLIENTS, client_id) if isinstance(client_id, str) else None


def authorize(request: Request) -> Response:
    query = request.query
    client = _client(request, query.get("client_id"))
    if client is None:
        raise ApiError(400, "invalid_client", "client_id names no OAuth client")
    registered = [str(uri) for uri in client.get("redirectUris") or []]
    redirect_uri = str(query.get("redirect_uri") or registered[0])
    if redirect_uri not in registered:
        raise ApiError(400, "invalid_request", "redirect_uri is not one of the client's redirect URIs")
    state = query.get("state")
    if query.get("response_type") != "code":
        return found(_with_query(redirect_uri, error="unsupported_response_type", state=state))
    code = request.store.tokens.hex(16)
    grant = {"id": code, "clientId": client["id"], "appId": request.app_id, "redirectUri": redirect_uri, "used": False}
    request.store.insert(CODES, grant)
    return found(_with_query(redirect_uri, code=code, state=state))


def _same(given: Any, expected: str) -> bool:
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())


def get_token(request: Request) -> Response:
    body: dict[str, Any] = request.body
    client = _client(request, body.get("client_id"))
    if client is None or not _same(body.get("client_secret"), str(client["secret"])):
        raise ApiError(401, "invalid_client", "Client authentication failed", headers={"WWW-Authenticate": "Basic"})
    grant = request.store.get(CODES, str(body.get("code")))
    if grant is None or grant["clientId"] != client["id"] or grant["used"]:
        raise ApiError(400, "invalid_grant", "The authorization code is unknown, already used or not this client's")
    request.store.update(CODES, str(grant["id"]), lambda record: {**record, "used": True})
    key_id = "app_" + request.store.tokens.new_id()
    secret = request.store.tokens.hex(32)
    integration_id = request.store.tokens.new_id()
    request.store.insert(
        MINTED_KEYS,
        {
            "id": key_id,
            "secret": secret,
            "scope": "integration",
            "appId": grant["appId"],
            "integrationId": integration_id,
            "clientId": client["id"],
        },
    )
    token = jwt.encode(
        {"scope": "integration", "appId": grant["appId"]},
        secret,
        algorithm="HS256",
        headers={"kid": key_id, "azp": str(client["id"])},
    )
    return Response(200, {"access_token": token, "token_type": "Bearer"}, NO_STORE)


def get_token_info(request: Request) -> Response:
    credential = request.credential
    app_id = credential.app_id if credential is not None else None
    app = request.store.get(("app",), app_id) if app_id else None
    if app is None:
        raise ApiError(401, "unauthorized", "The token's app no longer exists")
    return Response(200, {"app": {**app, "subdomain": app.get("subdomain") or DEFAULT_SUBDOMAIN}})


def revoke_access(request: Request) -> Response:
    """The integration loses the app: every key of its grant goes, with what it configured."""
    credential = request.credential
    minted = request.store.get(MINTED_KEYS, credential.key_id) if credential is not None else None
    if minted is None or "clientId" not in minted:
        raise ApiError(403, "forbidden", "Only an OAuth integration's credentials can revoke its access")
    for key in request.store.records(MINTED_KEYS):
        if key.get("clientId") == minted["clientId"] and key.get("appId") == minted["appId"]:
            request.store.delete(MINTED_KEYS, str(key["id"]))
            # Webhooks the integration made hang under it: they go too.
            request.store.drop_children((str(key["appId"]), str(key["integrationId"])))
    return Response(200, {})


HANDLERS: dict[str, Handler] = {
    "Authorize": authorize,
    "GetToken": get_token,
    "GetTokenInfo": get_token_info,
    "RevokeAccess": revoke_access,
}

SEED = seeded.seed_oauth
