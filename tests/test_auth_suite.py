"""The credentials suite's own parts: which wrong credentials each operation gets, and the headers they make."""

from __future__ import annotations

import base64

import jwt
import pytest

from conformance.contract.schemas import shipped
from conformance.suites.test_auth import WRONG, wrong_authorization, wrong_kinds
from conformance.transport.client import Client, needs_account
from conformance.transport.settings import Settings

APP_KEY = ("app_0123456789abcdef01234567", "the-app-key-secret-long-enough-for-hs256")
ACCOUNT_KEY = ("act_76543210fedcba9876543210", "the-account-key-secret-long-enough-for-hs256")
DRAWN = {"secret": "w" * 40, "unknownKey": "abcdef0123456789abcdef01"}


def client(auth: str = "basic") -> Client:
    return Client(
        Settings(
            "http://127.0.0.1:1", "5a4db0c5a4db0c5a4db0c5a4", *APP_KEY, auth=auth,
            account_key_id=ACCOUNT_KEY[0], account_key_secret=ACCOUNT_KEY[1],
        )
    )  # fmt: skip


def test_each_kind_of_wrong_credentials_is_tried_on_account_and_app_scope_operations() -> None:
    chosen = wrong_kinds()
    for kind in WRONG:
        tried = [shipped().operation(op) for op, given in chosen.items() if given == kind]
        assert any(needs_account(op) for op in tried), kind
        assert any("app" in op.scopes for op in tried), kind


def sent(header: str) -> tuple[str, str, str]:
    """(scheme, key id, secret or JWT scope) of an Authorization header, the JWT checked against the drawn secret."""
    scheme, _, value = header.partition(" ")
    if scheme == "Basic":
        key_id, _, secret = base64.b64decode(value).decode().partition(":")
        return scheme, key_id, secret
    claims = jwt.decode(value, DRAWN["secret"], algorithms=["HS256"])
    return scheme, jwt.get_unverified_header(value)["kid"], claims["scope"]


@pytest.mark.parametrize("auth", ["basic", "jwt"])
@pytest.mark.parametrize(
    ("kind", "operation_id", "expected"),
    [
        ("basic-wrong-secret", "ListApps", ("Basic", ACCOUNT_KEY[0], DRAWN["secret"])),
        ("basic-wrong-secret", "GetUser", ("Basic", APP_KEY[0], DRAWN["secret"])),
        ("basic-unknown-key", "ListAppKeys", ("Basic", "act_" + DRAWN["unknownKey"], DRAWN["secret"])),
        ("basic-unknown-key", "ListUsers", ("Basic", "app_" + DRAWN["unknownKey"], DRAWN["secret"])),
        ("jwt-wrong-secret", "ListApps", ("Bearer", ACCOUNT_KEY[0], "account")),
        ("jwt-wrong-secret", "GetUser", ("Bearer", APP_KEY[0], "app")),
        ("jwt-unknown-kid", "DeleteApp", ("Bearer", "act_" + DRAWN["unknownKey"], "account")),
        ("jwt-unknown-kid", "ListUsers", ("Bearer", "app_" + DRAWN["unknownKey"], "app")),
    ],
)
def test_wrong_credentials_use_the_operations_key_or_an_unknown_id_of_its_form_with_the_drawn_secret(
    kind: str, operation_id: str, expected: tuple[str, str, str], auth: str
) -> None:
    """Whatever the settings' own mode, each kind names its scheme; the real secrets never go out."""
    credentials = {"kind": kind, "secret": DRAWN["secret"]}
    if "unknown" in kind:
        credentials["unknownKey"] = DRAWN["unknownKey"]
    header = wrong_authorization(client(auth), shipped().operation(operation_id), credentials)
    assert sent(header) == expected
    assert APP_KEY[1] not in header
    assert ACCOUNT_KEY[1] not in header
