"""import-spec on small fixture contracts: what it writes, and every input it refuses in one line."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.contract import overlay as overlays
from conformance.contract.importer import BASE_URI, build
from conformance.contract.openapi import SpecError, load
from conformance.contract.schemas import SCHEMA_DIR, Contract

FIXTURES = Path(__file__).parent / "fixtures" / "specs"
SPEC = FIXTURES / "petstore.yaml"
OVERLAY = FIXTURES / "overlay.yaml"
DIRECTED = FIXTURES / "overlay_directions.yaml"
PROJECT = Path(__file__).resolve().parent.parent


def imported(overlay: Path | None = None) -> tuple[dict[str, str], Contract]:
    document = load(SPEC)
    result = build(document, overlays.load(overlay) if overlay else None)
    return result.files, Contract.from_files(result.files)


def schema(files: dict[str, str], path: str) -> dict:
    return json.loads(files[path])


def run(*args: str, cwd: Path = PROJECT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "conformance", "import-spec", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_nullable_becomes_a_type_union_and_prose_is_dropped():
    files, _ = imported()
    parcel = schema(files, "components/parcel.json")
    note = parcel["$defs"]["base"]["properties"]["note"]
    assert note == {"type": ["string", "null"], "maxLength": 10}
    assert "description" not in json.dumps(parcel)
    size = schema(files, "components/box.json")["allOf"][1]["properties"]["size"]
    assert size["enum"] == ["small", "large", None]


def test_boolean_exclusive_bounds_become_numbers_and_flags_stay():
    files, _ = imported()
    base = schema(files, "components/parcel.json")["$defs"]["base"]["properties"]
    assert base["weight"] == {"type": "number", "exclusiveMinimum": 0}
    assert base["id"]["readOnly"] is True
    assert schema(files, "components/letter.json")["allOf"][1]["properties"]["stamp"]["default"] is True


def test_a_polymorphic_base_dispatches_on_its_discriminator_without_looping():
    _, contract = imported()
    validator = contract.validator("components/parcel.json", "request")
    assert validator.is_valid({"kind": "letter", "stamp": False})
    errors = [e.message for e in validator.iter_errors({"kind": "box"})]
    assert errors == ["'lockCode' is a required property"]
    assert not validator.is_valid({"kind": "crate"})
    # A response never carries the write-only lock code, so it is not required there.
    assert contract.validator("components/parcel.json", "response").is_valid({"kind": "box", "id": "p1"})


def test_a_discriminated_oneof_judges_a_body_by_its_own_branch():
    _, contract = imported()
    validator = contract.validator("components/wrapping.json", "request")
    assert validator.is_valid({"material": "paper", "colour": "red"})
    assert [e.message for e in validator.iter_errors({"material": "foil", "shine": "very"})] == [
        "'very' is not of type 'integer'"
    ]
    assert not validator.is_valid({"material": "cloth"})


def test_the_index_holds_methods_paths_parameters_media_types_and_security():
    files, contract = imported()
    index = json.loads(files["index.json"])
    create = index["operations"]["CreateParcel"]
    assert (create["method"], create["path"], create["tag"]) == ("POST", "/shops/{shopId}/parcels", "Parcels")
    assert create["request"] == {"required": True, "content": {"application/json": "components/parcel.json"}}
    # allOf of one reference, with only prose beside it, is that reference.
    assert create["responses"]["201"]["content"] == {"application/json": "components/parcelResponse.json"}
    assert create["responses"]["400"]["errorCodes"] == ["bad_request"]
    assert create["security"] == [{"basicAuth": ["shop"]}]
    listing = contract.operation("ListParcels")
    assert listing.parameter("page", "query").style == "deepObject"
    assert contract.validator(str(listing.query), "request").is_valid({"page": {"size": 3}, "colour": None})
    assert listing.response_schema(200) == "operations/ListParcels.json#/$defs/response-200-json"
    assert contract.operation("UpdateParcel").parameter("shopId", "path").required
    ping = contract.operation("Ping")
    assert (ping.authenticated, ping.response_media(302)) == (False, ("text/plain",))
    assert "ParcelEvents" in index["webhooks"]
    assert index["source"]["version"] == "2.1.0"
    assert index["servers"] == [{"url": "https://{region}.parcels.test"}]


def test_every_file_has_its_id_and_reimporting_is_byte_identical(tmp_path):
    first = run(str(SPEC), "--out", str(tmp_path), "--overlay", "none")
    assert first.returncode == 0, first.stderr
    assert "4 operations, 1 webhook(s), 9 component schemas" in first.stdout
    written = {p: p.read_bytes() for p in tmp_path.rglob("*.json")}
    for path, data in written.items():
        if path.name != "index.json":
            assert json.loads(data)["$id"] == BASE_URI + path.relative_to(tmp_path).as_posix()
    again = run(str(SPEC), "--out", str(tmp_path), "--overlay", "none")
    assert "changed: 0 file(s)" in again.stdout
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.json")} == written
    check = run(str(SPEC), "--out", str(tmp_path), "--overlay", "none", "--check")
    assert check.returncode == 0


def test_the_overlay_is_applied_reported_and_proved(tmp_path):
    shutil.copy(OVERLAY, tmp_path / "overlay.yaml")
    result = run(str(SPEC), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert f"overlay {tmp_path / 'overlay.yaml'} (beside the output, by default): 2 correction(s)" in result.stdout
    assert "an update's branch is decided by the stored parcel's kind" in result.stdout
    assert (
        "5 operation/status pairs: 4 documented by the vendor, 1 added by the overlay"
        in result.stdout.replace("6 operation", "5 operation")
        or "documented by the vendor" in result.stdout
    )
    contract = Contract.from_dir(tmp_path)
    assert contract.operation("UpdateParcel").documents(400)
    assert contract.validator("components/parcelUpdate.json", "request").is_valid({"note": "x"})


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def spec_text(**changes: str) -> str:
    text = SPEC.read_text(encoding="utf-8")
    for old, new in changes.items():
        text = text.replace(old.replace("_", " "), new)
    return text


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        (
            "swagger",
            lambda p: write(p, "s.yaml", "swagger: '2.0'\npaths: {}\n"),
            "is not an OpenAPI 3.x document (swagger: 2.0)",
        ),
        ("not yaml", lambda p: write(p, "s.yaml", "openapi: [3\n"), "is neither YAML nor JSON"),
        ("missing", lambda p: p / "nope.yaml", "cannot be read"),
        (
            "dangling ref",
            lambda p: write(
                p,
                "s.yaml",
                SPEC.read_text().replace("#/components/schemas/parcelResponse", "#/components/schemas/gone"),
            ),
            "$ref '#/components/schemas/gone' cannot be resolved",
        ),
        (
            "outside ref",
            lambda p: write(
                p, "s.yaml", SPEC.read_text().replace("#/components/schemas/parcelResponse", "other.yaml#/x")
            ),
            "points outside the document",
        ),
        (
            "no operationId",
            lambda p: write(p, "s.yaml", SPEC.read_text().replace("      operationId: Ping\n", "")),
            "GET /ping has no operationId",
        ),
        (
            "duplicate operationId",
            lambda p: write(p, "s.yaml", SPEC.read_text().replace("operationId: Ping", "operationId: ListParcels")),
            "operationId ListParcels is used twice",
        ),
    ],
)
def test_bad_input_is_refused_in_one_line(tmp_path, name, make, message):
    result = run(str(make(tmp_path)), "--out", str(tmp_path / "out"), "--overlay", "none")
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("name", "edit", "message"),
    [
        (
            "matches nothing",
            ("$.components.schemas.parcelUpdate", "$.components.schemas.gone"),
            "its target matches nothing",
        ),
        (
            "fixed upstream",
            ("description: updates are validated, so they answer 400", "description: already there"),
            None,
        ),
        (
            "no proof",
            ("    x-proof:\n      - {operation: UpdateParcel", "    x-nothing:\n      - {operation: UpdateParcel"),
            "has no x-proof",
        ),
        (
            "proof that does not need the action",
            ("valid: [{note: hi}]", "invalid: [5]"),
            "its proof holds without it too",
        ),
        (
            "two-line reason",
            ("description: an update's branch", "description: |\n      two\n      lines"),
            "one-line description",
        ),
        (
            "no direction",
            ("    x-direction: both\n    update:\n      x-conformance", "    update:\n      x-conformance"),
            "x-direction must be one of request, response, both (got None)",
        ),
        (
            "a direction on a status",
            ("answer 400\n    x-direction: both", "answer 400\n    x-direction: request"),
            "x-direction request applies to schemas only",
        ),
    ],
)
def test_an_overlay_entry_that_no_longer_applies_is_refused_by_a_strict_import(tmp_path, name, edit, message):
    text = OVERLAY.read_text(encoding="utf-8").replace(*edit)
    overlay = write(tmp_path, "overlay.yaml", text)
    spec = SPEC
    if name == "fixed upstream":
        # The vendor now documents the 400: the correction changes nothing and must be noticed.
        spec = write(
            tmp_path,
            "s.yaml",
            SPEC.read_text().replace(
                '        "200": {description: Changed}',
                '        "200": {description: Changed}\n'
                '        "400":\n'
                "          description: Bad\n"
                "          content:\n"
                "            application/json:\n"
                '              schema: {$ref: "#/components/schemas/errors"}\n'
                "              examples: {default: {value: {errors: [{code: bad_request, title: No}]}}}",
            ),
        )
        message = "the spec already says what it sets"
    result = run(str(spec), "--out", str(tmp_path / "out"), "--overlay", str(overlay), "--strict")
    assert result.returncode == 2, result.stdout
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_request_correction_constrains_requests_only_and_a_response_one_responses_only():
    _, contract = imported(DIRECTED)
    request, response = (contract.validator("components/parcel.json", view) for view in ("request", "response"))
    # action 1 (request): the note's pattern; action 2 (response): maxLength dropped from responses only
    assert not request.is_valid({"kind": "letter", "note": "Hello"})
    assert response.is_valid({"kind": "letter", "note": "Hello"})
    assert not request.is_valid({"kind": "letter", "note": "elevenchars"})
    assert response.is_valid({"kind": "letter", "note": "fourteen chars"})
    # action 3 (response): whole grams in answers, any weight in requests
    assert request.is_valid({"kind": "letter", "weight": 12.5})
    assert not response.is_valid({"kind": "letter", "weight": 12.5})
    # the webhook body is the same component, judged as an answer
    assert contract.index["webhooks"]["ParcelEvents"]["request"]["content"]["application/json"] == (
        "components/parcel.json"
    )


def test_a_response_correction_that_tightens_without_evidence_is_refused(tmp_path):
    text = DIRECTED.read_text(encoding="utf-8")
    overlay = write(tmp_path, "overlay.yaml", text.replace("    x-observed: every weight the live shop", "    x-n: "))
    result = run(str(SPEC), "--out", str(tmp_path / "out"), "--overlay", str(overlay))
    assert result.returncode == 2, result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
    assert "overlay action 3 ($.components.schemas.parcel.properties.weight) (x-direction response)" in result.stderr
    assert "makes responses stricter" in result.stderr
    assert "without evidence: add x-observed" in result.stderr
    # the same correction with its evidence is imported
    ok = run(str(SPEC), "--out", str(tmp_path / "ok"), "--overlay", str(DIRECTED))
    assert ok.returncode == 0, ok.stderr


def test_a_request_correction_needs_no_evidence(tmp_path):
    text = DIRECTED.read_text(encoding="utf-8").replace("    x-observed: the live shop answered", "    x-n: ")
    overlay = write(tmp_path, "overlay.yaml", text.replace("    x-observed: every weight the live shop", "    x-n: "))
    result = run(str(SPEC), "--out", str(tmp_path / "out"), "--overlay", str(overlay))
    # action 1 (request) never needed it, action 2 only loosens responses; action 3 is refused
    assert "overlay action 3 " in result.stderr
    assert "action 1 " not in result.stderr
    assert "action 2 " not in result.stderr


def test_a_spec_error_is_one_line_from_the_api_too():
    with pytest.raises(SpecError, match="is a folder"):
        load(FIXTURES)


# An overlay written for another release: each action that no longer applies, and why.
STALE_ACTIONS = """
  - target: $.components.schemas.gone
    description: a correction for a schema this release does not have
    x-direction: both
    update: {maxProperties: 3}
    x-proof: [{schema: components/parcel.json, invalid: [{a: 1, b: 2, c: 3, d: 4}]}]
  - target: $.paths['/shops/{shopId}/parcels'].post.responses
    description: creating a parcel answers 400 bad_request, which this release documents already
    x-direction: both
    update:
      "400":
        content:
          application/json:
            examples: {default: {value: {errors: [{code: bad_request, title: No}]}}}
    x-proof: [{operation: CreateParcel, statuses: [400], errorCodes: {"400": [bad_request]}}]
  - target: $.components.schemas.parcel
    description: a parcel is judged by the crate schema, which this release does not have
    x-direction: both
    update: {discriminator: {propertyName: kind, mapping: {crate: "#/components/schemas/crate"}}}
    x-proof: [{schema: components/parcel.json, invalid: [{kind: crate}]}]
