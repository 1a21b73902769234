"""The upgrade workflow of the README, end to end, on a small fixture API that changes from v1 to v2.

Before: the shop's v1 contract is imported into ``schemas/`` and the suite recorded against the v1
shop into ``before/``. Then, as the README says:

1. import the new spec into ``schemas-next/``;
2. replay ``before/`` offline against ``schemas-next/``: the summary names the recordings that no
   longer conform, and why, and the cassettes recorded under the earlier import;
3. spec-diff the new spec against ``schemas/``;
4. re-record the same pinned variants against the upgraded (v2) shop into ``after/``;
5. drift ``before/`` against ``after/``.

Every command runs in a subprocess, as a user would run it; the shops run on 127.0.0.1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from upgrade_support import KEY_SECRET, SUITE, UPGRADE, ShopServer, run

LIFECYCLE = "shop_suite/test_parcel_lifecycle.yaml"


def pytest_args(*args: str) -> tuple[str, ...]:
    return ("-m", "pytest", SUITE, "-p", "no:cacheprovider", "-q", *args)


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    w = tmp_path_factory.mktemp("upgrade")
    steps: dict[str, Any] = {"folder": w}
    # Before the upgrade: v1 imported and recorded.
    steps["import-v1"] = run(
        "-m",
        "conformance",
        "import-spec",
        str(UPGRADE / "shop-v1.yaml"),
        "--out",
        str(w / "schemas"),
        "--overlay",
        "none",
    )
    with ShopServer(1) as shop:
        steps["record-v1"] = run(
            *pytest_args("--record-mode=rewrite", f"--cassette-dir={w / 'before'}", f"--schema-dir={w / 'schemas'}"),
            env=shop.env(),
        )
    # 1. import the new spec
    steps["import"] = run(
        "-m",
        "conformance",
        "import-spec",
        str(UPGRADE / "shop-v2.yaml"),
        "--out",
        str(w / "schemas-next"),
        "--overlay",
        "none",
    )
    # 2. replay the existing cassettes offline against the new schemas
    steps["replay"] = run(
        *pytest_args(
            f"--cassette-dir={w / 'before'}",
            f"--schema-dir={w / 'schemas-next'}",
            f"--conformance-report={w / 'replay.json'}",
            f"--conformance-markdown={w / 'replay.md'}",
        )
    )
    # 3. spec-diff
    steps["spec-diff"] = run(
        "-m",
        "conformance",
        "spec-diff",
        str(UPGRADE / "shop-v2.yaml"),
        "--against",
        str(w / "schemas"),
        "--cassettes",
        str(w / "before"),
        "--suite",
        str(UPGRADE),
        "--json",
        str(w / "spec-diff.json"),
        "--markdown",
        str(w / "spec-diff.md"),
    )
    # 4. re-record the same pinned variants against the upgraded API
    with ShopServer(2) as shop:
        steps["re-record"] = run(
            *pytest_args(
                "--record-mode=rewrite",
                f"--cassette-dir={w / 'after'}",
                f"--schema-dir={w / 'schemas-next'}",
                f"--variants-from={w / 'before'}",
            ),
            env=shop.env(),
        )
    # 5. drift
    steps["drift"] = run(
        "-m",
        "conformance",
        "drift",
        str(w / "before"),
        str(w / "after"),
        "--json",
        str(w / "drift.json"),
        "--markdown",
        str(w / "drift.md"),
    )
    return steps


def pins(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())["metadata"]["conformance"]


def test_before_the_upgrade_the_recording_conforms(walk):
    assert walk["import-v1"].returncode == 0, walk["import-v1"].stderr
    record = walk["record-v1"]
    assert record.returncode == 0, record.stdout[-3000:]
    assert "3 passed" in record.stdout


def test_1_the_new_spec_imports(walk):
    result = walk["import"]
    assert result.returncode == 0, result.stderr
    index = json.loads((walk["folder"] / "schemas-next" / "index.json").read_text())
    assert index["source"]["version"] == "2.0.0"


def test_2_replay_names_the_recordings_that_no_longer_conform_and_why(walk):
    result = walk["replay"]
    assert result.returncode == 1
    out = result.stdout
    summary = out[out.index("conformance summary") :]
    section = summary[summary.index("recordings that no longer conform (1)") :]
    lifecycle = str(walk["folder"] / "before" / LIFECYCLE)
    assert lifecycle in section
    # Why: each rule of the new contract the old answers break, once each.
    assert "CreateParcel 201 /parcel required" in section
    assert "'trackingCode' is a required property (3 exchanges)" in section
    assert "CreateParcel 201 /parcel/status enum" in section
    assert "'created' is not one of ['pending', 'sent']" in section
    assert "CreateParcel 201 /parcel/weight type" in section
    assert "2.5 is not of type 'integer'" in section
    # The rejections and the list still conform: they are not named.
    assert "test_create_parcel_rejects_unknown_kinds.yaml\n" not in section
    assert "test_list_parcels_by_colour.yaml\n" not in section
    # Every cassette was recorded under the v1 import.
    assert "recorded under an earlier import of the contract than" in summary
    report = json.loads((walk["folder"] / "replay.json").read_text())
    recordings = report["recordings"]
    assert list(recordings["notConforming"]) == [lifecycle]
    assert len(recordings["otherImport"]) == 3
    assert {p["specVersion"] for p in recordings["otherImport"]} == {"1.0.0"}
    markdown = (walk["folder"] / "replay.md").read_text()
    assert "## Recordings that no longer conform" in markdown
    assert f"- `{lifecycle}`" in markdown


def test_3_spec_diff_shows_the_breaking_changes(walk):
    result = walk["spec-diff"]
    assert result.returncode == 1, result.stderr
    data = json.loads((walk["folder"] / "spec-diff.json").read_text())
    kinds = {c["kind"] for c in data["changes"]}
    assert {
        "operation-added",
        "operation-removed",
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
    } <= kinds
    assert (walk["folder"] / "spec-diff.md").read_text().startswith("# Contract changes")
    # Every recording calls an operation that changed: each is to be re-recorded, and the command says how.
    before = walk["folder"] / "before"
    assert data["reRecord"] == sorted(str(path) for path in before.rglob("*.yaml"))
    assert f"cassettes to re-record ({len(data['reRecord'])}):" in result.stdout
    assert f"pytest {UPGRADE}/shop_suite.py::test_create_parcel_rejects_unknown_kinds " in result.stdout
    assert "--record-mode=rewrite --cassette-dir recordings/after --variants-from cassettes" in result.stdout


def test_4_re_recording_sends_the_same_pinned_variants_to_the_upgraded_api(walk):
    result = walk["re-record"]
    # The v2 shop refuses two of v1's parcels: the run fails, and the recording is made.
    assert result.returncode == 1
    assert "answered 400 where 201 was expected" in result.stdout
    before, after = walk["folder"] / "before", walk["folder"] / "after"
    for path in sorted(before.rglob("*.yaml")):
        again = after / path.relative_to(before)
        assert pins(again)["variants"] == pins(path)["variants"], path
        assert pins(again)["recording"]["specVersion"] == "2.0.0"
    assert KEY_SECRET not in "".join(p.read_text() for p in after.rglob("*.yaml"))


def test_5_drift_pairs_the_exchanges_and_classes_the_changes(walk):
    result = walk["drift"]
    assert result.returncode == 1, result.stderr
    data = json.loads((walk["folder"] / "drift.json").read_text())
    assert data["notComparable"] == []
    found = {(c["exchange"], c["where"], c["class"]) for c in data["changes"]}
    assert found == {
        ("CreateParcel create-0", "body /parcel/status", "breaking"),
        ("CreateParcel create-0", "body /parcel/legacyRef", "breaking"),
        ("CreateParcel create-0", "body /parcel/trackingCode", "additive"),
        ("GetParcel after create-0", "body /parcel/status", "breaking"),
        ("GetParcel after create-0", "body /parcel/legacyRef", "breaking"),
        ("GetParcel after create-0", "body /parcel/trackingCode", "additive"),
        ("DeleteParcel after create-0", "status", "breaking"),
        ("CreateParcel create-1", "status", "breaking"),
        ("GetParcel after create-1", "exchange", "breaking"),
        ("DeleteParcel after create-1", "exchange", "breaking"),
        ("CreateParcel create-2", "status", "breaking"),
        ("GetParcel after create-2", "exchange", "breaking"),
        ("DeleteParcel after create-2", "exchange", "breaking"),
    }
    statuses = {c["exchange"]: (c["baseline"], c["candidate"]) for c in data["changes"] if c["where"] == "status"}
    assert statuses["DeleteParcel after create-0"] == (200, 204)
    assert statuses["CreateParcel create-1"] == (201, 400)
    assert "| **breaking** |" in (walk["folder"] / "drift.md").read_text()
