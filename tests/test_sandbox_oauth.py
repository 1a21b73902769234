"""The sandbox's OAuth over a real socket: authorize redirects, code exchange (JSON and form),
token info with the access token, revocation, and the RFC 6749 refusals in the API's envelope."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from sandbox_support import Api, checked, codes

from conformance.sandbox import Sandbox, seeded

CLIENT = {"client_id": seeded.OAUTH_CLIENT_ID, "response_type": "code"}


def authorize(sandbox: Sandbox, **query: str) -> requests.Response:
    # A redirect is what is under test: never follow it (example.com is not to be reached).
    return requests.get(f"{sandbox.url}/oauth/authorize", params=query, allow_redirects=False, timeout=10)


def redirected(response: requests.Response) -> tuple[str, dict[str, str]]:
    assert response.status_code == 302, response.text
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    location = response.headers["Location"]
    assert response.text == f"Found. Redirecting to {location}"
    parts = urlsplit(location)
    return f"{parts.scheme}://{parts.netloc}{parts.path}", {k: v[0] for k, v in parse_qs(parts.query).items()}


def code_for(sandbox: Sandbox, **query: str) -> str:
    _, params = redirected(authorize(sandbox, **{**CLIENT, **query}))
    return params["code"]


def exchange(sandbox: Sandbox, issued: str, /, *, form: bool = False, **change: str) -> requests.Response:
    body = {
        "code": issued,
        "grant_type": "authorization_code",
        "client_id": seeded.OAUTH_CLIENT_ID,
        "client_secret": seeded.OAUTH_CLIENT_SECRET,
        **change,
    }
    if form:
        return requests.post(f"{sandbox.url}/oauth/token", data=body, timeout=10)
    return requests.post(f"{sandbox.url}/oauth/token", json=body, timeout=10)


def token(sandbox: Sandbox, *, form: bool = False) -> str:
    response = exchange(sandbox, code_for(sandbox), form=form)
    answer = checked("GetToken", response)
    assert answer["token_type"] == "Bearer"
    assert response.headers["Cache-Control"] == "no-store"
    return str(answer["access_token"])


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def token_info(api: Api, access_token: str) -> tuple[int, Any]:
    return api.call("GetTokenInfo", headers=bearer(access_token), auth=None)


# -- authorize -------------------------------------------------------------------------------------


def test_authorize_redirects_to_the_redirect_uri_with_a_code_and_the_state(sandbox: Sandbox) -> None:
    other = seeded.OAUTH_REDIRECT_URIS[1]
    target, params = redirected(authorize(sandbox, **CLIENT, state="s 1/é", redirect_uri=other))
    assert target == other
    assert params["state"] == "s 1/é"
    assert len(params["code"]) == 32
    # Without a redirect_uri, the client's first registered one; without a state, none comes back.
    target, params = redirected(authorize(sandbox, **CLIENT))
    assert target == seeded.OAUTH_REDIRECT_URI
    assert set(params) == {"code"}


def test_authorize_redirects_an_unsupported_response_type_with_an_error_and_no_code(sandbox: Sandbox) -> None:
    target, params = redirected(authorize(sandbox, **{**CLIENT, "response_type": "token"}, state="x"))
    assert target == seeded.OAUTH_REDIRECT_URI
    assert params == {"error": "unsupported_response_type", "state": "x"}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({**CLIENT, "client_id": "5a4db0c5a4db0c5a4db0ffff"}, "invalid_client"),
        ({**CLIENT, "redirect_uri": "https://evil.example.org/cb"}, "invalid_request"),
        ({"response_type": "code"}, "bad_request"),
        ({"client_id": seeded.OAUTH_CLIENT_ID}, "bad_request"),
    ],
    ids=["unknown client", "unregistered redirect_uri", "no client_id", "no response_type"],
)
def test_authorize_never_redirects_for_a_bad_client_or_redirect_uri(
    sandbox: Sandbox, query: dict[str, str], code: str
) -> None:
    response = authorize(sandbox, **query)
    assert "Location" not in response.headers
    assert (response.status_code, codes(checked(None, response))) == (400, [code])


# -- token -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", [False, True], ids=["JSON", "form-encoded"])
def test_a_code_buys_an_integration_scope_token_once(sandbox: Sandbox, form: bool) -> None:
    code = code_for(sandbox)
    answer = checked("GetToken", exchange(sandbox, code, form=form))
    header = jwt.get_unverified_header(answer["access_token"])
    claims = jwt.decode(answer["access_token"], options={"verify_signature": False})
    assert (header["alg"], header["kid"][:4], header["azp"]) == ("HS256", "app_", seeded.OAUTH_CLIENT_ID)
    assert claims == {"scope": "integration", "appId": sandbox.app_id}
    again = exchange(sandbox, code, form=form)
    assert (again.status_code, codes(checked(None, again))) == (400, ["invalid_grant"])


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "5a4db0c5a4db0c5a4db0ffff"}, 401, "invalid_client"),
        ({"code": "0" * 32}, 400, "invalid_grant"),
        ({"grant_type": "client_credentials"}, 400, "bad_request"),
    ],
    ids=["wrong secret", "unknown client", "unknown code", "other grant type"],
)
@pytest.mark.parametrize("form", [False, True], ids=["JSON", "form-encoded"])
def test_token_requests_are_refused_with_rfc_6749_codes(
    sandbox: Sandbox, form: bool, change: dict[str, str], status: int, code: str
) -> None:
    issued = code_for(sandbox)
    response = exchange(sandbox, issued, form=form, **change)
    assert (response.status_code, codes(checked(None, response))) == (status, [code])
    # A refused request does not use the code up.
    assert exchange(sandbox, issued).status_code == 200


def test_a_code_of_another_client_is_not_this_clients(sandbox: Sandbox) -> None:
    other = {
        "id": "5a4db0c5a4db0c5a4db0c5d2",
        "secret": "other-client-secret",
        "redirectUris": ["https://example.com/b"],
    }
    sandbox.store.insert(seeded.OAUTH_CLIENTS, other)
    code = code_for(sandbox, client_id=other["id"])
    response = exchange(sandbox, code)
    assert (response.status_code, codes(checked(None, response))) == (400, ["invalid_grant"])
    assert exchange(sandbox, code, client_id=str(other["id"]), client_secret=str(other["secret"])).status_code == 200


def test_a_form_field_given_twice_is_refused(sandbox: Sandbox) -> None:
    response = requests.post(
        f"{sandbox.url}/oauth/token",
        data=[
            ("code", "a"),
            ("code", "b"),
            ("grant_type", "authorization_code"),
            ("client_id", "c"),
            ("client_secret", "s"),
        ],
        timeout=10,
    )
    assert (response.status_code, codes(checked(None, response))) == (400, ["bad_request"])
    assert "code is given more than once" in response.text


# -- token info and revocation ---------------------------------------------------------------------


def test_the_token_reads_its_app_and_works_on_users_but_not_on_apps(sandbox: Sandbox, api: Api) -> None:
    access = token(sandbox, form=True)
    assert token_info(api, access) == (
        200,
        {"app": {"id": sandbox.app_id, "displayName": "Sandbox app", "subdomain": "sandbox"}},
    )
    status, answer = api.call("GetUser", headers=bearer(access), auth=None, userIdOrExternalId=seeded.SDK_USER_ID)
    assert status == 200
    assert answer["user"]["id"] == seeded.SDK_USER_ID
    status, answer = api.call("GetApp", headers=bearer(access), auth=None)
    assert (status, codes(answer)) == (403, ["forbidden"])


def test_revoking_ends_every_token_of_the_integration_and_only_its_token_may(sandbox: Sandbox, api: Api) -> None:
    first, second = token(sandbox), token(sandbox, form=True)
    status, answer = api.call("RevokeAccess")  # the app key: app scope, not the integration's
    assert (status, codes(answer)) == (403, ["forbidden"])
    assert api.call("RevokeAccess", headers=bearer(first), auth=None) == (200, {})
    for revoked in (first, second):
        status, answer = token_info(api, revoked)
        assert (status, codes(answer)) == (401, ["unauthorized"])
    status, answer = api.call("RevokeAccess", headers=bearer(first), auth=None)
    assert (status, codes(answer)) == (401, ["unauthorized"])
    assert token_info(api, token(sandbox))[0] == 200, "a new consent gives a working token again"


def test_token_info_and_revoke_need_a_token(api: Api) -> None:
    for operation_id in ("GetTokenInfo", "RevokeAccess"):
        status, answer = api.call(operation_id, auth=None)
        assert (status, codes(answer)) == (401, ["unauthorized"])


def test_an_integration_key_that_no_oauth_grant_minted_cannot_revoke(sandbox: Sandbox, api: Api) -> None:
    key = {
        "id": "int_custom",
        "secret": "custom-integration-key-secret",
        "scope": "integration",
        "appId": sandbox.app_id,
    }
    sandbox.store.insert(("credential",), key)
    status, answer = api.call("RevokeAccess", auth=("int_custom", key["secret"]))
    assert (status, codes(answer)) == (403, ["forbidden"])
    assert api.call("GetTokenInfo", auth=("int_custom", key["secret"]))[0] == 200
