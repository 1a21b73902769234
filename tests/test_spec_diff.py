"""spec-diff: two fixture versions of a small contract (tests/fixtures/upgrade), compared from a client's side."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.__main__ import main
from conformance.contract.diff import compare, import_document, side_of_import
from conformance.contract.importer import build, write
from conformance.contract.openapi import Document, load

PROJECT = Path(__file__).resolve().parent.parent
UPGRADE = PROJECT / "tests" / "fixtures" / "upgrade"
V1, V2 = UPGRADE / "shop-v1.yaml", UPGRADE / "shop-v2.yaml"
PETSTORE = PROJECT / "tests" / "fixtures" / "specs" / "petstore.yaml"

# (subject, kind, where, pointer, class): every change between the two versions, each kind the issue lists.
OWN = {
    ("Ping", "operation-removed", "operation", "", "breaking"),
    ("TrackParcel", "operation-added", "operation", "", "additive"),
    ("ListParcels", "enum-value-removed", "query parameters", "/colour", "breaking"),
    ("ListParcels", "enum-value-added", "query parameters", "/colour", "additive"),
    ("CreateParcel", "status-added", "responses", "", "additive"),
    ("DeleteParcel", "status-added", "responses", "", "breaking"),
    ("DeleteParcel", "status-removed", "responses", "", "breaking"),
    ("ListParcels", "status-removed", "responses", "", "cosmetic"),
    ("CreateParcel", "media-type-added", "request body", "", "additive"),
    ("GetLabel", "media-type-removed", "response 200", "", "breaking"),
    ("GetLabel", "media-type-added", "response 200", "", "additive"),
    # basicAuth[shop] -> basicAuth[shop, read]: a credential with the shop scope still works.
    ("GetParcel", "security-widened", "security", "", "additive"),
    ("ListParcels", "security-widened", "security", "", "additive"),
    ("ListParcels", "tag-changed", "operation", "", "cosmetic"),
    ("ListParcels", "request-field-required", "query parameters", "/region", "breaking"),
    ("webhook ParcelDelivered", "webhook-added", "webhook", "", "additive"),
}
# What a parcel's create body lets a client send changed once, at its schema.
CREATE = "schema parcelCreate (request)"
PARCEL_CREATE = {
    ("schema parcelCreate", "request-field-required", CREATE, "/weight", "breaking"),
    ("schema parcelCreate", "request-field-removed", CREATE, "/giftWrap", "breaking"),
    ("schema parcelCreate", "request-field-added", CREATE, "/insured", "additive"),
    ("schema parcelCreate", "type-narrowed", CREATE, "/weight", "breaking"),
    ("schema parcelCreate", "enum-value-added", CREATE, "/kind", "additive"),
    ("schema parcelCreate", "constraint-tightened", CREATE, "/note", "breaking"),
}
# The parcel record changed once: one change at the schema, reaching each operation that answers it.
RECORD = "schema parcel (response)"
PARCEL = {
    ("schema parcel", "response-field-added", RECORD, "/trackingCode", "additive"),
    ("schema parcel", "response-field-removed", RECORD, "/legacyRef", "breaking"),
    ("schema parcel", "type-narrowed", RECORD, "/weight", "cosmetic"),
    ("schema parcel", "enum-value-added", RECORD, "/kind", "breaking"),
    ("schema parcel", "enum-value-added", RECORD, "/status", "breaking"),
    ("schema parcel", "enum-value-removed", RECORD, "/status", "cosmetic"),
}
HOLDERS = ("CreateParcel", "GetParcel", "ListParcels")
EXPECTED = OWN | PARCEL_CREATE | PARCEL


def spec_diff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "conformance", "spec-diff", *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def diff_of(old: dict, new: dict):
    sides = [side_of_import(build(Document(data, name, "0")), name) for data, name in ((old, "old"), (new, "new"))]
    return compare(*sides)


def rows(result) -> set[tuple[str, str, str, str, str]]:
    return {(c.operation, c.kind, c.where, c.pointer, c.klass) for c in result.changes}


@pytest.fixture(scope="module")
def v1_v2():
    return diff_of(load(V1).data, load(V2).data)


def imported_with_overlay(tmp_path: Path, document: Document, actions: list[dict[str, Any]]) -> Path:
    """``document`` imported with an overlay of ``actions`` into ``tmp_path/schemas``, as the project imports."""
    from conformance.contract import overlay as overlays

    folder = tmp_path / "schemas"
    folder.mkdir()
    overlay = folder / "overlay.yaml"
    overlay.write_text(
        yaml.safe_dump({"overlay": "1.0.0", "info": {"title": "fixes", "version": "1"}, "actions": actions})
    )
    imported, findings = import_document(document, overlays.load(overlay))
    assert findings == []
    write(imported, folder)
    return folder


def test_every_kind_of_change_is_found_and_classed(v1_v2):
    assert rows(v1_v2) == EXPECTED, (sorted(EXPECTED - rows(v1_v2)), sorted(rows(v1_v2) - EXPECTED))


def test_a_schema_change_names_every_operation_it_reaches_and_where_it_shows(v1_v2):
    found = {(c.operation, c.kind, c.pointer): c for c in v1_v2.changes}
    added = found["schema parcel", "response-field-added", "/trackingCode"]
    assert added.operations == HOLDERS
    assert added.shown_at == (
        "CreateParcel response 201 (application/json) /parcel/trackingCode",
        "GetParcel response 200 (application/json) /parcel/trackingCode",
        "ListParcels response 200 (application/json) /parcels/*/trackingCode",
    )


def test_the_changes_carry_what_was_and_what_is(v1_v2):
    found = {(c.operation, c.kind, c.pointer): c for c in v1_v2.changes}
    assert found["schema parcelCreate", "type-narrowed", "/weight"].before == ["number"]
    assert found["schema parcelCreate", "type-narrowed", "/weight"].after == ["integer"]
    assert found["ListParcels", "enum-value-removed", "/colour"].before == ["blue"]
    assert found["schema parcel", "response-field-added", "/trackingCode"].after == {
        "type": ["string"],
        "required": True,
    }
    security = found["GetParcel", "security-widened", ""]
    assert (security.before, security.after) == (["basicAuth[shop]"], ["basicAuth[shop, read]"])


def test_a_contract_compared_with_itself_has_no_changes():
    result = diff_of(load(V1).data, load(V1).data)
    assert result.changes == []
    assert not result.breaking


def test_a_new_objects_fields_are_one_change_not_many():
    old = load(V1).data
    new = copy.deepcopy(old)
    new["components"]["schemas"]["parcel"]["properties"]["route"] = {
        "type": "object",
        "properties": {"from": {"type": "string"}, "to": {"type": "string"}},
    }
    assert rows(diff_of(old, new)) == {("schema parcel", "response-field-added", RECORD, "/route", "additive")}


def test_a_renamed_operation_id_is_cosmetic_and_a_moved_path_breaking():
    old = load(V1).data
    new = copy.deepcopy(old)
    new["paths"]["/ping"]["get"]["operationId"] = "Hello"
    new["paths"]["/health"] = new["paths"].pop("/shops/{shopId}/parcels/{parcelId}/label")
    found = rows(diff_of(old, new))
    assert ("Hello", "operation-renamed", "operation", "", "cosmetic") in found
    assert ("GetLabel", "operation-moved", "operation", "", "breaking") in found


def test_nullable_widening_is_additive_in_a_request_and_breaking_in_a_response():
    old = load(V1).data
    new = copy.deepcopy(old)
    new["components"]["schemas"]["parcelCreate"]["properties"]["weight"]["nullable"] = True
    new["components"]["schemas"]["parcel"]["properties"]["weight"]["nullable"] = True
    found = rows(diff_of(old, new))
    assert ("schema parcelCreate", "type-widened", CREATE, "/weight", "additive") in found
    assert ("schema parcel", "type-widened", RECORD, "/weight", "breaking") in found


def test_a_response_field_no_longer_required_is_breaking():
    old = load(V1).data
    new = copy.deepcopy(old)
    new["components"]["schemas"]["parcel"]["required"] = ["id", "kind"]
    found = rows(diff_of(old, new))
    assert ("schema parcel", "response-field-optional", RECORD, "/status", "breaking") in found


def test_a_field_of_a_discriminated_branch_is_reported_at_the_branch_and_shown_with_its_condition():
    old = load(PETSTORE).data
    new = copy.deepcopy(old)
    del new["components"]["schemas"]["box"]["allOf"][1]["properties"]["size"]
    result = diff_of(old, new)
    found = {(c.operation, c.kind, c.where, c.pointer, c.klass): c for c in result.changes}
    request = found["schema box", "request-field-removed", "schema box (request)", "/size", "breaking"]
    response = found["schema box", "response-field-removed", "schema box (response)", "/size", "breaking"]
    assert "CreateParcel request body (application/json) /size [kind=box]" in request.shown_at
    assert "CreateParcel response 201 (application/json) /parcel/size [kind=box]" in response.shown_at


def test_cli_exits_1_on_breaking_changes_and_writes_markdown_and_json(tmp_path):
    result = spec_diff(str(V1), str(V2), "--json", str(tmp_path / "d.json"), "--markdown", str(tmp_path / "d.md"))
    assert result.returncode == 1, result.stderr
    assert "CreateParcel" in result.stdout
    assert "breaking  request-field-required" in result.stdout
    data = json.loads((tmp_path / "d.json").read_text())
    assert data["counts"]["breaking"] > 0
    assert data["counts"] == {
        k: sum(c["class"] == k for c in data["changes"]) for k in ("breaking", "additive", "cosmetic")
    }
    assert {(c["operation"], c["kind"], c["where"], c["pointer"], c["class"]) for c in data["changes"]} == EXPECTED
    text = (tmp_path / "d.md").read_text()
    assert text.startswith("# Contract changes")
    assert (
        "| **breaking** | request-field-required | schema parcelCreate (request) | `/weight` | `false` | `true` | "
        "reaches CreateParcel |"
    ) in text


def test_cli_exits_0_when_nothing_breaking_changed(tmp_path):
    data = load(V1).data
    data["components"]["schemas"]["parcel"]["properties"]["colour"] = {"type": "string"}
    additive = tmp_path / "additive.yaml"
    additive.write_text(yaml.safe_dump(data))
    assert spec_diff(str(V1), str(V1)).returncode == 0
    result = spec_diff(str(V1), str(additive))
    assert result.returncode == 0, result.stdout
    assert "additive  response-field-added" in result.stdout
    assert "0 breaking" in result.stdout


def test_against_compares_with_an_imported_folder_and_its_overlay(tmp_path):
    folder = imported_with_overlay(
        tmp_path,
        load(V1),
        [
            {
                "target": "$.paths['/shops/{shopId}/parcels'].post.responses",
                "description": "the shop answers 401 without credentials",
                "x-direction": "both",
                "update": {"401": {"$ref": "#/components/responses/badRequest"}},
            },
            {
                "target": "$.paths['/ping'].get",
                "description": "ping is tagged",
                "x-direction": "both",
                "update": {"tags": ["Health"]},
            },
        ],
    )
    out = tmp_path / "against.json"
    result = spec_diff(str(V2), "--against", str(folder), "--json", str(out))
    assert result.returncode == 1, result.stderr
    data = json.loads(out.read_text())
    statuses = {
        (c["operation"], c["kind"], c["after"] or c["before"]) for c in data["changes"] if "status" in c["kind"]
    }
    # The overlay's 401 is on both sides: no change. The action on /ping no longer applies.
    assert ("CreateParcel", "status-removed", "401") not in statuses
    assert ("CreateParcel", "status-added", "409") in statuses
    assert len(data["overlayFindings"]) == 1
    assert "action 2" in data["overlayFindings"][0]
    assert "no longer applies" in data["overlayFindings"][0]
    assert "overlay actions that no longer apply" in result.stdout
    two_files = {(c.operation, c.kind, c.pointer) for c in diff_of(load(V1).data, load(V2).data).changes}
    assert {(c["operation"], c["kind"], c["pointer"]) for c in data["changes"]} == two_files


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([str(V1)], "give OLD.yaml NEW.yaml, or NEW.yaml --against DIR"),
        ([str(V1), str(V2), str(V2)], "got 3 spec file(s)"),
        ([str(V1), str(V2), "--against", "schemas"], "with --against"),
        ([str(V2), "--against", str(V1)], "is a file"),
        ([str(V2), "--against", str(UPGRADE)], "holds no index.json"),
        ([str(UPGRADE / "nope.yaml"), str(V2)], "cannot be read"),
        ([str(PROJECT / "pyproject.toml"), str(V2)], "neither YAML nor JSON"),
        ([str(V1), str(V2), "--cassettes", str(UPGRADE / "nope")], "--cassettes"),
    ],
)
def test_usage_and_input_errors_are_one_line_and_exit_2(capsys, args, message):
    assert main(["spec-diff", *args]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("spec-diff: error:")
    assert message in lines[0]
    assert captured.out == ""


def test_an_input_error_in_a_real_process_has_no_traceback(tmp_path):
    result = spec_diff(str(V2), "--against", str(tmp_path / "missing"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def cassette(path: Path, *operations: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    exchanges = [{"operation": op, "variant": None, "attempts": 1} for op in operations]
    path.write_text(
        yaml.safe_dump({"interactions": [], "version": 1, "metadata": {"conformance": {"exchanges": exchanges}}})
    )


def test_the_report_ends_with_the_cassettes_to_re_record_and_the_command(tmp_path):
    folder = tmp_path / "cassettes"
    cassette(folder / "test_parcels" / "test_parcel_lifecycle.yaml", "CreateParcel", "GetParcel", "DeleteParcel")
    cassette(folder / "test_health" / "test_ping.yaml", "Ping")
    cassette(folder / "test_other" / "test_unrelated.yaml", "SomethingElse")
    out = tmp_path / "d.json"
    result = spec_diff(
        str(V1), str(V2), "--cassettes", str(folder), "--json", str(out), "--markdown", str(tmp_path / "d.md")
    )
    assert result.returncode == 1, result.stderr
    lifecycle = str(folder / "test_parcels" / "test_parcel_lifecycle.yaml")
    ping = str(folder / "test_health" / "test_ping.yaml")
    tail = result.stdout[result.stdout.index("cassettes to re-record (2):") :]
    assert tail.splitlines()[1:3] == [f"  {ping}", f"  {lifecycle}"]
    assert (
        "pytest conformance/suites/test_health.py::test_ping conformance/suites/test_parcels.py::test_parcel_lifecycle "
        "--schema-dir schemas-next --record-mode=rewrite --cassette-dir recordings/after --variants-from cassettes"
    ) in tail
    data = json.loads(out.read_text())
    assert data["reRecord"] == [ping, lifecycle]
    by_row = {(c["operation"], c["kind"], c["pointer"]): c for c in data["changes"]}
    assert by_row["schema parcel", "response-field-added", "/trackingCode"]["cassettes"] == [lifecycle]
    assert by_row["schema parcel", "response-field-added", "/trackingCode"]["operations"] == list(HOLDERS)
    assert by_row["Ping", "operation-removed", ""]["cassettes"] == [ping]
    assert by_row["Ping", "operation-removed", ""]["tests"] == ["conformance/suites/test_health.py::test_ping"]
    assert data["reRecordCommand"].endswith("--variants-from cassettes")
    markdown = (tmp_path / "d.md").read_text()
    assert f"## Cassettes to re-record (2)\n\n- `{ping}`\n- `{lifecycle}`\n" in markdown


def test_against_an_older_release_leaves_out_an_action_naming_a_schema_it_lacks(tmp_path):
    newer = load(V2).data
    newer["components"]["schemas"]["memo"] = {"type": "object", "properties": {"text": {"type": "string"}}}
    folder = imported_with_overlay(
        tmp_path,
        Document(newer, "shop-v2-memo.yaml", "0"),
        [
            {
                "target": "$.components.schemas.parcel.properties",
                "description": "a parcel carries the shop's memo",
                "x-direction": "both",
                "update": {"memo": {"$ref": "#/components/schemas/memo"}},
            }
        ],
    )
    out = tmp_path / "older.json"
    result = spec_diff(str(V1), "--against", str(folder), "--json", str(out), "--cassettes", "none")
    assert result.returncode == 1, result.stderr
    data = json.loads(out.read_text())
    assert data["overlayFindings"] == [
        "overlay action 1 ($.components.schemas.parcel.properties) no longer applies: it refers to "
        "#/components/schemas/memo, which the spec does not have; compared without it"
    ]
    note = next(c for c in data["changes"] if c["pointer"] == "/memo")
    assert (note["operation"], note["kind"], note["class"]) == ("schema parcel", "response-field-removed", "breaking")
    assert note["overlay"] == ["overlay action 1: a parcel carries the shop's memo"]
    assert "from overlay action 1: a parcel carries the shop's memo" in result.stdout


def test_a_webhook_payload_change_names_the_cassettes_that_checked_its_deliveries(tmp_path):
    changed = load(V1).data
    changed["components"]["schemas"]["parcelEvent"]["properties"]["parcelId"] = {"type": "integer"}
    new = tmp_path / "shop-v1-event.yaml"
    new.write_text(yaml.safe_dump(changed))
    folder = tmp_path / "cassettes"
    cassette(folder / "test_parcels" / "test_create_parcel.yaml", "CreateParcel")
    delivered = folder / "test_parcels" / "test_parcel_created_event.yaml"
    cassette(delivered, "CreateParcel")
    # A recording that checked a delivery keeps the webhook's schema hash beside its operations'.
    data = yaml.safe_load(delivered.read_text())
    hashes = {"CreateParcel": "0" * 16, "ParcelCreated": "1" * 16}
    data["metadata"]["conformance"]["recording"] = {"schemaHashes": hashes}
    delivered.write_text(yaml.safe_dump(data))
    out = tmp_path / "d.json"
    result = spec_diff(str(V1), str(new), "--cassettes", str(folder), "--json", str(out))
    assert result.returncode == 1, result.stderr
    report = json.loads(out.read_text())
    rows = [c for c in report["changes"] if "webhook ParcelCreated" in c["operations"]]
    assert rows, report["changes"]
    assert all(row["cassettes"] == [str(delivered)] for row in rows)
    assert report["reRecord"] == [str(delivered)]
