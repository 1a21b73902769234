"""The sandbox over a real socket: every operation wants Basic or JWT credentials, and wrong ones are refused."""

from __future__ import annotations

import base64
import warnings

import jwt
import pytest
from sandbox_support import MISSING, OTHER_ID, Api, body_of, codes

from conformance.sandbox import DEFAULT_KEY_ID, DEFAULT_KEY_SECRET
from conformance.sandbox.server import DEFAULT_ACCOUNT_KEY_ID, DEFAULT_ACCOUNT_KEY_SECRET

# -- Authentication ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation_id", "params"),
    [
        ("CreateIntegration", {}),
        ("ListIntegrations", {}),
        ("GetIntegration", {"integrationId": OTHER_ID}),
        ("UpdateIntegration", {"integrationId": OTHER_ID}),
        ("DeleteIntegration", {"integrationId": OTHER_ID}),
    ],
)
def test_every_operation_requires_credentials(api: Api, operation_id: str, params: dict[str, str]) -> None:
    status, answer = api.call(operation_id, body=body_of("web"), auth=None, **params)
    assert status == 401
    assert answer == {"errors": [{"code": "unauthorized", "title": "Authorization is required"}]}


@pytest.mark.parametrize(
    "header",
    [
        "Basic " + base64.b64encode(f"{DEFAULT_KEY_ID}:wrong-secret".encode()).decode(),
        "Basic " + base64.b64encode(f"app_000000000000000000000000:{DEFAULT_KEY_SECRET}".encode()).decode(),
        "Basic " + base64.b64encode(DEFAULT_KEY_ID.encode()).decode(),
        "Basic not-base64!",
        "Token abc",
        "Bearer not.a.jwt",
    ],
    ids=["wrong secret", "wrong key id", "no password", "not base64", "unknown scheme", "malformed jwt"],
)
def test_wrong_credentials_are_rejected(api: Api, header: str) -> None:
    status, answer = api.call("ListIntegrations", headers={"Authorization": header}, auth=None)
    assert status == 401
    assert codes(answer) == ["unauthorized"]


def token(scope: str | None = "app", *, kid: str | None = DEFAULT_KEY_ID, secret: str = DEFAULT_KEY_SECRET,
          algorithm: str = "HS256") -> str:  # fmt: skip
    claims = {} if scope is None else {"scope": scope}
    headers = {} if kid is None else {"kid": kid}
    with warnings.catch_warnings():
        # HS512 wants a longer key than the sandbox's; the token is meant to be refused anyway.
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return jwt.encode(claims, None if algorithm == "none" else secret, algorithm=algorithm, headers=headers)


@pytest.mark.parametrize(
    ("kid", "secret", "scope"),
    [
        (DEFAULT_KEY_ID, DEFAULT_KEY_SECRET, "app"),
        (DEFAULT_ACCOUNT_KEY_ID, DEFAULT_ACCOUNT_KEY_SECRET, "account"),
        # An account key may sign a token of the narrower app scope.
        (DEFAULT_ACCOUNT_KEY_ID, DEFAULT_ACCOUNT_KEY_SECRET, "app"),
    ],
    ids=["app key", "account key", "account key, app scope"],
)
def test_basic_and_jwt_credentials_are_accepted(api: Api, kid: str, secret: str, scope: str) -> None:
    assert api.list()[0] == 200
    bearer = token(scope, kid=kid, secret=secret)
    status, _ = api.call("ListIntegrations", headers={"Authorization": f"Bearer {bearer}"}, auth=None)
    assert status == 200


def test_an_app_key_cannot_sign_an_account_scope_token(api: Api) -> None:
    status, answer = api.call("ListIntegrations", headers={"Authorization": f"Bearer {token('account')}"}, auth=None)
    assert (status, codes(answer)) == (401, ["unauthorized"])


@pytest.mark.parametrize(
    ("operation_id", "params"), [("ListApps", {}), ("CreateAppKey", {}), ("ListAppKeys", {})], ids=lambda v: str(v)
)
def test_account_operations_refuse_app_scope_keys(api: Api, operation_id: str, params: dict[str, str]) -> None:
    status, answer = api.call(operation_id, body={"displayName": "k"} if operation_id == "CreateAppKey" else MISSING)
    assert (status, codes(answer)) == (403, ["forbidden"])
    account = (api.sandbox.account_key_id, api.sandbox.account_key_secret)
    status, _ = api.call(
        operation_id, auth=account, body={"displayName": "k"} if operation_id == "CreateAppKey" else MISSING
    )
    assert status in (200, 201)


def test_an_integration_scope_token_may_not_manage_integrations(api: Api) -> None:
    bearer = token("integration")
    status, answer = api.call("ListIntegrations", headers={"Authorization": f"Bearer {bearer}"}, auth=None)
    assert (status, codes(answer)) == (403, ["forbidden"])


@pytest.mark.parametrize(
    "bearer",
    [
        token(kid="app_000000000000000000000000"),
        token(kid=None),
        token(secret="another-secret-that-is-long-enough-for-hs256"),
        token(algorithm="HS512"),
        token(algorithm="none"),
        token(scope=None),
        token(scope="everything"),
    ],
    ids=["wrong kid", "no kid", "wrong secret", "HS512", "alg none", "no scope", "unknown scope"],
)
def test_unacceptable_jwts_are_rejected(api: Api, bearer: str) -> None:
    status, answer = api.call("ListIntegrations", headers={"Authorization": f"Bearer {bearer}"}, auth=None)
    assert status == 401
    assert codes(answer) == ["unauthorized"]
