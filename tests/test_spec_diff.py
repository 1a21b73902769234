"""spec-diff: two fixture versions of a small contract (tests/fixtures/upgrade), compared from a client's side."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conformance.__main__ import main
from conformance.spec.diff import compare, import_document, side_of_import
from conformance.spec.importer import build, write
from conformance.spec.openapi import Document, load

PROJECT = Path(__file__).resolve().parent.parent
UPGRADE = PROJECT / "tests" / "fixtures" / "upgrade"
V1, V2 = UPGRADE / "shop-v1.yaml", UPGRADE / "shop-v2.yaml"
PETSTORE = PROJECT / "tests" / "fixtures" / "specs" / "petstore.yaml"

# (operation, kind, where, pointer, class): every change between the two versions, each kind the issue lists.
OWN = {
    ("Ping", "operation-removed", "operation", "", "breaking"),
    ("TrackParcel", "operation-added", "operation", "", "additive"),
    ("CreateParcel", "request-field-required", "request body (application/json)", "/weight", "breaking"),
    ("CreateParcel", "request-field-removed", "request body (application/json)", "/giftWrap", "breaking"),
    ("CreateParcel", "request-field-added", "request body (application/json)", "/insured", "additive"),
    ("CreateParcel", "type-changed", "request body (application/json)", "/weight", "breaking"),
    ("CreateParcel", "enum-value-added", "request body (application/json)", "/kind", "additive"),
    ("ListParcels", "enum-value-removed", "query parameters", "/colour", "breaking"),
    ("ListParcels", "enum-value-added", "query parameters", "/colour", "additive"),
    ("CreateParcel", "status-added", "responses", "", "additive"),
    ("DeleteParcel", "status-added", "responses", "", "breaking"),
    ("DeleteParcel", "status-removed", "responses", "", "breaking"),
    ("ListParcels", "status-removed", "responses", "", "cosmetic"),
    ("CreateParcel", "media-type-added", "request body", "", "additive"),
    ("GetLabel", "media-type-removed", "response 200", "", "breaking"),
    ("GetLabel", "media-type-added", "response 200", "", "additive"),
    ("GetParcel", "security-changed", "security", "", "breaking"),
    ("ListParcels", "security-changed", "security", "", "additive"),
    ("ListParcels", "tag-changed", "operation", "", "cosmetic"),
}
# The parcel record changed once; each response that holds it shows the change.
PARCEL = {
    ("response-field-added", "/trackingCode", "additive"),
    ("response-field-removed", "/legacyRef", "breaking"),
    ("type-changed", "/weight", "cosmetic"),
    ("enum-value-added", "/kind", "breaking"),
    ("enum-value-added", "/status", "breaking"),
    ("enum-value-removed", "/status", "cosmetic"),
}
HOLDERS = (
    ("CreateParcel", "response 201 (application/json)", "/parcel"),
    ("GetParcel", "response 200 (application/json)", "/parcel"),
    ("ListParcels", "response 200 (application/json)", "/parcels/*"),
)
EXPECTED = OWN | {
    (op, kind, where, prefix + pointer, klass) for op, where, prefix in HOLDERS for kind, pointer, klass in PARCEL
}


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


def test_every_kind_of_change_is_found_and_classed(v1_v2):
    assert rows(v1_v2) == EXPECTED, (sorted(EXPECTED - rows(v1_v2)), sorted(rows(v1_v2) - EXPECTED))


def test_the_changes_carry_what_was_and_what_is(v1_v2):
    found = {(c.operation, c.kind, c.pointer): c for c in v1_v2.changes}
    assert found["CreateParcel", "type-changed", "/weight"].before == ["number"]
    assert found["CreateParcel", "type-changed", "/weight"].after == ["integer"]
    assert found["ListParcels", "enum-value-removed", "/colour"].before == ["blue"]
    assert found["GetParcel", "response-field-added", "/parcel/trackingCode"].after == {
        "type": ["string"],
        "required": True,
    }
    security = found["GetParcel", "security-changed", ""]
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
    assert rows(diff_of(old, new)) == {
        (op, "response-field-added", where, pointer, "additive")
        for op, where, pointer in (
            ("CreateParcel", "response 201 (application/json)", "/parcel/route"),
            ("GetParcel", "response 200 (application/json)", "/parcel/route"),
            ("ListParcels", "response 200 (application/json)", "/parcels/*/route"),
        )
    }


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
    assert ("CreateParcel", "type-changed", "request body (application/json)", "/weight", "additive") in found
    assert ("GetParcel", "type-changed", "response 200 (application/json)", "/parcel/weight", "breaking") in found


def test_a_response_field_no_longer_required_is_breaking():
    old = load(V1).data
    new = copy.deepcopy(old)
    new["components"]["schemas"]["parcel"]["required"] = ["id", "kind"]
    found = rows(diff_of(old, new))
    assert (
        "GetParcel",
        "response-field-optional",
        "response 200 (application/json)",
        "/parcel/status",
        "breaking",
    ) in found


def test_fields_of_a_discriminated_branch_are_named_with_their_branch():
    old = load(PETSTORE).data
    new = copy.deepcopy(old)
    del new["components"]["schemas"]["box"]["allOf"][1]["properties"]["size"]
    found = rows(diff_of(old, new))
    assert (
        "CreateParcel",
        "request-field-removed",
        "request body (application/json)",
        "/size [kind=box]",
        "breaking",
    ) in found
    assert (
        "CreateParcel",
        "response-field-removed",
        "response 201 (application/json)",
        "/parcel/size [kind=box]",
        "breaking",
    ) in found


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
    assert "| **breaking** | request-field-required | request body (application/json) | `/weight` |" in text


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
    overlay = tmp_path / "schemas" / "overlay.yaml"
    overlay.parent.mkdir()
    overlay.write_text(
        yaml.safe_dump(
            {
                "overlay": "1.0.0",
                "info": {"title": "fixes", "version": "1"},
                "actions": [
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
            }
        )
    )
    from conformance.spec import overlay as overlays

    imported, findings = import_document(load(V1), overlays.load(overlay))
    assert findings == []
    write(imported, overlay.parent)
    out = tmp_path / "against.json"
    result = spec_diff(str(V2), "--against", str(overlay.parent), "--json", str(out))
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
