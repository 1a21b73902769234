"""Stale recordings and reports CI can read: each cassette says when, where and under what it was recorded.

The fixture shop (tests/upgrade_support.py) is recorded once with its v1 contract; each test then
replays a copy, some with one cassette edited to look older or made under another import.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml
from upgrade_support import SUITE, UPGRADE, ShopServer, run

from conformance.session import runs

LIST = "shop_suite/test_list_parcels_by_colour.yaml"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("aged")
    schemas, cassettes = folder / "schemas", folder / "cassettes"
    imported = run(
        "-m", "conformance", "import-spec", str(UPGRADE / "shop-v1.yaml"), "--out", str(schemas), "--overlay", "none"
    )
    assert imported.returncode == 0, imported.stderr
    with ShopServer(1) as shop:
        result = run(
            "-m",
            "pytest",
            SUITE,
            "-p",
            "no:cacheprovider",
            "--record-mode=rewrite",
            f"--cassette-dir={cassettes}",
            f"--schema-dir={schemas}",
            env=shop.env(),
        )
    assert result.returncode == 0, result.stdout[-2000:]
    return {"schemas": schemas, "cassettes": cassettes}


def replay(recorded: dict[str, Path], cassettes: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(
        "-m",
        "pytest",
        SUITE,
        "-p",
        "no:cacheprovider",
        f"--cassette-dir={cassettes}",
        f"--schema-dir={recorded['schemas']}",
        *args,
    )


def copy_with(recorded: dict[str, Path], tmp_path: Path, change) -> Path:
    copy = tmp_path / "cassettes"
    shutil.copytree(recorded["cassettes"], copy)
    path = copy / LIST
    data = yaml.safe_load(path.read_text())
    change(data["metadata"]["conformance"])
    path.write_text(yaml.safe_dump(data))
    return copy


def days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def summary(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout[result.stdout.index("conformance summary") :]


def test_each_cassette_says_when_where_and_under_what_it_was_recorded(recorded):
    index = json.loads((recorded["schemas"] / "index.json").read_text())
    for path in recorded["cassettes"].rglob("*.yaml"):
        block = yaml.safe_load(path.read_text())["metadata"]["conformance"]["recording"]
        assert set(block) == {"recordedAt", "host", "specVersion", "importHash", "harness", "runId", "schemaHashes"}
        # One hash per operation its exchanges called, and none other.
        exchanges = yaml.safe_load(path.read_text())["metadata"]["conformance"]["exchanges"]
        assert set(block["schemaHashes"]) == {exchange["operation"] for exchange in exchanges}
        assert runs.RUN_ID.fullmatch(block["runId"])
        assert block["host"].startswith("127.0.0.1:")
        assert block["specVersion"] == "1.0.0"
        assert block["importHash"] == index["importHash"]
        assert datetime.fromisoformat(block["recordedAt"].replace("Z", "+00:00")) > datetime.now(UTC) - timedelta(1)


def count_tests(recorded: dict[str, Path]) -> int:
    """How many tests the recording made: one cassette each."""
    return len(list(recorded["cassettes"].rglob("*.yaml")))


def test_fresh_cassettes_pass_the_age_limit_and_the_oldest_is_named(recorded):
    result = replay(recorded, recorded["cassettes"], "--max-cassette-age=30")
    assert result.returncode == 0, result.stdout[-2000:]
    assert "oldest cassette: " in summary(result)
    assert "older than --max-cassette-age" not in summary(result)
    assert "recorded under earlier schemas" not in summary(result)


def test_an_older_cassette_fails_the_run_and_is_named(recorded, tmp_path):
    copy = copy_with(recorded, tmp_path, lambda pins: pins["recording"].update(recordedAt=days_ago(40)))
    result = replay(recorded, copy, "--max-cassette-age=30", f"--conformance-report={tmp_path / 'r.json'}")
    assert result.returncode == 1
    out = result.stdout
    assert "The recording of tests/fixtures/upgrade/shop_suite.py::test_list_parcels_by_colour is 40.0 days old" in out
    assert "over --max-cassette-age 30" in out
    assert "re-record it: SUNCO_API_URL=" in out
    text = summary(result)
    assert f"oldest cassette: {copy / LIST}, recorded" in text
    assert "(40 days ago)" in text
    assert f"cassettes older than --max-cassette-age 30 days: 1\n  {copy / LIST}" in text
    assert f"{count_tests(recorded) - 1} passed, 1 failed" in text
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["recordings"]["stale"] == [str(copy / LIST)]
    assert report["recordings"]["oldest"]["cassette"] == str(copy / LIST)
    # Without the option the same cassette replays; it is still the oldest.
    relaxed = replay(recorded, copy)
    assert relaxed.returncode == 0
    assert f"oldest cassette: {copy / LIST}" in summary(relaxed)


def test_a_cassette_that_does_not_say_when_it_was_made_fails_an_age_limit(recorded, tmp_path):
    copy = copy_with(recorded, tmp_path, lambda pins: pins.pop("recording"))
    result = replay(recorded, copy, "--max-cassette-age=30")
    assert result.returncode == 1
    assert "does not say when it was made" in result.stdout
    assert "1 cassette(s) do not say when or under which import they were recorded" in summary(result)


def older_import(pins):
    """As a cassette recorded under another import, before cassettes kept schema hashes."""
    pins["recording"].pop("schemaHashes")
    pins["recording"].update(importHash="0" * 64, specVersion="0.9")


def test_a_cassette_without_schema_hashes_recorded_under_another_import_is_named(recorded, tmp_path):
    copy = copy_with(recorded, tmp_path, older_import)
    result = replay(recorded, copy)
    assert result.returncode == 0
    text = summary(result)
    assert "recorded under earlier schemas of the operations they call than" in text
    assert f"  {copy / LIST} (import 000000000000, spec 0.9)" in text
    assert sum(line.startswith("  ") and "(import " in line for line in text.splitlines()) == 1


def test_another_import_alone_marks_no_cassette_that_keeps_schema_hashes(recorded, tmp_path):
    copy = copy_with(recorded, tmp_path, lambda pins: pins["recording"].update(importHash="0" * 64))
    result = replay(recorded, copy)
    assert result.returncode == 0
    assert "recorded under earlier schemas" not in summary(result)


def schemas_with(recorded: dict[str, Path], tmp_path: Path, name: str, change) -> Path:
    folder = tmp_path / "schemas"
    shutil.copytree(recorded["schemas"], folder)
    data = json.loads((folder / name).read_text())
    change(data)
    (folder / name).write_text(json.dumps(data))
    return folder


def called(recorded: dict[str, Path], operations: set[str]) -> list[str]:
    """The cassettes whose exchanges call one of ``operations``, as the summary names them."""
    return sorted(
        str(path)
        for path in recorded["cassettes"].rglob("*.yaml")
        if operations
        & {e["operation"] for e in yaml.safe_load(path.read_text())["metadata"]["conformance"]["exchanges"]}
    )


CONTRACT_CHANGES = [
    # (what, the file changed, how, the operations it reaches)
    ("one operation's entry", "index.json", lambda index: index["operations"]["Ping"].update(tag="Health"), {"Ping"}),
    (
        "a component several operations reach",
        "components/parcel.json",
        lambda parcel: parcel.update(minProperties=1),
        {"CreateParcel", "GetParcel", "ListParcels"},
    ),
]


@pytest.mark.parametrize(("what", "name", "change", "reached"), CONTRACT_CHANGES, ids=[c[0] for c in CONTRACT_CHANGES])
def test_a_contract_change_names_only_the_cassettes_whose_operations_it_reaches(
    recorded, tmp_path, what, name, change, reached
):
    schemas = schemas_with(recorded, tmp_path, name, change)
    result = run(
        "-m", "pytest", SUITE, "-p", "no:cacheprovider", f"--cassette-dir={recorded['cassettes']}",
        f"--schema-dir={schemas}", f"--conformance-report={tmp_path / 'r.json'}",
    )  # fmt: skip
    text = summary(result)
    assert "recorded under earlier schemas of the operations they call than" in text
    marked = [line.strip().split(" (")[0] for line in text.splitlines() if "(changed: " in line]
    expected = called(recorded, reached)
    assert marked == expected
    assert 0 < len(expected) < len(list(recorded["cassettes"].rglob("*.yaml")))
    report = json.loads((tmp_path / "r.json").read_text())
    assert [p["cassette"] for p in report["recordings"]["otherImport"]] == expected
    assert all(set(p["changed"]) <= reached for p in report["recordings"]["otherImport"])


def test_the_junit_property_of_verdicts_is_json(recorded, tmp_path):
    result = replay(recorded, recorded["cassettes"], f"--junitxml={tmp_path / 'junit.xml'}")
    assert result.returncode == 0
    tree = ElementTree.parse(tmp_path / "junit.xml")  # noqa: S314 - a file this test just wrote
    values = [p.get("value") or "" for p in tree.iter("property") if p.get("name") == "conformance"]
    assert len(values) == count_tests(recorded)
    verdicts = [verdict for value in values for verdict in json.loads(value)]
    assert {v["operation"] for v in verdicts} >= {"CreateParcel", "GetParcel", "DeleteParcel", "ListParcels", "Ping"}
    assert all(set(v) >= {"operation", "status", "variant", "ok", "failures"} for v in verdicts)
    recordings = [
        json.loads(p.get("value") or "") for p in tree.iter("property") if p.get("name") == "conformance-recording"
    ]
    assert {r["specVersion"] for r in recordings} == {"1.0.0"}


def test_the_markdown_report_has_the_summary_table(recorded, tmp_path):
    result = replay(recorded, recorded["cassettes"], f"--conformance-markdown={tmp_path / 'r.md'}")
    assert result.returncode == 0
    text = (tmp_path / "r.md").read_text()
    assert text.startswith(
        f"# Conformance summary\n\nconformance tests: {count_tests(recorded)} passed, 0 failed; replayed offline from"
    )
    # Every CreateParcel exchange passed: its row has as many passed as exchanges, none failed.
    assert re.search(r"^\| CreateParcel \| (\d+) \| \1 \| 0 \| 0 \| 201x\d+, 400x\d+", text, re.M)
    assert "## Recordings" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-cassette-age=abc"], "--max-cassette-age 'abc' is not allowed: give a positive number of days"),
        (["--max-cassette-age=0"], "give a positive number of days"),
        (["--schema-dir=tests"], "--schema-dir tests holds no index.json"),
        (["--variants-from=cassettes"], "--variants-from only applies while recording"),
    ],
)
def test_bad_options_are_one_line_usage_errors(args, message):
    result = run("-m", "pytest", "conformance", "-p", "no:cacheprovider", *args)
    assert result.returncode == 4
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1, result.stderr
    assert message in errors[0]
    assert "Traceback" not in result.stderr
