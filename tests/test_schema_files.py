"""The schema files themselves: well-formed, wired together, and saying what the API says."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import jsonschema
import pytest
from schema_support import CREATE, TYPES, UPDATE

from conformance.spec.schemas import (
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
