"""The sandbox over a real socket: auth, validation, the Integrations operations, pagination and the CLI.

Every answer goes through ``checked``, which holds it to the schema its operation documents for
that status (the error envelope for an undocumented error) and to the writeOnly rule.
"""

from __future__ import annotations

import base64
import re
import signal
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from conformance.sandbox import DEFAULT_APP_ID, DEFAULT_KEY_ID, DEFAULT_KEY_SECRET, Sandbox
from conformance.sandbox.api import Request, Response
from conformance.schemas import annotated_pointers, operation, resolve, validator

ROOT = Path(__file__).resolve().parent.parent
JSON_TYPE = "application/json; charset=utf-8"
ERROR_SCHEMA = "error-response.json"
HEX24 = re.compile(r"^[0-9a-f]{24}$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
OTHER_ID = "0123456789abcdef01234567"
MISSING = object()
BOTH_CURSORS = "Only one of page[after] or page[before] may be provided"

# The smallest body each type accepts, plus any write-only fields it can carry.
MINIMAL: dict[str, dict[str, Any]] = {
    "android": {"projectId": "p-1", "clientEmail": "fcm@example.com", "privateKey": "-----KEY-----"},
    "apple": {"businessId": "b-1", "apiSecret": "api-secret", "mspId": "msp-1"},
    "custom": {"webhooks": [{"target": "https://example.com/hook", "triggers": ["conversation:message"]}]},
    "instagram": {"pageAccessToken": "page-token", "appId": "fb-app", "appSecret": "fb-secret"},
    "ios": {"certificate": "base64-cert", "password": "cert-password"},
    "line": {},
    "mailgun": {"apiKey": "key-1", "domain": "mail.example.com", "incomingAddress": "in@mail.example.com"},
    "messagebird": {"accessKey": "access", "signingKey": "signing", "originator": "12345"},
    "messenger": {"pageAccessToken": "page-token", "appId": "fb-app", "appSecret": "fb-secret"},
    "telegram": {"token": "bot-token"},
    "twilio": {"accountSid": "AC0123", "authToken": "auth-token"},
    "twitter": {
        "tier": "enterprise",
        "consumerKey": "ck",
        "consumerSecret": "cs",
        "accessTokenKey": "atk",
        "accessTokenSecret": "ats",
    },
    "unity": {},
    "viber": {"token": "viber-token"},
    "web": {"defaultResponderId": "responder-1"},
    "whatsapp": {},
}


def body_of(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, **MINIMAL[kind], **extra}


def checked(operation_id: str | None, response: requests.Response) -> Any:
    """The JSON body, after checking it against what the operation documents for the status."""
    assert response.headers["Content-Type"] == JSON_TYPE
    body = response.json()
    status = response.status_code
    ref = operation(operation_id).response_schema(status) if operation_id else None
    if ref is None:
        assert status >= 400, f"{operation_id} answered {status}, which it does not document"
        ref = ERROR_SCHEMA
    errors = [error.message for error in validator(ref).iter_errors(body)]
    assert errors == [], f"{operation_id} {status} breaks {ref}: {errors}"
    if status < 400:
        assert annotated_pointers(ref, body) == [], "a write-only field came back"
    return body


class Api:
    """Calls by operationId against one sandbox, every answer checked."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.auth: Any = (sandbox.key_id, sandbox.key_secret)

    def url(self, operation_id: str, **params: str) -> str:
        op = operation(operation_id)
        return self.sandbox.url + op.path.format(**{"appId": self.sandbox.app_id, **params})

    def call(
        self,
        operation_id: str,
        *,
        body: Any = MISSING,
        data: str | None = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        auth: Any = MISSING,
        **params: str,
    ) -> tuple[int, Any]:
        response = requests.request(
            operation(operation_id).method,
            self.url(operation_id, **params),
            json=None if body is MISSING else body,
            data=data,
            params=query,
            headers=headers,
            auth=self.auth if auth is MISSING else auth,
            timeout=10,
        )
        return response.status_code, checked(operation_id, response)

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        status, answer = self.call("CreateIntegration", body=body)
        assert status == 201, answer
        return answer["integration"]

    def list(self, **query: str) -> tuple[int, Any]:
        return self.call("ListIntegrations", query=query)


def titles(answer: Any) -> list[str]:
    return [error["title"] for error in answer["errors"]]


def codes(answer: Any) -> list[str]:
    return [error["code"] for error in answer["errors"]]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox("127.0.0.1", 0) as running:
        yield running


@pytest.fixture
def api(sandbox: Sandbox) -> Api:
    return Api(sandbox)


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


@pytest.mark.parametrize("scope", ["app", "account"])
def test_basic_and_jwt_credentials_are_accepted(api: Api, scope: str) -> None:
    assert api.list()[0] == 200
    status, _ = api.call("ListIntegrations", headers={"Authorization": f"Bearer {token(scope)}"}, auth=None)
    assert status == 200


@pytest.mark.parametrize(
    "bearer",
    [
        token(kid="app_000000000000000000000000"),
        token(kid=None),
        token(secret="another-secret-that-is-long-enough-for-hs256"),
        token(algorithm="HS512"),
        token(algorithm="none"),
        token(scope=None),
        token(scope="integration"),
    ],
    ids=["wrong kid", "no kid", "wrong secret", "HS512", "alg none", "no scope", "integration scope"],
)
def test_unacceptable_jwts_are_rejected(api: Api, bearer: str) -> None:
    status, answer = api.call("ListIntegrations", headers={"Authorization": f"Bearer {bearer}"}, auth=None)
    assert status == 401
    assert codes(answer) == ["unauthorized"]


# -- Create ------------------------------------------------------------------------------------


def test_minimal_bodies_cover_every_documented_type() -> None:
    assert sorted(MINIMAL) == sorted(resolve("integration.json#/$defs/types")["enum"])


@pytest.mark.parametrize("kind", sorted(MINIMAL))
def test_create_accepts_every_type(api: Api, kind: str) -> None:
    sent = body_of(kind, displayName=f"My {kind}")
    created = api.create(sent)
    assert HEX24.match(created["id"])
    assert (created["type"], created["status"], created["displayName"]) == (kind, "active", f"My {kind}")
    write_only = annotated_pointers("integration.json", sent)
    assert not [pointer for pointer in write_only if pointer.lstrip("/") in created]
    status, fetched = api.call("GetIntegration", integrationId=created["id"])
    assert (status, fetched["integration"]) == (200, created)


def test_create_keeps_sent_fields_and_drops_read_only_ones(api: Api) -> None:
    sent = body_of("instagram", id=OTHER_ID, status="inactive", businessName="mine", storyRepliesEnabled=False)
    created = api.create(sent)
    assert created["id"] != OTHER_ID
    assert created["status"] == "active"
    assert "businessName" not in created
    assert created["storyRepliesEnabled"] is False
    assert created["appId"] == "fb-app"
    assert "displayName" not in created


def test_create_generates_server_fields(api: Api) -> None:
    hook = api.create(body_of("custom"))["webhooks"][0]
    assert HEX24.match(hook["id"])
    assert HEX32.match(hook["secret"])
    assert (hook["version"], hook["includeFullUser"], hook["includeFullSource"]) == ("v2", False, False)
    assert (hook["target"], hook["triggers"]) == ("https://example.com/hook", ["conversation:message"])
    assert HEX32.match(api.create(body_of("messagebird"))["webhookSecret"])
    assert "envName" not in api.create(body_of("twitter"))


@pytest.mark.parametrize(
    ("body", "data", "title"),
    [
        (MISSING, '{"type": "web"', "Request body is not valid JSON"),
        (MISSING, "type=web", "Request body is not valid JSON"),
        (MISSING, '{"type": "web", "brandColor": NaN}', "Request body is not valid JSON"),
        (MISSING, "", "Request body is not valid JSON"),
        (["web"], None, "Request body must be a JSON object"),
        ({"displayName": "no type"}, None, "type is required"),
        ({"type": "fax"}, None, "Invalid integration type"),
        ({"type": 7}, None, "Invalid integration type"),
        ({}, None, "type is required"),
        (body_of("web", displayName="x" * 101), None, "displayName: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…' is too long "
         "(maxLength 100)"),
        (body_of("web", displayName=False), None, "displayName: false is not of type 'string', 'null'"),
        ({"type": "telegram"}, None, "token is required"),
        ({"type": "custom", "webhooks": [{"target": "https://example.com"}]}, None, "webhooks[0].triggers is required"),
        (body_of("twitter", tier="standard"), None, "tier: 'standard' is not one of ['enterprise']"),
    ],
    ids=["truncated", "form", "NaN", "empty", "array", "no type", "unknown type", "type not a string", "{}",
         "long name", "name not a string", "no token", "webhook without triggers", "bad tier"],
)  # fmt: skip
def test_create_rejects_invalid_bodies(api: Api, body: Any, data: str | None, title: str) -> None:
    headers = {"Content-Type": "application/json"} if data is not None else None
    status, answer = api.call("CreateIntegration", body=body, data=data, headers=headers)
    assert status == 400
    assert set(codes(answer)) == {"bad_request"}
    assert title in titles(answer)
    assert api.list()[1]["integrations"] == []


def test_create_reports_every_missing_field(api: Api) -> None:
    status, answer = api.call("CreateIntegration", body={"type": "apple"})
    assert status == 400
    assert titles(answer) == ["apiSecret is required", "businessId is required", "mspId is required"]


def test_oversized_body_is_refused(api: Api) -> None:
    status, answer = api.call("CreateIntegration", body=body_of("web", businessName="x" * 200_000))
    assert status == 413
    assert codes(answer) == ["payload_too_large"]


# -- Get, Update, Delete -----------------------------------------------------------------------


def test_get_update_delete_flow(api: Api) -> None:
    created = api.create(body_of("web", displayName="Before"))
    target = {"integrationId": created["id"]}
    status, answer = api.call("UpdateIntegration", body={"displayName": "After", "brandColor": "112233"}, **target)
    assert status == 200
    assert answer["integration"] == {**created, "displayName": "After", "brandColor": "112233"}
    assert api.call("GetIntegration", **target)[1] == answer
    assert api.call("DeleteIntegration", **target) == (200, {})
    for operation_id in ("GetIntegration", "DeleteIntegration", "UpdateIntegration"):
        status, answer = api.call(operation_id, body={"displayName": "x"}, **target)
        assert status == 404
        assert answer == {"errors": [{"code": "integration_not_found", "title": "Integration not found"}]}


def test_update_is_validated_against_the_stored_type(api: Api) -> None:
    apple = api.create(body_of("apple"))
    web = api.create(body_of("web"))
    short = {"authenticationMessageSecret": "too-short"}
    status, answer = api.call("UpdateIntegration", body=short, integrationId=apple["id"])
    assert status == 400
    assert titles(answer) == ["authenticationMessageSecret: 'too-short' is too short (minLength 88)"]
    # Web does not know the field: the update passes and the field is ignored.
    status, answer = api.call("UpdateIntegration", body=short, integrationId=web["id"])
    assert (status, answer["integration"]) == (200, web)
    status, answer = api.call("UpdateIntegration", body={"fixedIntroPane": "yes"}, integrationId=web["id"])
    assert status == 400
    assert codes(answer) == ["bad_request"]


@pytest.mark.parametrize(
    ("body", "title"),
    [
        ({"displayName": ""}, "displayName: '' should be non-empty (minLength 1)"),
        ([], "Request body must be a JSON object"),
    ],
)
def test_update_rejects_invalid_bodies(api: Api, body: Any, title: str) -> None:
    created = api.create(body_of("custom"))
    status, answer = api.call("UpdateIntegration", body=body, integrationId=created["id"])
    assert status == 400
    assert title in titles(answer)
    assert api.call("GetIntegration", integrationId=created["id"])[1]["integration"] == created


def test_update_null_removes_and_write_only_is_never_stored(api: Api) -> None:
    created = api.create(body_of("android", displayName="Named"))
    body = {"displayName": None, "projectId": "new-project", "canUserSeeConversationList": False}
    status, answer = api.call("UpdateIntegration", body=body, integrationId=created["id"])
    assert status == 200
    assert "displayName" not in answer["integration"]
    assert "projectId" not in answer["integration"]
    assert answer["integration"]["canUserSeeConversationList"] is False


def test_update_cannot_change_server_fields(api: Api) -> None:
    created = api.create(body_of("line"))
    body = {"id": OTHER_ID, "type": "web", "status": "inactive", "lineId": "mine"}
    status, answer = api.call("UpdateIntegration", body=body, integrationId=created["id"])
    assert (status, answer["integration"]) == (200, created)


# -- List and pagination -----------------------------------------------------------------------


def test_list_walks_forward_and_back_with_cursors(api: Api) -> None:
    ids = [api.create(body_of("telegram", displayName=f"bot {n}"))["id"] for n in range(7)]
    pages: list[Any] = []
    query = {"page[size]": "3"}
    while True:
        status, page = api.list(**query)
        assert status == 200
        pages.append(page)
        if not page["meta"]["hasMore"]:
            break
        query = {"page[size]": "3", "page[after]": page["meta"]["afterCursor"]}
    assert [[item["id"] for item in page["integrations"]] for page in pages] == [ids[0:3], ids[3:6], ids[6:7]]
    assert pages[0]["meta"] == {"hasMore": True, "afterCursor": ids[2]}
    assert pages[1]["meta"] == {"hasMore": True, "afterCursor": ids[5], "beforeCursor": ids[3]}
    assert pages[2]["meta"] == {"hasMore": False, "beforeCursor": ids[6]}
    assert "prev" not in pages[0]["links"]
    assert "next" not in pages[2]["links"]

    status, back = api.list(**{"page[size]": "3", "page[before]": ids[6]})
    assert [item["id"] for item in back["integrations"]] == ids[3:6]
    assert back["meta"] == {"hasMore": True, "afterCursor": ids[5], "beforeCursor": ids[3]}
    status, first = api.list(**{"page[size]": "3", "page[before]": back["meta"]["beforeCursor"]})
    assert [item["id"] for item in first["integrations"]] == ids[0:3]
    assert first["meta"] == {"hasMore": False, "afterCursor": ids[2]}


def test_list_links_can_be_followed(api: Api, sandbox: Sandbox) -> None:
    ids = [api.create(body_of("web"))["id"] for _ in range(5)]
    api.create(body_of("line"))
    _, page = api.list(**{"page[size]": "2", "filter[types]": "web"})
    seen = [item["id"] for item in page["integrations"]]
    while "next" in page["links"]:
        link = page["links"]["next"]
        assert link.startswith(f"{sandbox.url}/v2/apps/{sandbox.app_id}/integrations?")
        assert "page[size]=2" in link
        assert "filter[types]=web" in link
        page = checked("ListIntegrations", requests.get(link, auth=api.auth, timeout=10))
        seen += [item["id"] for item in page["integrations"]]
    assert seen == ids
    prev = checked("ListIntegrations", requests.get(page["links"]["prev"], auth=api.auth, timeout=10))
    assert [item["id"] for item in prev["integrations"]] == ids[2:4]


def test_list_defaults(api: Api) -> None:
    assert api.list() == (200, {"integrations": [], "meta": {"hasMore": False}, "links": {}})
    ids = [api.create(body_of("unity"))["id"] for _ in range(26)]
    _, page = api.list()
    assert [item["id"] for item in page["integrations"]] == ids[:25]
    assert page["meta"] == {"hasMore": True, "afterCursor": ids[24]}


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ({"page[after]": OTHER_ID, "page[before]": OTHER_ID}, BOTH_CURSORS),
        ({"page[size]": "0"}, "page[size] must be an integer from 1 to 100"),
        ({"page[size]": "101"}, "page[size] must be an integer from 1 to 100"),
        ({"page[size]": "-1"}, "page[size] must be an integer from 1 to 100"),
        ({"page[size]": "many"}, "page[size] must be an integer from 1 to 100"),
        ({"page[after]": OTHER_ID}, f"page[after] '{OTHER_ID}' does not point to a record in this list"),
        ({"page[before]": "short"}, "page[before] must be a record id"),
        ({"filter[types]": "web,fax"}, "filter[types]: 'fax' is not an integration type"),
        ({"page[limit]": "3"}, "Unknown query parameter 'page[limit]'"),
    ],
    ids=["both cursors", "size 0", "size 101", "size -1", "size many", "unknown cursor", "short cursor",
         "unknown type", "unknown parameter"],
)  # fmt: skip
def test_list_rejects_invalid_queries(api: Api, query: dict[str, str], title: str) -> None:
    api.create(body_of("web"))
    status, answer = api.list(**query)
    assert status == 400
    assert set(codes(answer)) == {"bad_request"}
    assert title in titles(answer)


def test_list_filters_by_type_before_paginating(api: Api) -> None:
    made = {kind: [api.create(body_of(kind))["id"] for _ in range(3)] for kind in ("web", "custom", "line")}
    _, page = api.list(**{"filter[types]": "custom,line", "page[size]": "4"})
    assert [item["id"] for item in page["integrations"]] == made["custom"] + made["line"][:1]
    assert page["meta"]["hasMore"] is True
    _, page = api.list(**{"filter[types]": "web"})
    assert {item["type"] for item in page["integrations"]} == {"web"}
    assert len(page["integrations"]) == 3


def test_concurrent_creates_are_all_kept(api: Api) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        created = list(pool.map(lambda n: api.create(body_of("web", displayName=f"w{n}"))["id"], range(24)))
    _, page = api.list(**{"page[size]": "100"})
    assert len(set(created)) == 24
    assert sorted(item["id"] for item in page["integrations"]) == sorted(created)


# -- Routing and the generic steps ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/v2/nothing", "/v2/apps/{app}/integrations/{id}/nothing", "/v1/integrations"])
def test_unknown_routes_are_404(sandbox: Sandbox, path: str) -> None:
    url = sandbox.url + path.format(app=sandbox.app_id, id=OTHER_ID)
    answer = checked(None, requests.get(url, auth=(sandbox.key_id, sandbox.key_secret), timeout=10))
    assert codes(answer) == ["not_found"]


@pytest.mark.parametrize("method", ["PUT", "PROPFIND"])
def test_wrong_method_is_405(sandbox: Sandbox, method: str) -> None:
    url = f"{sandbox.url}/v2/apps/{sandbox.app_id}/integrations"
    response = requests.request(method, url, json={}, auth=(sandbox.key_id, sandbox.key_secret), timeout=10)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"
    assert codes(checked(None, response)) == ["method_not_allowed"]


@pytest.mark.parametrize("operation_id", ["CreateIntegration", "ListIntegrations", "GetIntegration"])
def test_other_apps_are_404(api: Api, operation_id: str) -> None:
    status, answer = api.call(operation_id, body=body_of("web"), appId=OTHER_ID, integrationId=OTHER_ID)
    assert status == 404
    assert answer == {"errors": [{"code": "app_not_found", "title": "App not found"}]}


def test_a_failing_handler_answers_500_and_the_server_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    def broken(request: Request) -> Response:
        raise RuntimeError("boom")

    with Sandbox(handlers={"GetIntegration": broken}) as running:
        api = Api(running)
        with caplog.at_level("CRITICAL"):
            status, answer = api.call("GetIntegration", integrationId=OTHER_ID)
        assert status == 500
        assert codes(answer) == ["internal_error"]
        assert api.list()[0] == 200


def test_a_leaking_handler_has_its_write_only_fields_removed(caplog: pytest.LogCaptureFixture) -> None:
    leaked = {"id": OTHER_ID, "type": "telegram", "status": "active", "token": "bot-token", "botId": "7"}

    def leaky(request: Request) -> Response:
        return Response(200, {"integration": dict(leaked)})

    with Sandbox(handlers={"GetIntegration": leaky}) as running, caplog.at_level("WARNING"):
        status, answer = Api(running).call("GetIntegration", integrationId=OTHER_ID)
    assert status == 200
    assert answer["integration"] == {key: value for key, value in leaked.items() if key != "token"}
    assert "/integration/token" in caplog.text


def test_an_operation_without_handler_answers_501(sandbox: Sandbox, api: Api) -> None:
    del sandbox.handlers["GetIntegration"]
    status, answer = api.call("GetIntegration", integrationId=OTHER_ID)
    assert status == 501
    assert codes(answer) == ["not_implemented"]


def test_sandbox_settings_and_lifecycle() -> None:
    with pytest.raises(ValueError, match="24 lowercase hexadecimal"):
        Sandbox(app_id="not-an-app")
    with pytest.raises(RuntimeError, match="no port"):
        _ = Sandbox().url
    assert Sandbox(port=8089).url == "http://127.0.0.1:8089"
    custom = Sandbox(app_id=OTHER_ID, key_id="app_custom", key_secret="a-custom-secret-long-enough-for-hs256")
    assert custom.start() is custom.start()
    kept_alive = requests.Session()
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", custom.url)
        created = Api(custom).create(body_of("web"))
        assert kept_alive.get(custom.url + "/", timeout=2).status_code == 404
    finally:
        custom.stop()
    # Neither a new connection nor one kept alive from before reaches a stopped sandbox.
    for client in (requests, kept_alive):
        with pytest.raises(requests.ConnectionError):
            client.get(custom.url + "/", timeout=2)
    # A restart serves the same URL and still holds what was created.
    url = custom.url
    with custom:
        assert custom.url == url
        assert Api(custom).list()[1]["integrations"] == [created]
    assert HEX24.match(DEFAULT_APP_ID)


# -- CLI -----------------------------------------------------------------------------------------

CLI = """
import argparse, sys
from conformance.sandbox import cli
parser = argparse.ArgumentParser()
cli.add_arguments(parser)
sys.exit(cli.run(parser.parse_args(sys.argv[1:])))
"""


def run_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", CLI, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_cli_serves_until_signalled(stop_signal: signal.Signals) -> None:
    process = run_cli("--port", "0")
    watchdog = threading.Timer(30, process.kill)
    watchdog.start()
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip()]
        match = re.fullmatch(r"sandbox listening on (http://127\.0\.0\.1:\d+)", lines[0])
        assert match, lines[0]
        while lines[-1] and not lines[-1].startswith("press Ctrl-C"):
            lines.append(process.stdout.readline().strip())
        url = match.group(1)
        response = requests.get(f"{url}/v2/apps/{DEFAULT_APP_ID}/integrations",
                                auth=(DEFAULT_KEY_ID, DEFAULT_KEY_SECRET), timeout=10)  # fmt: skip
        assert response.status_code == 200
        process.send_signal(stop_signal)
        out, err = process.communicate(timeout=20)
    finally:
        watchdog.cancel()
        process.kill()
    assert process.returncode == 0
    assert "Traceback" not in err
    assert f"export SUNCO_API_URL={url} SUNCO_APP_ID={DEFAULT_APP_ID}" in lines
    assert f"export SUNCO_KEY_ID={DEFAULT_KEY_ID} SUNCO_KEY_SECRET={DEFAULT_KEY_SECRET}" in lines
    assert out == "sandbox stopped\n"


@pytest.mark.parametrize(
    ("args", "named"),
    [(("--port", "70000"), "--port"), (("--app-id", "xyz"), "--app-id"), (("--key-id", "a b"), "--key-id")],
)
def test_cli_rejects_invalid_options(args: tuple[str, ...], named: str) -> None:
    process = run_cli(*args)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert named in lines[0]
    assert "use " in lines[0]
