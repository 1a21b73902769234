"""The upgrade workflow of the README, end to end, on a small fixture API that changes from v1 to v2.

v2 (tests/fixtures/upgrade/shop-v2.yaml) adds an operation and removes one (Ping, which a suite
test calls), adds a required query parameter and a webhook event, tightens a constraint, and
changes fields, statuses, media types and security; the overlay's action for Ping no longer applies.

Before: the shop's v1 contract is imported into ``schemas/`` with the overlay and ``--strict``, and
the suite recorded against the v1 shop into ``cassettes/``. Then the README's five commands, with
its flags (folders under the test's temporary folder; the suite is the shop's):

1. import the new spec into ``schemas-next/``: the overlay action that no longer applies is left out;
2. replay ``cassettes/`` offline against ``schemas-next/``: Ping's test is skipped, the recordings
   that no longer conform are named with why, and the cassettes recorded under the earlier import;
3. spec-diff the new spec against ``schemas/``: each change with its severity, the cassettes to
   re-record and the command;
4. re-record the same pinned variants against the upgraded (v2) shop into ``recordings/after/``;
5. drift ``cassettes/`` against ``recordings/after/``: what changed behaviour, and nothing else.

The pytest runs are subprocesses, as a user runs them; ``python -m conformance`` runs in this
process through its entry point (a start-up each would double the test's time). The shops run on
127.0.0.1.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from upgrade_support import KEY_SECRET, SUITE, UPGRADE, ShopServer, run, tool

from conformance.contract.schemas import load
from conformance.suites.generic.generated import generated_for

# The shop suite's own resource table (a fixture module, not a package).
_spec = importlib.util.spec_from_file_location("shop_suite", UPGRADE / "shop_suite.py")
assert _spec is not None
assert _spec.loader is not None
shop_suite = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(shop_suite)
SHOP_RESOURCES = shop_suite.SHOP_RESOURCES
# The shop's own tests, beside those its table makes; the create's refusals the table makes for the parcel.
OWN = ("test_list_parcels_by_colour", "test_ping_answers")
CREATE_REFUSALS = (
    "rejects_body_that_is_not_json",
    "rejects_empty_object",
    "rejects_missing_required_fields",
    "rejects_out_of_bound_values",
    "rejects_values_outside_enums",
    "rejects_wrong_json_types",
)

UNAUTHORIZED = "Get Parcel answers 401 to wrong credentials, though the shop does not document it"
CLOSED = "Ping answers 503 while the shop is closed, though the shop does not document it"


def pytest_args(*args: str) -> tuple[str, ...]:
    return ("-m", "pytest", SUITE, "-p", "no:cacheprovider", "-q", *args)


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    w = tmp_path_factory.mktemp("upgrade")
    steps: dict[str, Any] = {"folder": w}
    # The live runs' ledgers of what they made, under w rather than the project's folder.
    state = {"SUNCO_STATE_DIR": f"{w}/state"}
    # Before the upgrade: the project's own import of v1 (its overlay in schemas/, --strict), recorded.
    (w / "schemas").mkdir()
    shutil.copy(UPGRADE / "shop-overlay.yaml", w / "schemas" / "overlay.yaml")
    steps["import-v1"] = tool(
        "import-spec",
        str(UPGRADE / "shop-v1.yaml"),
        "--out",
        f"{w}/schemas",
        "--overlay",
        f"{w}/schemas/overlay.yaml",
        "--strict",
    )
    with ShopServer(1) as shop:
        steps["record-v1"] = run(
            *pytest_args("--record-mode=rewrite", f"--cassette-dir={w}/cassettes", f"--schema-dir={w}/schemas"),
            env={**shop.env(), **state},
        )
    # The README's steps, with its flags; folders are under w, and the suite is the shop's.
    # 1. import the new spec beside the current one, with the project's corrections
    steps["import"] = tool(
        "import-spec",
        str(UPGRADE / "shop-v2.yaml"),
        "--out",
        f"{w}/schemas-next",
        "--overlay",
        f"{w}/schemas/overlay.yaml",
    )
    # 2. replay the existing cassettes offline against the new schemas
    steps["replay"] = run(
        *pytest_args(
            f"--cassette-dir={w}/cassettes", f"--schema-dir={w}/schemas-next", f"--conformance-markdown={w}/replay.md"
        )
    )
    # 3. the contract's changes, from a client's side (--cassettes and --suite name the project's defaults)
    steps["spec-diff"] = tool(
        "spec-diff",
        str(UPGRADE / "shop-v2.yaml"),
        "--against",
        f"{w}/schemas",
        "--markdown",
        f"{w}/spec-diff.md",
        "--cassettes",
        f"{w}/cassettes",
        "--suite",
        str(UPGRADE),
    )
    # 4. re-record the same pinned variants against the upgraded API
    with ShopServer(2) as shop:
        steps["re-record"] = run(
            *pytest_args(
                f"--schema-dir={w}/schemas-next",
                "--record-mode=rewrite",
                f"--cassette-dir={w}/recordings/after",
                f"--variants-from={w}/cassettes",
            ),
            env={**shop.env(), **state},
        )
    # 5. the behaviour's changes, field by field
    steps["drift"] = tool("drift", f"{w}/cassettes", f"{w}/recordings/after", "--markdown", f"{w}/drift.md")
    return steps


def pins(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())["metadata"]["conformance"]


def block(*lines: str) -> str:
    """Lines as printed one after the other."""
    return "\n".join(lines) + "\n"


def kinds(spec_diff: str) -> set[str]:
    return set(re.findall(r"^  (?:breaking|additive|cosmetic) +(\S+) ", spec_diff, re.MULTILINE))


def test_before_the_upgrade_the_project_imports_v1_strictly_and_records_it(walk):
    w = walk["folder"]
    result = walk["import-v1"]
    assert result.returncode == 0, result.stderr
    assert f"  overlay {w}/schemas/overlay.yaml: 2 correction(s)\n" in result.stdout
    assert "left out" not in result.stdout
    record = walk["record-v1"]
    assert record.returncode == 0, record.stdout[-3000:]
    assert "conformance tests: 13 passed, 0 failed\n" in record.stdout
    # The parcel's tests are the ones the shop's table makes for v1, beside the shop's own two.
    recorded = {path.stem for path in (w / "cassettes" / "shop_suite").glob("*.yaml")}
    assert recorded == {*generated_for("parcel", load(w / "schemas"), SHOP_RESOURCES), *OWN}


def test_1_import_leaves_out_the_overlay_action_for_the_removed_operation(walk):
    w = walk["folder"]
    result = walk["import"]
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    sha = hashlib.sha256((UPGRADE / "shop-v2.yaml").read_bytes()).hexdigest()[:12]
    assert result.stdout.startswith(
        block(
            f"imported shop-v2.yaml (OpenAPI 3.0.3, version 2.0.0, sha256 {sha})",
            "  6 operations, 2 webhook(s), 5 component schemas",
        )
    )
    assert (
        block(
            f"  overlay {w}/schemas/overlay.yaml: 1 correction(s)",
            f"    - {UNAUTHORIZED} [1 place(s): $.paths['/shops/{{shopId}}/parcels/{{parcelId}}'].get.responses]",
            "  left out: 1 overlay action(s) that no longer apply to this spec",
            f"    - action 2: {CLOSED} [its target matches nothing in the spec: $.paths['/ping'].get.responses]",
        )
        in result.stdout
    )
    index = json.loads((w / "schemas-next" / "index.json").read_text())
    assert index["source"]["version"] == "2.0.0"
    assert index["overlay"]["leftOut"] == [2]


def test_1_import_strict_refuses_the_overlay_action_that_no_longer_applies(walk, tmp_path):
    w = walk["folder"]
    result = tool(
        "import-spec",
        str(UPGRADE / "shop-v2.yaml"),
        "--out",
        str(tmp_path / "next"),
        "--overlay",
        f"{w}/schemas/overlay.yaml",
        "--strict",
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "action 2" in result.stderr
    assert "its target matches nothing in the spec" in result.stderr


def test_2_replay_names_the_tests_to_re_record_and_skips_the_removed_operation(walk):
    w = walk["folder"]
    result = walk["replay"]
    assert result.returncode == 1
    out = result.stdout
    summary = out[out.index("conformance summary") :]
    assert "conformance tests: 9 passed, 3 failed, 1 skipped\n" in summary
    # The removed operation: its test is skipped, in one line naming the operation and the version.
    assert "the contract (spec 2.0.0) has no operation Ping (1): test_ping_answers\n" in summary
    # The new required query parameter, and the new answers' rules the old ones break, once each.
    lifecycle = f"{w}/cassettes/shop_suite/test_parcel_lifecycle.yaml"
    required = "required (/properties/parcel/required in the schema): 'trackingCode' is a required property"
    status = (
        "enum (/properties/parcel/properties/status/enum in the schema): "
        + "'created' is not one of ['pending', 'sent']"
    )
    assert (
        block(
            f"recordings that no longer conform (3), checked against {w}/schemas-next:",
            f"  {w}/cassettes/shop_suite/test_create_parcel_accepts_valid_bodies.yaml",
            f"    CreateParcel 201 /parcel {required} (3 exchanges)",
            f"    CreateParcel 201 /parcel/status {status} (3 exchanges)",
            # Teardown's deletes expect what v2 documents (204); v1 answered 200.
            "    DeleteParcel 200 the variant's expected outcome (3 exchanges)",
            f"  {w}/cassettes/shop_suite/test_list_parcels_by_colour.yaml",
            "    ListParcels (GET /shops/{shopId}/parcels) is replayed without the query parameter region, "
            "which the contract (spec 2.0.0) requires.",
            f"  {lifecycle}",
            f"    CreateParcel 201 /parcel {required}",
            f"    CreateParcel 201 /parcel/status {status}",
            f"    GetParcel 200 /parcel {required}",
            f"    GetParcel 200 /parcel/status {status}",
            f"    ListParcels 200 /parcels/0 {required.replace('/parcel/', '/parcels/items/')}",
            f"    ListParcels 200 /parcels/0/status {status.replace('/parcel/', '/parcels/items/')}",
        )
        in summary
    )
    # The failure names the test to re-record, and how.
    assert (
        "  next step : the recording predates the contract: re-record it: SUNCO_API_URL=… SUNCO_APP_ID=… "
        "SUNCO_KEY_ID=… SUNCO_KEY_SECRET=… pytest tests/fixtures/upgrade/shop_suite.py::test_list_parcels_by_colour "
        f"--record-mode=rewrite --cassette-dir={w}/cassettes\n"
    ) in out
    # Each cassette names the operations it calls whose schemas v2 changed: the parcel's fields
    # (CreateParcel, GetParcel), the new query parameter (ListParcels), DeleteParcel's answers, Ping gone.
    index = json.loads((w / "schemas-next" / "index.json").read_text())
    changed = {
        "create_parcel_accepts_valid_bodies": "CreateParcel, DeleteParcel",
        **{f"create_parcel_{name}": "CreateParcel" for name in CREATE_REFUSALS},
        "create_parcel_requires_credentials": "CreateParcel",
        "delete_parcel_returns_404_for_unknown_id": "DeleteParcel",
        "get_parcel_returns_404_for_unknown_id": "GetParcel",
        "list_parcels_by_colour": "ListParcels",
        "parcel_lifecycle": "CreateParcel, DeleteParcel, GetParcel, ListParcels",
        "ping_answers": "Ping",
    }
    assert (
        block(
            f"recorded under earlier schemas of the operations they call than {w}/schemas-next "
            f"(import {index['importHash'][:12]}): re-record them",
            *(f"  {w}/cassettes/shop_suite/test_{name}.yaml (changed: {ops})" for name, ops in changed.items()),
        )
        in summary
    )
    markdown = (w / "replay.md").read_text()
    assert "## Recordings that no longer conform" in markdown
    assert f"- `{lifecycle}`" in markdown


def test_3_spec_diff_reports_each_change_with_its_severity_and_the_cassettes_to_re_record(walk):
    w = walk["folder"]
    result = walk["spec-diff"]
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert out.startswith(f"spec-diff: {w}/schemas (1.0.0) -> {UPGRADE}/shop-v2.yaml (2.0.0)\n")
    # An operation added, one removed; a required parameter and a webhook event added; a constraint tightened.
    assert (
        block(
            "TrackParcel",
            '  additive  operation-added  operation: (none) -> "GET /shops/{shopId}/parcels/{parcelId}/tracking"',
        )
        in out
    )
    assert (
        block("Ping", '  breaking  operation-removed  operation: "GET /ping" -> (none)', " " * 31 + "(1 cassette)")
        in out
    )
    assert (
        block(
            "ListParcels",
            "  breaking  request-field-required  query parameters /region: (none) -> "
            '{"type": ["string"], "required": true}',
            " " * 36 + "(2 cassettes)",
        )
        in out
    )
    assert block("webhook ParcelDelivered", '  additive  webhook-added  webhook: (none) -> "ParcelDelivered"') in out
    assert (
        block(
            "  breaking  constraint-tightened    schema parcelCreate (request) /note: "
            '{"maxLength": 10} -> {"maxLength": 8}',
            " " * 36 + "(reaches CreateParcel)",
            " " * 36 + "(9 cassettes)",
        )
        in out
    )
    assert {
        "operation-added",
        "operation-removed",
        "webhook-added",
        "constraint-tightened",
        "request-field-required",
        "request-field-removed",
        "response-field-added",
        "response-field-removed",
        "type-narrowed",
        "enum-value-added",
        "enum-value-removed",
        "status-added",
        "status-removed",
        "media-type-added",
        "media-type-removed",
        "security-widened",
    } <= kinds(out)
    assert (
        block(
            "overlay actions that no longer apply (compared without them):",
            "  overlay action 2 ($.paths['/ping'].get.responses) no longer applies: "
            "its target matches nothing in the spec; compared without it",
            "",
            "28 changes: 13 breaking, 11 additive, 4 cosmetic",
        )
        in out
    )
    # Every recording calls an operation a breaking change reaches: each is to be re-recorded, and the command says how.
    names = sorted(path.stem.removeprefix("test_") for path in (w / "cassettes" / "shop_suite").glob("*.yaml"))
    assert len(names) == 13
    assert out.endswith(
        block(
            f"cassettes to re-record ({len(names)}):",
            *(f"  {w}/cassettes/shop_suite/test_{name}.yaml" for name in names),
            "re-record them against the upgraded API with:",
            "  SUNCO_API_URL=… SUNCO_APP_ID=… SUNCO_KEY_ID=… SUNCO_KEY_SECRET=… pytest "
            + " ".join(f"{UPGRADE}/shop_suite.py::test_{name}" for name in names)
            + " --schema-dir schemas-next --record-mode=rewrite --cassette-dir recordings/after"
            + " --variants-from cassettes",
        )
    )
    assert (w / "spec-diff.md").read_text().startswith("# Contract changes")


def test_4_re_recording_sends_the_same_pinned_variants_to_the_upgraded_api(walk):
    w = walk["folder"]
    result = walk["re-record"]
    # The v2 shop refuses v1's parcels without a weight (the valid bodies' two, the lifecycle's one) and a list
    # without a region, and takes a giftWrap of any type (v2 dropped the field): the run fails, and the recording
    # is made.
    assert result.returncode == 1
    out = result.stdout
    assert "conformance tests: 8 passed, 4 failed, 1 skipped\n" in out
    assert "the contract (spec 2.0.0) has no operation Ping (1): test_ping_answers\n" in out
    assert "[2] CreateParcel (POST /shops/{shopId}/parcels) answered 400 where 201 was expected.\n" in out
    assert "  variant   : create-0\n" in out
    assert "CreateParcel (POST /shops/{shopId}/parcels) answered 201 where 400 was expected.\n" in out
    assert "ListParcels (GET /shops/{shopId}/parcels) answered 400 where 200 was expected.\n" in out
    # v2's deletes answer 204, which it documents: teardown counts them as done and leaves nothing behind.
    assert "this run made are still there" not in out
    before, after = w / "cassettes", w / "recordings" / "after"
    made = sorted(path.relative_to(after) for path in after.rglob("*.yaml"))
    # Each test is recorded again, the skipped one as its skip.
    assert made == sorted(path.relative_to(before) for path in before.rglob("*.yaml"))
    for path in made:
        assert pins(after / path)["variants"] == pins(before / path)["variants"], path
        assert pins(after / path)["recording"]["specVersion"] == "2.0.0"
    assert KEY_SECRET not in "".join(p.read_text() for p in after.rglob("*.yaml"))


DRIFT = """\
shop_suite/test_create_parcel_accepts_valid_bodies.yaml
  breaking  CreateParcel create-valid-0 (POST /shops/s-1/parcels)
            body /parcel/legacyRef: "L-000000000000000000000001" -> (absent)
  breaking  CreateParcel create-valid-0 (POST /shops/s-1/parcels)
            body /parcel/status: "created" -> "pending"
  additive  CreateParcel create-valid-0 (POST /shops/s-1/parcels)
            body /parcel/trackingCode: (absent) -> "T-000000000000000000000001"
  breaking  CreateParcel create-valid-1 (POST /shops/s-1/parcels)
            status: 201 -> 400
  breaking  CreateParcel create-valid-2 (POST /shops/s-1/parcels)
            status: 201 -> 400
  breaking  DeleteParcel after create-valid-2 (DELETE /shops/s-1/parcels/{id})
            status: 200 -> 204
  breaking  DeleteParcel after create-valid-2 #2 (DELETE /shops/s-1/parcels/{id})
            exchange: "made" -> (absent)
  breaking  DeleteParcel after create-valid-2 #3 (DELETE /shops/s-1/parcels/{id})
            exchange: "made" -> (absent)
