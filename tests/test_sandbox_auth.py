"""The sandbox over a real socket: every operation wants Basic or JWT credentials, and wrong ones are refused."""

from __future__ import annotations

import base64
import re
import warnings

import jwt
import pytest
from sandbox_support import MISSING, OTHER_ID, Api, body_of, codes

from conformance.contract.resources import RESOURCES
from conformance.contract.schemas import Operation, shipped
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


# -- Wrong secrets and scopes, for every kind of key and every operation the contract scopes ----------

PATH_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
WRONG_SECRET = "a-wrong-secret-long-enough-for-hs256-0000"


def header(scheme: str, key_id: str, secret: str, scope: str) -> dict[str, str]:
    if scheme == "jwt":
        return {"Authorization": f"Bearer {token(scope, kid=key_id, secret=secret)}"}
    return {"Authorization": "Basic " + base64.b64encode(f"{key_id}:{secret}".encode()).decode()}


def made_up(op: Operation, **given: str) -> dict[str, str]:
    """Every path parameter but the app and ``given`` gets an id no record has."""
    return {name: given.get(name, OTHER_ID) for name in PATH_PARAM.findall(op.path) if name != "appId"}


def new_app_key(api: Api) -> tuple[str, str]:
    account = (api.sandbox.account_key_id, api.sandbox.account_key_secret)
    status, answer = api.call("CreateAppKey", body={"displayName": "k"}, auth=account)
    assert status == 201, answer
    return answer["key"]["id"], answer["key"]["secret"]


def new_integration_key(api: Api) -> tuple[str, str, str]:
    """(key id, secret, integration id) of a key of a new custom integration."""
    integration = api.create(body_of("custom"))
    status, answer = api.call("CreateCustomIntegrationKey", body={"displayName": "k"}, integrationId=integration["id"])
    assert status == 201, answer
    return answer["key"]["id"], answer["key"]["secret"], integration["id"]


@pytest.mark.parametrize("scheme", ["basic", "jwt"])
@pytest.mark.parametrize("whose", ["app key made through the API", "account key", "integration key"])
def test_a_key_with_a_wrong_secret_or_an_unknown_id_is_refused(api: Api, whose: str, scheme: str) -> None:
    """Each kind of key works with its secret, and is refused with a wrong one or under an id no key has."""
    if whose == "account key":
        (key_id, secret), scope, op, params = (
            (api.sandbox.account_key_id, api.sandbox.account_key_secret),
            "account",
            "ListApps",
            {},
        )
    elif whose == "integration key":
        key_id, secret, integration_id = new_integration_key(api)
        scope, op, params = "integration", "ListWebhooks", {"integrationId": integration_id}
    else:
        (key_id, secret), scope, op, params = new_app_key(api), "app", "GetApp", {}
    unknown = key_id.partition("_")[0] + "_" + OTHER_ID
    assert api.call(op, headers=header(scheme, key_id, secret, scope), auth=None, **params)[0] == 200
    for wrong in (header(scheme, key_id, WRONG_SECRET, scope), header(scheme, unknown, secret, scope)):
        status, answer = api.call(op, headers=wrong, auth=None, **params)
        assert (status, codes(answer)) == (401, [shipped().documented_code(shipped().operation(op), 401)])


@pytest.mark.parametrize("scheme", ["basic", "jwt"])
@pytest.mark.parametrize("op", shipped().refusing("app"), ids=lambda op: op.operation_id)
def test_every_operation_outside_app_scope_refuses_an_app_key(api: Api, op: Operation, scheme: str) -> None:
    key_id, secret = new_app_key(api)
    assert api.call("GetApp", headers=header(scheme, key_id, secret, "app"), auth=None)[0] == 200
    status, answer = api.call(op.operation_id, headers=header(scheme, key_id, secret, "app"), auth=None, **made_up(op))
    assert (status, codes(answer)) == (403, [shipped().documented_code(op, 403)])


@pytest.mark.parametrize("scheme", ["basic", "jwt"])
@pytest.mark.parametrize("op", shipped().refusing("integration"), ids=lambda op: op.operation_id)
def test_every_operation_outside_integration_scope_refuses_an_integration_key(
    api: Api, op: Operation, scheme: str
) -> None:
    key_id, secret, integration_id = new_integration_key(api)
    sent = header(scheme, key_id, secret, "integration")
    assert api.call("ListWebhooks", headers=sent, auth=None, integrationId=integration_id)[0] == 200
    status, answer = api.call(op.operation_id, headers=sent, auth=None, **made_up(op, integrationId=integration_id))
    assert (status, codes(answer)) == (403, [shipped().documented_code(op, 403)])


def test_the_operations_refusing_app_keys_are_of_account_scope_resources_or_oauth_tokens() -> None:
    """The index's security and the resource table agree: what refuses an app key is an operation on
    apps or app keys (the account-scope resources) or one of the OAuth token's own."""
    tabled = {op for item in RESOURCES if item.scope == "account" for op in item.operations.values()}
    refused = {op.operation_id: op.scopes for op in shipped().refusing("app")}
    account_only = {op for op, scopes in refused.items() if scopes == {"account"}}
    assert account_only, "no operation needs an account key: the scope tests would try nothing"
    assert account_only <= tabled
    assert all(scopes == {"integration"} for op, scopes in refused.items() if op not in account_only)
    assert account_only <= {op.operation_id for op in shipped().refusing("integration")}
