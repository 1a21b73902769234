"""A cassette is recorded under the schemas of the operations it called: a contract change marks only
the cassettes whose operations it reaches (conformance/contract/fingerprint.py, cassettes/provenance.py)."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.cassettes.provenance import Provenance, operations_of
from conformance.contract import fingerprint
from conformance.contract.importer import BASE_URI, INDEX_FILE, import_hash
from conformance.contract.schemas import SCHEMA_DIR, Contract

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def document(path: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"$id": BASE_URI + path, **body}


def answer(ref: str) -> dict[str, Any]:
    return {"content": {"application/json": ref}}


# A small contract: GetThing reaches thing -> tag (and its own file), GetOther reaches other; both
# answer errors with errorResponse; the Event webhook reaches pet, whose discriminator maps to cat.
DOCUMENTS = {
    "components/thing.json": document(
        "components/thing.json", {"type": "object", "properties": {"tag": {"$ref": "tag.json"}}}
    ),
    "components/tag.json": document("components/tag.json", {"type": "string", "maxLength": 8}),
    "components/other.json": document("components/other.json", {"type": "integer"}),
    "components/errorResponse.json": document("components/errorResponse.json", {"type": "object"}),
    "components/pet.json": document(
        "components/pet.json",
        {"type": "object", "discriminator": {"propertyName": "kind", "mapping": {"cat": "cat.json"}}},
    ),
    "components/cat.json": document("components/cat.json", {"type": "object", "required": ["kind"]}),
    "components/unused.json": document("components/unused.json", {"type": "boolean"}),
    "operations/GetThing.json": document(
        "operations/GetThing.json", {"$defs": {"path": {"type": "object", "properties": {"id": {"type": "string"}}}}}
    ),
}
INDEX: dict[str, Any] = {
    "importHash": "0" * 64,
    "securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"}, "bearerAuth": {"type": "http"}},
    "operations": {
        "GetThing": {
            "method": "GET",
            "path": "/things/{id}",
            "params": {"path": "operations/GetThing.json#/$defs/path"},
            "responses": {"200": answer("components/thing.json"), "404": answer("components/errorResponse.json")},
            "security": [{"basicAuth": ["app"]}],
        },
        "GetOther": {
            "method": "GET",
            "path": "/other",
            "responses": {"200": answer("components/other.json"), "404": answer("components/errorResponse.json")},
            "security": [{"bearerAuth": ["app"]}],
        },
    },
    "webhooks": {"Event": {"method": "POST", "path": "Event", "request": answer("components/pet.json")}},
}
ALL = ("GetThing", "GetOther", "Event")
ERRORS = "components/errorResponse.json"


def small() -> Contract:
    return Contract(copy.deepcopy(DOCUMENTS), copy.deepcopy(INDEX))


def edited(change: Callable[[dict[str, Any], dict[str, Any]], None]) -> Contract:
    documents, index = copy.deepcopy(DOCUMENTS), copy.deepcopy(INDEX)
    change(documents, index)
    return Contract(documents, index)


def set_in(path: str, key: str, value: Any) -> Callable[[dict[str, Any], dict[str, Any]], None]:
    return lambda documents, _index: documents[path].update({key: value})


def reordered(documents: dict[str, Any], index: dict[str, Any]) -> None:
    documents["components/thing.json"] = dict(reversed(list(documents["components/thing.json"].items())))
    index["operations"] = dict(reversed(list(index["operations"].items())))


CHANGES = [
    ("a component only GetThing reaches, through another", set_in("components/tag.json", "maxLength", 9), {"GetThing"}),
    ("GetThing's own file", set_in("operations/GetThing.json", "$defs", {}), {"GetThing"}),
    ("a component both operations answer with", set_in(ERRORS, "required", ["x"]), {"GetThing", "GetOther"}),
    ("a discriminator mapping's target", set_in("components/cat.json", "required", []), {"Event"}),
    ("a component nothing reaches", set_in("components/unused.json", "type", "null"), set()),
    ("GetOther's index entry", lambda _d, index: index["operations"]["GetOther"]["responses"].pop("404"), {"GetOther"}),
    ("the security scheme GetThing names", lambda _d, index: index["securitySchemes"].pop("basicAuth"), {"GetThing"}),
    ("GetOther removed", lambda _d, index: index["operations"].pop("GetOther"), {"GetOther"}),
    ("the import hash alone", lambda _d, index: index.update(importHash="1" * 64), set()),
    ("the order of keys", reordered, set()),
]  # fmt: skip


@pytest.mark.parametrize(("what", "change", "marked"), CHANGES, ids=[case[0] for case in CHANGES])
def test_a_contract_change_changes_the_hashes_of_the_operations_it_reaches_only(what, change, marked):
    before = fingerprint.hashes(small(), ALL)
    assert set(fingerprint.changed(edited(change), before)) == marked


def test_closure_follows_references_into_other_files_and_discriminator_mappings():
    assert fingerprint.closure(small(), "GetThing") == (
        "components/errorResponse.json",
        "components/tag.json",
        "components/thing.json",
        "operations/GetThing.json",
    )
    assert fingerprint.closure(small(), "Event") == ("components/cat.json", "components/pet.json")
    assert fingerprint.closure(small(), "Nothing") == ()
    assert fingerprint.reaching(small(), "components/errorResponse.json") == ["GetOther", "GetThing"]


def test_an_operation_the_contract_lacks_hashes_as_absent_and_hashes_are_short_hex():
    found = fingerprint.hashes(small(), ["Nothing", *ALL])
    assert found["Nothing"] == fingerprint.ABSENT
    assert all(len(found[op]) == fingerprint.LENGTH and int(found[op], 16) >= 0 for op in ALL)
    assert len({found[op] for op in ALL}) == len(ALL)


# -- the shipped cassettes, judged against edited copies of the shipped contract ----------------------


@pytest.fixture(scope="module")
def shipped() -> dict[str, set[str]]:
    """cassette -> the operations it depends on, as its notes say (EventWebhooks when it holds deliveries)."""
    found = {}
    for path in sorted(CASSETTES.rglob("*.yaml")):
        data = (yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or {}).get("metadata") or {}  # noqa: S506
        operations = set(operations_of(data.get("conformance")))
        if (data.get("webhooks") or {}).get("deliveries"):
            operations.add("EventWebhooks")
        found[path.relative_to(CASSETTES).as_posix()] = operations
    assert len(found) > 100
    return found


@pytest.fixture(scope="module")
def original() -> Contract:
    return Contract.from_dir(SCHEMA_DIR)


def recorded_now(contract: Contract, shipped: dict[str, set[str]]) -> list[Provenance]:
    """Each shipped cassette as a recording under ``contract`` would describe it."""
    import_hash_now = str(contract.index["importHash"])
    return [
        Provenance(name, import_hash=import_hash_now, schemas=fingerprint.hashes(contract, ops))
        for name, ops in shipped.items()
    ]


def reimported(tmp_path: Path, change: Callable[[Path], None]) -> Contract:
    """A copy of the shipped contract with one change, and the import hash import-spec would give it."""
    folder = tmp_path / "schemas"
    shutil.copytree(SCHEMA_DIR, folder)
    change(folder)
    files = {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8") for p in folder.glob("*/*.json")}
    index = json.loads((folder / INDEX_FILE).read_text(encoding="utf-8"))
    index["importHash"] = import_hash(files, index)
    (folder / INDEX_FILE).write_text(json.dumps(index), encoding="utf-8")
    return Contract.from_dir(folder)


def edit_json(folder: Path, name: str, change: Callable[[dict[str, Any]], None]) -> None:
    path = folder / name
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def tighten(data: dict[str, Any]) -> None:
    data["minProperties"] = 1


def add_error_code(index: dict[str, Any]) -> None:
    index["operations"]["CreateIntegration"]["responses"]["400"]["errorCodes"].append("invalid_webhook")


SHIPPED_CHANGES = [
    # (what, file edited, how, the operations it changes)
    ("GetApp's own schema file", "operations/GetApp.json", tighten, ["GetApp"]),
    ("CreateIntegration's error codes in the index", INDEX_FILE, add_error_code, ["CreateIntegration"]),
    ("a component shared by many operations", "components/metadata.json", tighten, None),
]


@pytest.mark.parametrize(("what", "name", "change", "operations"), SHIPPED_CHANGES, ids=[c[0] for c in SHIPPED_CHANGES])
def test_a_contract_change_marks_only_the_shipped_cassettes_that_reach_it(
    what, name, change, operations, shipped, original, tmp_path
):
    changed = reimported(tmp_path, lambda folder: edit_json(folder, name, change))
    reached = operations or fingerprint.reaching(original, name)
    marked = {p.cassette for p in recorded_now(original, shipped) if p.outdated(changed)}
    assert marked == {cassette for cassette, ops in shipped.items() if ops & set(reached)}
    assert 0 < len(marked) < len(shipped)
    if operations is None:  # shared: the cassettes of several operations, more than any one of them calls
        assert len(marked) > max(sum(op in ops for ops in shipped.values()) for op in reached)


def test_an_unchanged_contract_marks_no_cassette(shipped, original, tmp_path):
    same = reimported(tmp_path, lambda _folder: None)
    assert same.index["importHash"] == original.index["importHash"]
    assert [p.cassette for p in recorded_now(original, shipped) if p.outdated(same)] == []


def test_a_cassette_without_schema_hashes_is_judged_by_its_import_hash(shipped, original, tmp_path):
    old = [Provenance(name, import_hash=str(original.index["importHash"])) for name in shipped]
    assert not any(p.outdated(original) for p in old)
    assert all(p.changed(original) is None for p in old)
    # Any change re-imports the contract: every cassette without hashes is marked, whatever it called.
    changed = reimported(tmp_path, lambda folder: edit_json(folder, "operations/GetApp.json", tighten))
    assert all(p.outdated(changed) for p in old)
    # A cassette that says nothing of its import is not marked (it is listed as undated instead).
    assert not Provenance("x.yaml").outdated(changed)


def test_recorded_hashes_read_back_and_name_the_changed_operations():
    recorded = fingerprint.hashes(small(), ["GetThing", "GetOther"])
    pins = {"recording": {"importHash": "0" * 64, "schemaHashes": recorded}, "exchanges": [{"operation": "GetThing"}]}
    found = Provenance.from_pins("c.yaml", pins)
    assert found.schemas == recorded
    assert found.as_json()["schemaHashes"] == recorded
    assert Provenance.from_json(found.as_json()).schemas == recorded
    assert found.changed(small()) == []
    assert found.changed(edited(set_in(ERRORS, "type", "array"))) == ["GetOther", "GetThing"]
    assert operations_of(pins) == ["GetOther", "GetThing"]