shop_suite/test_create_parcel_rejects_wrong_json_types.yaml
  breaking  CreateParcel wrong-types-3 (POST /shops/s-1/parcels)
            status: 400 -> 201
  additive  DeleteParcel after wrong-types-3 (DELETE /shops/s-1/parcels/{id})
            exchange: (absent) -> "made"
shop_suite/test_list_parcels_by_colour.yaml
  breaking  ListParcels (GET /shops/s-1/parcels?colour=red)
            status: 200 -> 400
shop_suite/test_parcel_lifecycle.yaml
  breaking  CreateParcel create-0 (POST /shops/s-1/parcels)
            status: 201 -> 400
  breaking  GetParcel after create-0 (GET /shops/s-1/parcels/{id})
            exchange: "made" -> (absent)
  breaking  ListParcels after create-0 (GET /shops/s-1/parcels)
            exchange: "made" -> (absent)
  breaking  DeleteParcel after create-0 (DELETE /shops/s-1/parcels/{id})
            exchange: "made" -> (absent)
  breaking  GetParcel after create-0 #2 (GET /shops/s-1/parcels/{id})
            exchange: "made" -> (absent)
shop_suite/test_ping_answers.yaml
  breaking  Ping (GET /ping)
            exchange: "made" -> (absent)
drift: 17 change(s) (15 breaking, 2 additive, 0 cosmetic) in 23 paired exchange(s), 0 volatile value(s) compared by \
shape only, 0 retried answer(s) left out, 0 not comparable
"""


def test_5_drift_lists_what_changed_behaviour_and_nothing_else(walk):
    result = walk["drift"]
    assert result.returncode == 1, result.stderr
    assert result.stdout == DRIFT
    # The rejection of an unknown kind answers as before: it is not listed.
    assert "test_create_parcel_rejects_values_outside_enums" not in result.stdout
    assert "| **breaking** |" in (walk["folder"] / "drift.md").read_text()
