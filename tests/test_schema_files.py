"""The committed contract in schemas/: well-formed, wired together, facts only, and what the import made."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import jsonschema
import pytest

from conformance.contract import fingerprint
from conformance.contract import overlay as overlays
from conformance.contract.importer import BASE_URI, INDEX_FILE
from conformance.contract.schemas import ERROR_SCHEMA, SCHEMA_DIR, schema_uri, shipped

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_FILES = sorted(p.relative_to(SCHEMA_DIR).as_posix() for p in SCHEMA_DIR.glob("*/*.json"))
INDEX = json.loads((SCHEMA_DIR / INDEX_FILE).read_text(encoding="utf-8"))
PROSE = ("description", "summary", "example", "examples", "externalDocs")
OPENAPI_ONLY = ("nullable", "discriminator", "x-resourceId")
OVERLAY_ACTIONS = len(overlays.load(SCHEMA_DIR / "overlay.yaml").actions)


def load(name: str) -> Any:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


def walk(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object anywhere inside a JSON document, with its location."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            # Property names are data, not keywords: a field may be called "description".
            if key not in ("properties", "$defs", "patternProperties", "dependentRequired", "mapping"):
                yield from walk(value, f"{where}/{key}")
            else:
                for name, sub in value.items() if isinstance(value, dict) else ():
                    yield from walk(sub, f"{where}/{key}/{name}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from walk(item, f"{where}/{index}")


def test_the_folder_holds_components_operations_the_index_and_the_overlay():
    top = sorted(p.name for p in SCHEMA_DIR.iterdir())
    assert top == ["components", "index.json", "operations", "overlay.yaml"]
    components = {f for f in SCHEMA_FILES if f.startswith("components/")}
    operations = {f for f in SCHEMA_FILES if f.startswith("operations/")}
    assert set(SCHEMA_FILES) == components | operations
    named = [*INDEX["operations"], *INDEX["webhooks"]]
    # The folder holds what the index's operations and webhooks reach, no more and no less: a file
    # nothing reaches, or a reference to a file that is not there, fails this.
    reached = {path for op in named for path in fingerprint.closure(shipped(), op)}
    assert reached == set(SCHEMA_FILES)
    # An operation's own file holds its inline schemas: only operations of the index have one.
    assert {Path(f).stem for f in operations} <= set(named)


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_each_file_is_a_valid_2020_12_schema_with_its_own_id(name):
    schema = load(name)
    assert schema["$schema"] == DRAFT_2020_12
    assert schema["$id"] == BASE_URI + name
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schemas_hold_facts_not_prose_or_openapi_keywords(name):
    for where, node in walk(load(name)):
        for keyword in (*PROSE, *OPENAPI_ONLY):
            assert keyword not in node, f"{name}{where} keeps {keyword}"


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_every_reference_resolves(name):
    resolver = shipped().registry.resolver()
    for _where, node in walk(load(name)):
        ref = node.get("$ref")
        if isinstance(ref, str):
            resolver.lookup(urljoin(BASE_URI + name, ref))


def test_every_schema_the_index_names_resolves():
    refs = []
    for op in INDEX["operations"].values():
        refs += list((op.get("params") or {}).values())
        refs += [r for r in ((op.get("request") or {}).get("content") or {}).values() if r]
        refs += [r for answer in op["responses"].values() for r in answer["content"].values() if r]
    assert len(refs) > 150
    for ref in refs:
        shipped().resolve(ref)
    shipped().resolve(ERROR_SCHEMA)


def test_the_index_says_where_it_came_from_and_hashes_what_it_imported():
    source = INDEX["source"]
    assert source["version"] == "17.12.1"
    assert source["openapi"].startswith("3.")
    assert len(source["sha256"]) == 64
    overlay = (SCHEMA_DIR / "overlay.yaml").read_bytes()
    assert INDEX["overlay"]["sha256"] == hashlib.sha256(overlay).hexdigest()
    # The project's own import is strict: every action of its overlay applies, none is left out.
    assert "leftOut" not in INDEX["overlay"], "schemas/ was imported without --strict"
    assert INDEX["overlay"]["actions"] == OVERLAY_ACTIONS
    # No file names: the same spec under another name is the same import.
    assert "file" not in source
    assert "file" not in INDEX["overlay"]
    files = {name: (SCHEMA_DIR / name).read_text(encoding="utf-8") for name in SCHEMA_FILES}
    index = {k: v for k, v in INDEX.items() if k != "importHash"}
    digest = hashlib.sha256(
        "".join(f"{path}\n{text}" for path, text in sorted(files.items())).encode()
        + json.dumps(index, sort_keys=True).encode()
    ).hexdigest()
    assert INDEX["importHash"] == digest, "schemas/ was edited by hand: re-run import-spec instead"


def test_every_operation_has_a_method_a_path_and_documented_statuses():
    for op_id, op in INDEX["operations"].items():
        assert op["method"] in ("GET", "POST", "PATCH", "PUT", "DELETE"), op_id
        assert op["path"].startswith("/"), op_id
        assert op["responses"], op_id
        assert set(op["vendorStatuses"]) <= set(op["responses"]), op_id


def test_deep_object_parameters_keep_their_style():
    params = {p["name"]: p for p in INDEX["operations"]["ListIntegrations"]["parameters"]}
    assert params["page"]["style"] == "deepObject"
    assert params["page"]["explode"] is True
    assert params["appId"] == {"name": "appId", "in": "path", "required": True, "style": "simple", "explode": False}


def test_multipart_and_redirects_are_in_the_index():
    upload = shipped().operation("UploadAttachment")
    assert "multipart/form-data" in upload.request_content
    authorize = shipped().operation("Authorize")
    assert authorize.documents(302)
    assert authorize.response_media(302) == ("text/plain",)


def test_schema_uri_is_under_the_base():
    assert schema_uri("components/integration.json") == BASE_URI + "components/integration.json"
    assert Path(SCHEMA_DIR, "components", "integration.json").is_file()
