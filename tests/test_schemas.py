"""The schema files themselves: well-formed, wired together, and saying what the API says.

Data-driven in the manner of the JSON Schema test suite: each case names a schema, an instance
and whether the instance is valid, and one parametrized test runs them all.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any, NamedTuple
from urllib.parse import urljoin

import jsonschema
import pytest

from conformance.schemas import (
    BASE_URI,
    INDEX_FILE,
    SCHEMA_DIR,
    iter_schema_files,
    load_index,
    read_only_fields,
    registry,
    validator,
    write_only_fields,
)

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_FILES = [path.name for path in iter_schema_files()]
TYPES = (
    "android", "apple", "custom", "instagram", "ios", "line", "mailgun", "messagebird",
    "messenger", "telegram", "twilio", "twitter", "unity", "viber", "web", "whatsapp",
)  # fmt: skip
CREATE = "integration-create.request.json"
UPDATE = "integration-update.request.json"
CURSOR = "5e1606762556d93e9c176f69"


def load(name: str) -> Any:
    with (SCHEMA_DIR / name).open(encoding="utf-8") as handle:
        return json.load(handle)


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every object (schema or not) anywhere inside a JSON document."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


# --------------------------------------------------------------------------- the files themselves


def test_schema_directory_holds_the_expected_files():
    assert set(SCHEMA_FILES) == {
        "empty.response.json",
        "error-response.json",
        "integration-create.request.json",
        "integration-list.query.json",
        "integration-list.response.json",
        "integration-update.request.json",
        "integration.json",
        "integration.response.json",
        "pagination.json",
    }
    assert (SCHEMA_DIR / INDEX_FILE).is_file()


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_is_a_valid_draft_2020_12_schema(name):
    schema = load(name)
    assert schema["$schema"] == DRAFT_2020_12
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_id_is_base_uri_plus_file_name(name):
    assert load(name)["$id"] == BASE_URI + name


@pytest.mark.parametrize("name", [*SCHEMA_FILES, INDEX_FILE])
def test_openapi_only_keywords_are_gone(name):
    text = (SCHEMA_DIR / name).read_text(encoding="utf-8")
    assert "nullable" not in text
    for node in walk(load(name)):
        assert not {"example", "discriminator"} & node.keys()
        assert not [key for key in node if key.startswith("x-")]


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_extra_fields_are_only_forbidden_for_query_strings(name):
    closed = [node for node in walk(load(name)) if node.get("additionalProperties") is False]
    if name == "integration-list.query.json":
        assert closed == [load(name)]
    else:
        assert closed == []


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_every_ref_resolves(name):
    schema = load(name)
    resolver = registry().resolver()
    refs = [node["$ref"] for node in walk(schema) if isinstance(node.get("$ref"), str)]
    for ref in refs:
        resolved = resolver.lookup(urljoin(schema["$id"], ref)).contents
        assert isinstance(resolved, dict), ref


def test_index_is_not_a_schema():
    index = load(INDEX_FILE)
    assert "$schema" not in index
    assert "$id" not in index
    assert isinstance(index["$comment"], str)
    assert index["$comment"]


EXPECTED_OPERATIONS = {
    "CreateIntegration": ("POST", "/v2/apps/{appId}/integrations", (201, 400)),
    "ListIntegrations": ("GET", "/v2/apps/{appId}/integrations", (200, 400)),
    "GetIntegration": ("GET", "/v2/apps/{appId}/integrations/{integrationId}", (200, 404)),
    "UpdateIntegration": ("PATCH", "/v2/apps/{appId}/integrations/{integrationId}", (200, 404)),
    "DeleteIntegration": ("DELETE", "/v2/apps/{appId}/integrations/{integrationId}", (200, 400, 404)),
}


def test_index_lists_the_integration_operations():
    assert set(load_index()) == set(EXPECTED_OPERATIONS)


@pytest.mark.parametrize("operation_id", sorted(EXPECTED_OPERATIONS))
def test_index_entry(operation_id):
    method, path, statuses = EXPECTED_OPERATIONS[operation_id]
    entry = load_index()[operation_id]
    assert (entry.resource, entry.method, entry.path) == ("integrations", method, path)
    assert entry.documented_statuses == statuses
    referenced = [entry.request, entry.query, *entry.responses.values()]
    for name in filter(None, referenced):
        assert name in SCHEMA_FILES
        validator(name)  # builds, and its reference resolves
    for status in statuses:
        if status >= 400:
            assert entry.response_schema(status) == "error-response.json"


@pytest.mark.parametrize(
    ("operation_id", "request_file", "query_file"),
    [
        ("CreateIntegration", CREATE, None),
        ("ListIntegrations", None, "integration-list.query.json"),
        ("GetIntegration", None, None),
        ("UpdateIntegration", UPDATE, None),
        ("DeleteIntegration", None, None),
    ],
)
def test_index_request_and_query_files(operation_id, request_file, query_file):
    entry = load_index()[operation_id]
    assert (entry.request, entry.query) == (request_file, query_file)


# --------------------------------------------------------------------------- structure


def test_integration_has_one_refinement_per_type():
    schema = load("integration.json")
    assert schema["$defs"]["types"] == {"enum": list(TYPES)}
    branches = {branch["if"]["properties"]["type"]["const"]: branch["then"]["$ref"] for branch in schema["allOf"]}
    assert branches == {t: f"#/$defs/{t}" for t in TYPES}


@pytest.mark.parametrize("integration_type", TYPES)
def test_response_type_defs_have_no_required_lists(integration_type):
    assert "required" not in load("integration.json")["$defs"][integration_type]


@pytest.mark.parametrize("integration_type", TYPES)
def test_update_type_defs_are_objects(integration_type):
    definition = load(UPDATE)["$defs"][integration_type]
    assert definition["type"] == "object"
    assert {"$ref": f"#/$defs/{integration_type}"} in load(UPDATE)["anyOf"]
    validator(f"{UPDATE}#/$defs/{integration_type}")


def test_write_only_fields():
    fields = write_only_fields("integration.json")
    expected = {"privateKey", "authToken", "apiSecret", "appSecret", "token", "consumerSecret", "apiKey"}
    assert expected | {"accessKey"} <= fields
    assert not {"displayName", "type", "id", "status"} & fields


def test_read_only_fields():
    fields = read_only_fields("integration.json")
    assert {"id", "status", "attachmentsEnabled", "defaultResponder", "webhookSecret"} <= fields
    assert not {"displayName", "type", "authToken"} & fields


@pytest.mark.parametrize(
    ("ref", "present", "absent"),
    [
        ("integration.json#/$defs/mailgun", {"apiKey", "defaultResponderId"}, {"signingKey"}),
        ("integration.json#/$defs/messagebird", {"accessKey", "signingKey"}, set()),
        ("integration.json#/$defs/messenger", {"appSecret"}, {"pageAccessToken"}),
        ("integration.json#/$defs/instagram", {"appSecret", "pageAccessToken"}, set()),
        ("integration.json#/$defs/custom", set(), {"defaultResponderId", "secret"}),
        ("integration.json#/$defs/web", {"defaultResponderId"}, {"brandColor"}),
    ],
)
def test_write_only_fields_per_type(ref, present, absent):
    fields = write_only_fields(ref)
    assert present <= fields
    assert not absent & fields


# --------------------------------------------------------------------------- instances


class Case(NamedTuple):
    description: str
    schema: str
    data: Any
    valid: bool


def webhook(**extra: Any) -> dict[str, Any]:
    return {"target": "https://example.test/hook", "triggers": ["conversation:message"], **extra}


MINIMAL_CREATE: dict[str, dict[str, Any]] = {
    "android": {"type": "android"},
    "apple": {"type": "apple", "businessId": "biz", "apiSecret": "secret", "mspId": "msp"},
    "custom": {"type": "custom", "webhooks": [webhook()]},
    "instagram": {"type": "instagram", "pageAccessToken": "pat", "appId": "app", "appSecret": "shh"},
    "ios": {"type": "ios"},
    "line": {"type": "line"},
    "mailgun": {
        "type": "mailgun",
        "apiKey": "key",
        "domain": "mg.example.test",
        "incomingAddress": "in@mg.example.test",
    },
    "messagebird": {"type": "messagebird", "accessKey": "ak", "signingKey": "sk", "originator": "+15550100"},
    "messenger": {"type": "messenger", "pageAccessToken": "pat", "appId": "app", "appSecret": "shh"},
    "telegram": {"type": "telegram", "token": "tok"},
    "twilio": {"type": "twilio", "accountSid": "AC1", "authToken": "tok", "phoneNumberSid": "PN1"},
    "twitter": {
        "type": "twitter",
        "tier": "enterprise",
        "consumerKey": "ck",
        "consumerSecret": "cs",
        "accessTokenKey": "atk",
        "accessTokenSecret": "ats",
    },
    "unity": {"type": "unity"},
    "viber": {"type": "viber", "token": "tok"},
    "web": {"type": "web"},
    "whatsapp": {"type": "whatsapp"},
}
CREATE_REQUIRED: dict[str, tuple[str, ...]] = {
    "apple": ("businessId", "apiSecret", "mspId"),
    "custom": ("webhooks",),
    "instagram": ("pageAccessToken", "appId", "appSecret"),
    "mailgun": ("apiKey", "domain", "incomingAddress"),
    "messagebird": ("accessKey", "signingKey", "originator"),
    "messenger": ("pageAccessToken", "appId", "appSecret"),
    "telegram": ("token",),
    "twilio": ("accountSid", "authToken"),
    "twitter": ("tier", "consumerKey", "consumerSecret", "accessTokenKey", "accessTokenSecret"),
    "viber": ("token",),
}
# Write-only credentials the spec marks nullable, but which a create call requires.
NULLABLE_BUT_REQUIRED = (
    ("instagram", "pageAccessToken"),
    ("instagram", "appSecret"),
    ("mailgun", "apiKey"),
    ("messagebird", "accessKey"),
    ("messagebird", "signingKey"),
    ("messenger", "pageAccessToken"),
    ("messenger", "appSecret"),
    ("telegram", "token"),
    ("twilio", "authToken"),
    ("twitter", "consumerSecret"),
    ("twitter", "accessTokenSecret"),
    ("viber", "token"),
)


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    merged.update(changes)
    return merged


def without(base: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in base.items() if k != key}


def create_cases() -> Iterator[Case]:
    for t, body in MINIMAL_CREATE.items():
        yield Case(f"minimal {t}", CREATE, body, True)
        yield Case(f"{t} with a display name", CREATE, with_(body, displayName="Support"), True)
        yield Case(f"{t} with a null display name", CREATE, with_(body, displayName=None), True)
        yield Case(f"{t} with an empty display name", CREATE, with_(body, displayName=""), False)
        for field in CREATE_REQUIRED.get(t, ()):
            yield Case(f"{t} without {field}", CREATE, without(body, field), False)
    for t, field in NULLABLE_BUT_REQUIRED:
        yield Case(f"{t} with null {field}", CREATE, with_(MINIMAL_CREATE[t], **{field: None}), False)
    web = MINIMAL_CREATE["web"]
    custom = MINIMAL_CREATE["custom"]
    yield from [
        Case("empty body", CREATE, {}, False),
        Case("not an object", CREATE, [], False),
        Case("missing type", CREATE, {"displayName": "Support"}, False),
        Case("unknown type", CREATE, {"type": "carrier-pigeon"}, False),
        Case("type of the wrong kind", CREATE, {"type": 7}, False),
        Case("display name of 100 chars", CREATE, with_(web, displayName="x" * 100), True),
        Case("display name of 101 chars", CREATE, with_(web, displayName="x" * 101), False),
        Case("display name that is a number", CREATE, with_(web, displayName=123), False),
        Case("unknown extra field", CREATE, with_(web, somethingNew=True), True),
        Case("read-only status is still type-checked", CREATE, with_(web, status="asleep"), False),
        Case("android private key may be null", CREATE, {"type": "android", "privateKey": None}, True),
        Case("android private key may not be empty", CREATE, {"type": "android", "privateKey": ""}, False),
        Case("custom with no webhooks", CREATE, with_(custom, webhooks=[]), False),
        Case("custom with two webhooks", CREATE, with_(custom, webhooks=[webhook(), webhook()]), False),
        Case("custom webhook without triggers", CREATE, with_(custom, webhooks=[{"target": "x"}]), False),
        Case(
            "custom webhook with full user",
            CREATE,
            with_(custom, webhooks=[webhook(includeFullUser=True, secret="s")]),
            True,
        ),
        Case(
            "twitter tier other than enterprise",
            CREATE,
            with_(MINIMAL_CREATE["twitter"], tier="premium"),
            False,
        ),
        Case("twilio auth token empty", CREATE, with_(MINIMAL_CREATE["twilio"], authToken=""), False),
        Case("telegram token of the wrong kind", CREATE, with_(MINIMAL_CREATE["telegram"], token=5), False),
        Case(
            "apple short auth secret",
            CREATE,
            with_(MINIMAL_CREATE["apple"], authenticationMessageSecret="x"),
            False,
        ),
        Case("web with brand color", CREATE, with_(web, brandColor="65758e"), True),
        Case("web integration order null", CREATE, with_(web, integrationOrder=None), True),
        Case("web integration order of numbers", CREATE, with_(web, integrationOrder=[1]), False),
        Case(
            "web prechat capture",
            CREATE,
            with_(
                web,
                prechatCapture={"enabled": True, "fields": [{"type": "email", "name": "e", "label": "E"}]},
            ),
            True,
        ),
        Case(
            "web prechat field of unknown kind",
            CREATE,
            with_(web, prechatCapture={"fields": [{"type": "phone", "name": "p", "label": "P"}]}),
            False,
        ),
        Case(
            "web prechat field without label",
            CREATE,
            with_(web, prechatCapture={"fields": [{"type": "text", "name": "t"}]}),
            False,
        ),
        Case("show AI disclaimer not boolean", CREATE, with_(web, showAIDisclaimer="yes"), False),
        Case("default responder id null", CREATE, with_(web, defaultResponderId=None), True),
        Case("whatsapp fallback language null", CREATE, {"type": "whatsapp", "hsmFallbackLanguage": None}, True),
        Case("messenger page id is a number", CREATE, with_(MINIMAL_CREATE["messenger"], pageId="p"), False),
    ]


UPDATE_SPECIFIC: list[tuple[str, dict[str, Any], bool]] = [
    ("android", {"privateKey": None, "canUserSeeConversationList": False}, True),
    ("android", {"privateKey": ""}, False),
    ("android", {"canUserCreateMoreConversations": "yes"}, False),
    ("apple", {"authenticationMessageSecret": "x" * 88}, True),
    ("apple", {"authenticationMessageSecret": "x" * 87}, False),
    ("custom", {"displayName": None}, True),
    ("instagram", {"pageAccessToken": "pat", "storyRepliesEnabled": False}, True),
    ("instagram", {"storyMentionsEnabled": "no"}, False),
    ("ios", {"certificate": "Y2VydA==", "production": True}, True),
    ("ios", {"production": "yes"}, False),
    ("line", {"showAIDisclaimer": "no"}, False),
    ("mailgun", {"fromAddress": None, "hideUnsubscribeLink": True}, True),
    ("mailgun", {"fromAddress": ""}, False),
    ("messagebird", {"defaultResponderId": None}, True),
    ("messagebird", {"defaultResponderId": 5}, False),
    ("messenger", {"pageAccessToken": "pat"}, True),
    ("messenger", {"pageAccessToken": None}, False),
    ("telegram", {"showAIDisclaimer": False}, True),
    ("twilio", {"showAIDisclaimer": 0}, False),
    ("twitter", {"defaultResponderId": "abc"}, True),
    ("unity", {"canUserSeeConversationList": 1}, False),
    ("viber", {"displayName": 5}, False),
    ("web", {"brandColor": "0099ff", "integrationOrder": None, "originWhitelist": ["https://a.test"]}, True),
    ("web", {"brandColor": 123}, False),
    ("web", {"prechatCapture": {"fields": [{"type": "phone", "name": "p", "label": "P"}]}}, False),
    ("whatsapp", {"hsmFallbackLanguage": None, "accountId": None}, True),
    ("whatsapp", {"hsmFallbackLanguage": 5}, False),
]


def update_cases() -> Iterator[Case]:
    for t in TYPES:
        schema = f"{UPDATE}#/$defs/{t}"
        yield Case(f"{t}: empty update", schema, {}, True)
        yield Case(f"{t}: rename", schema, {"displayName": "Renamed"}, True)
        yield Case(f"{t}: unset name", schema, {"displayName": None}, True)
        yield Case(f"{t}: empty name", schema, {"displayName": ""}, False)
        yield Case(f"{t}: name of 101 chars", schema, {"displayName": "x" * 101}, False)
        yield Case(f"{t}: not an object", schema, "rename", False)
    for t, data, valid in UPDATE_SPECIFIC:
        yield Case(f"{t}: {sorted(data)}", f"{UPDATE}#/$defs/{t}", data, valid)
    yield from [
        Case("any type: rename", UPDATE, {"displayName": "Renamed"}, True),
        Case("any type: empty name", UPDATE, {"displayName": ""}, False),
        Case("any type: array", UPDATE, [], False),
    ]


def response_body(integration_type: str) -> dict[str, Any]:
    """What the API could answer for a minimal create: the body minus write-only fields, plus ids."""
    secret = write_only_fields(f"integration.json#/$defs/{integration_type}")
    body = {k: v for k, v in MINIMAL_CREATE[integration_type].items() if k not in secret}
    return {"id": CURSOR, "status": "active", "displayName": None, **body}


def full_web() -> dict[str, Any]:
    return {
        "id": CURSOR,
        "type": "web",
        "status": "active",
        "displayName": "Web",
        "brandColor": "65758e",
        "integrationOrder": None,
        "canUserSeeConversationList": True,
        "attachmentsEnabled": True,
        "showAIDisclaimer": True,
        "defaultResponder": {
            "name": "Bot",
            "integrationId": CURSOR,
            "integrationType": "zd:agentWorkspace",
            "deliverStandbyEvents": False,
            "nextSwitchboardIntegrationId": None,
            "messageHistoryCount": 10,
            "inherited": True,
        },
        "prechatCapture": {"enabled": False, "fields": []},
    }


def response_cases() -> Iterator[Case]:
    single = "integration.response.json"
    listed = "integration-list.response.json"
    for t in TYPES:
        yield Case(f"{t} response without write-only fields", single, {"integration": response_body(t)}, True)
    web = full_web()
    page = {"hasMore": True, "afterCursor": CURSOR}
    yield from [
        Case("full web response", single, {"integration": web}, True),
        Case("missing integration", single, {}, False),
        Case("integration without type", single, {"integration": without(web, "type")}, False),
        Case("unknown status", single, {"integration": with_(web, status="paused")}, False),
        Case("display name of 101 chars", single, {"integration": with_(web, displayName="x" * 101)}, False),
        Case("null default responder", single, {"integration": with_(web, defaultResponder=None)}, True),
        Case(
            "default responder of the wrong shape",
            single,
            {"integration": with_(web, defaultResponder={"inherited": "yes"})},
            False,
        ),
        Case(
            "custom with its webhook",
            single,
            {"integration": {"id": CURSOR, "type": "custom", "webhooks": [webhook(id="w", version="v2")]}},
            True,
        ),
        Case("custom with no webhooks", single, {"integration": {"type": "custom", "webhooks": []}}, False),
        Case("twitter premium tier", single, {"integration": {"type": "twitter", "tier": "premium"}}, False),
        Case(
            "whatsapp with a phone number",
            single,
            {"integration": {"type": "whatsapp", "phoneNumber": "+15550100"}},
            True,
        ),
        Case(
            "list",
            listed,
            {"integrations": [web, response_body("twilio")], "meta": page, "links": {"next": "https://n"}},
            True,
        ),
        Case("empty list", listed, {"integrations": [], "meta": {"hasMore": False}, "links": {}}, True),
        Case("list without integrations", listed, {"meta": {"hasMore": False}}, False),
        Case("list with a broken item", listed, {"integrations": [{"displayName": "x"}]}, False),
        Case("list with bad meta", listed, {"integrations": [], "meta": {"hasMore": "no"}}, False),
        Case("delete body", "empty.response.json", {}, True),
        Case("delete body not an object", "empty.response.json", [], False),
    ]


def error_cases() -> Iterator[Case]:
    schema = "error-response.json"
    yield from [
        Case("one error", schema, {"errors": [{"code": "bad_request", "title": "Invalid type"}]}, True),
        Case("missing title", schema, {"errors": [{"code": "bad_request"}]}, False),
        Case("missing code", schema, {"errors": [{"title": "Invalid type"}]}, False),
        Case("numeric code", schema, {"errors": [{"code": 400, "title": "Invalid type"}]}, False),
        Case("no errors", schema, {"errors": []}, False),
        Case("no errors key", schema, {}, False),
    ]


def query_cases() -> Iterator[Case]:
    query = "integration-list.query.json"
    page = "pagination.json#/$defs/page-query"
    yield from [
        Case("no query", query, {}, True),
        Case(
            "full query",
            query,
            {"page[after]": CURSOR, "page[size]": "10", "filter[types]": "custom,web"},
            True,
        ),
        Case("before cursor", query, {"page[before]": CURSOR}, True),
        Case("both cursors", query, {"page[after]": CURSOR, "page[before]": CURSOR}, False),
        Case("short cursor", query, {"page[after]": CURSOR[:-1]}, False),
        Case("size not digits", query, {"page[size]": "ten"}, False),
        Case("size as a number", query, {"page[size]": 10}, False),
        Case("unknown parameter", query, {"sort": "asc"}, False),
        Case("page object", page, {"after": CURSOR, "size": 100}, True),
        Case("page size 0", page, {"size": 0}, False),
        Case("page size 101", page, {"size": 101}, False),
        Case("page size as string", page, {"size": "10"}, False),
        Case("page both cursors", page, {"after": CURSOR, "before": CURSOR}, False),
    ]


CASES = [*create_cases(), *update_cases(), *response_cases(), *error_cases(), *query_cases()]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.schema} | {c.description}" for c in CASES])
def test_instance(case):
    errors = list(validator(case.schema).iter_errors(case.data))
    if case.valid:
        assert errors == [], [error.message for error in errors]
    else:
        assert errors, f"{case.data!r} should not be valid against {case.schema}"


@pytest.mark.parametrize("integration_type", TYPES)
def test_response_bodies_carry_no_write_only_fields(integration_type):
    body = response_body(integration_type)
    assert not write_only_fields(f"integration.json#/$defs/{integration_type}") & body.keys()