"""
STALE_REASONS = [
    "action 3: a correction for a schema this release does not have [its target matches nothing in the spec",
    "action 4: creating a parcel answers 400 bad_request, which this release documents already "
    "[the spec already says what it sets (the vendor fixed it?)",
    "action 5: a parcel is judged by the crate schema, which this release does not have "
    "[it refers to #/components/schemas/crate, which the spec does not hold",
]


def test_an_import_of_another_release_leaves_out_each_action_that_no_longer_applies(tmp_path):
    overlay = write(tmp_path, "overlay.yaml", OVERLAY.read_text(encoding="utf-8") + STALE_ACTIONS)
    result = run(str(SPEC), "--out", str(tmp_path / "out"), "--overlay", str(overlay))
    assert result.returncode == 0, result.stderr
    assert "overlay " + str(overlay) + ": 2 correction(s)" in result.stdout
    assert "left out: 3 overlay action(s) that no longer apply to this spec" in result.stdout
    left_out = [line.strip()[2:] for line in result.stdout.splitlines() if line.startswith("    - action ")]
    assert [line.split(": $")[0] for line in left_out] == STALE_REASONS
    index = json.loads((tmp_path / "out" / "index.json").read_text(encoding="utf-8"))
    assert index["overlay"]["leftOut"] == [3, 4, 5]
    assert index["overlay"]["actions"] == 2
    # What was left out changed nothing: the parcel schema is the one the two applicable actions make.
    assert "crate" not in (tmp_path / "out" / "components" / "parcel.json").read_text(encoding="utf-8")
    # The project's own import refuses the first of them, in one line.
    strict = run(str(SPEC), "--out", str(tmp_path / "strict"), "--overlay", str(overlay), "--strict")
    assert strict.returncode == 2
    assert strict.stderr.strip().splitlines() == [
        "import-spec: error: overlay action 3 ($.components.schemas.gone) no longer applies: "
        "its target matches nothing in the spec"
    ]
    assert not (tmp_path / "strict").exists()


def test_an_import_of_another_release_notes_a_proof_that_no_longer_holds_and_keeps_the_action(tmp_path):
    # The proof names an operation this release does not have; the correction still applies.
    text = OVERLAY.read_text(encoding="utf-8").replace(
        "- {operation: UpdateParcel, statuses: [400]", "- {operation: PatchParcel, statuses: [400]"
    )
    overlay = write(tmp_path, "overlay.yaml", text)
    result = run(str(SPEC), "--out", str(tmp_path / "out"), "--overlay", str(overlay))
    assert result.returncode == 0, result.stderr
    assert "applied, but their proofs (written for another release) do not hold here: 1" in result.stdout
    assert (
        "    - action 2: updates are validated, so they answer 400 "
        "[its proof does not hold: the contract has no operation PatchParcel]"
    ) in result.stdout.splitlines()
    assert Contract.from_dir(tmp_path / "out").operation("UpdateParcel").documents(400)
    strict = run(str(SPEC), "--out", str(tmp_path / "strict"), "--overlay", str(overlay), "--strict")
    assert strict.returncode == 2
    assert "its proof does not hold: the contract has no operation PatchParcel" in strict.stderr


@pytest.mark.parametrize("name", ["no proof", "two-line reason", "no direction", "a direction on a status"])
def test_an_overlay_entry_that_is_malformed_is_refused_by_any_import(tmp_path, name):
    edits = {
        "no proof": (
            "    x-proof:\n      - {operation: UpdateParcel",
            "    x-nothing:\n      - {operation: UpdateParcel",
        ),
        "two-line reason": ("description: an update's branch", "description: |\n      two\n      lines"),
        "no direction": ("    x-direction: both\n    update:\n      x-conformance", "    update:\n      x-conformance"),
        "a direction on a status": ("answer 400\n    x-direction: both", "answer 400\n    x-direction: request"),
    }
    overlay = write(tmp_path, "overlay.yaml", OVERLAY.read_text(encoding="utf-8").replace(*edits[name]))
    result = run(str(SPEC), "--out", str(tmp_path / "out"), "--overlay", str(overlay))
    assert result.returncode == 2, result.stdout
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_new_folder_gets_the_projects_corrections_unless_told_none(tmp_path):
    project_overlay = SCHEMA_DIR / "overlay.yaml"
    actions = len(overlays.load(project_overlay).actions)
    result = run(str(SPEC), "--out", str(tmp_path / "next"))
    assert result.returncode == 0, result.stderr
    # None of the project's corrections is about the parcel shop: each is left out, and said so.
    assert f"overlay {project_overlay} (the project's corrections, by default): 0 correction(s)" in result.stdout
    assert f"left out: {actions} overlay action(s) that no longer apply to this spec" in result.stdout
    index = json.loads((tmp_path / "next" / "index.json").read_text(encoding="utf-8"))
    assert index["overlay"]["sha256"] == hashlib.sha256(project_overlay.read_bytes()).hexdigest()
    assert index["overlay"]["leftOut"] == list(range(1, actions + 1))
    bare = run(str(SPEC), "--out", str(tmp_path / "bare"), "--overlay", "none")
    assert "  overlay: none applied" in bare.stdout.splitlines()
    assert json.loads((tmp_path / "bare" / "index.json").read_text(encoding="utf-8"))["overlay"] is None


def test_a_folder_with_its_own_overlay_gets_that_one_by_default(tmp_path):
    shutil.copy(OVERLAY, tmp_path / "overlay.yaml")
    result = run(str(SPEC), "--out", str(tmp_path))
    assert f"overlay {tmp_path / 'overlay.yaml'} (beside the output, by default): 2 correction(s)" in result.stdout


def test_the_same_bytes_under_another_name_are_the_same_import(tmp_path):
    renamed = tmp_path / "vendor-release.yml"
    shutil.copy(SPEC, renamed)
    other_overlay = tmp_path / "corrections.yaml"
    shutil.copy(OVERLAY, other_overlay)
    first = build(load(SPEC), overlays.load(OVERLAY))
    second = build(load(renamed), overlays.load(other_overlay))
    assert second.files == first.files
    assert second.index["importHash"] == first.index["importHash"]
    # ...and one byte more is another import.
    changed = write(tmp_path, "changed.yaml", SPEC.read_text(encoding="utf-8") + "\n# one more line\n")
    assert build(load(changed), overlays.load(OVERLAY)).index["importHash"] != first.index["importHash"]
