"""coverage: the documented operation/status matrix, marked from recordings written for the test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from vcr.persisters.filesystem import FilesystemPersister
from vcr.request import Request
from vcr.serializers import yamlserializer

from conformance.contract.schemas import shipped
from conformance.tools.coverage import CoverageError, measure, summary_lines

PROJECT = Path(__file__).resolve().parent.parent
BASE = "https://api.example.test/sc"  # the API under a base path, as on a Zendesk subdomain
APP = "/v2/apps/5a4db0c5a4db0c5a4db0c5a4"


def answer(status: int) -> dict:
    return {"status": {"code": status, "message": ""}, "headers": {}, "body": {"string": "{}"}}


def cassette(folder: Path, name: str, exchanges: list[tuple[str, str, int]]) -> Path:
    path = folder / name
    data = {
        "requests": [Request(method, BASE + url, None, {}) for method, url, _ in exchanges],
        "responses": [answer(status) for _, _, status in exchanges],
    }
    FilesystemPersister.save_cassette(str(path), data, yamlserializer)
    return path


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    cassette(tmp_path, "a/create.yaml", [("POST", f"{APP}/integrations", 201), ("POST", f"{APP}/integrations", 401)])
    cassette(tmp_path, "b/get.yaml", [("GET", f"{APP}/integrations/abc", 418), ("GET", "/v2/nowhere", 200)])
    return tmp_path


def test_marks_exercised_pairs_and_lists_what_is_not_documented(recordings: Path) -> None:
    found = measure(recordings)
    assert (found.cassettes, found.exchanges) == (2, 4)
    pairs = {(op, status): hit for op, status, hit, _ in found.pairs()}
    assert pairs[("CreateIntegration", "201")] is True
    assert pairs[("CreateIntegration", "401")] is True  # a status the overlay adds
    assert pairs[("CreateIntegration", "400")] is False
    assert found.undocumented() == [("GetIntegration", "418", 1)]
    assert dict(found.unmatched) == {"GET /sc/v2/nowhere": 1}
    totals = found.totals()
    assert totals["operations"] == {"exercised": 2, "total": len(shipped().operations)}
    assert totals["vendorPairs"]["exercised"] == 1
    assert totals["overlayPairs"]["exercised"] == 1


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "conformance", "coverage", *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_command_prints_the_matrix_and_writes_json_and_markdown(recordings: Path, tmp_path: Path) -> None:
    out_json, out_md = tmp_path / "out" / "coverage.json", tmp_path / "out" / "coverage.md"
    result = run("--cassette-dir", str(recordings), "--json", str(out_json), "--markdown", str(out_md))
    assert result.returncode == 0, result.stderr
    assert "CreateIntegration" in result.stdout
    assert "201+ 400- 401+*" in result.stdout
    assert f"operations exercised: 2/{len(shipped().operations)}" in result.stdout
    assert "recorded statuses the contract does not document: GetIntegration 418x1" in result.stdout
    data = json.loads(out_json.read_text())
    assert data["undocumented"] == [{"operation": "GetIntegration", "status": "418", "exchanges": 1}]
    assert "| CreateIntegration | 201 401\\* |" in out_md.read_text()


def test_a_minimum_that_is_not_met_exits_1(recordings: Path) -> None:
    result = run("--cassette-dir", str(recordings), "--min", "90")
    assert result.returncode == 1
    assert "% of the pairs the vendor documents is below --min 90.0%" in result.stdout


def test_the_headline_is_the_vendors_pairs_and_names_each_one_missed(recordings: Path) -> None:
    found = measure(recordings)
    vendor = found.totals()["vendorPairs"]
    lines = summary_lines(found)
    assert lines[0] == (
        "operation/status pairs the vendor documents, exercised: "
        f"{vendor['exercised']}/{vendor['documented']} ({vendor['percent']}%)"
    )
    missed = lines[1].removeprefix("  not exercised: ").split(", ")
    assert "CreateIntegration 400" in missed
    assert "CreateIntegration 201" not in missed
    assert len(missed) == vendor["documented"] - vendor["exercised"]
    # The overlay's pairs missed are counted by status: one 401 was exercised, every 429 was not.
    added = [(status, hit) for _, status, hit, by_vendor in found.pairs() if not by_vendor]
    by_status = lines[3].removeprefix("  not exercised, by status: ").split(", ")
    assert f"401 x{sum(1 for s, _ in added if s == '401') - 1}" in by_status
    assert f"429 x{sum(1 for s, _ in added if s == '429')}" in by_status


def test_the_shipped_cassettes_meet_the_target_on_the_vendors_pairs() -> None:
    # The target is 90% of the pairs the vendor documents; the overlay's 429s are not among them.
    result = run("--min", "90")
    assert result.returncode == 0, result.stdout[-2000:]
    headline = next(line for line in result.stdout.splitlines() if line.startswith("operation/status pairs the vendor"))
    exercised, documented = headline.rpartition(": ")[2].split(" ")[0].split("/")
    assert int(exercised) >= 0.9 * int(documented)


@pytest.mark.parametrize("make", ["missing", "file", "corrupt"])
def test_unreadable_input_is_one_line_and_exit_2(tmp_path: Path, make: str) -> None:
    target = tmp_path / "cassettes"
    if make == "file":
        target.write_text("not a folder")
    elif make == "corrupt":
        (target / "x").mkdir(parents=True)
        (target / "x" / "broken.yaml").write_text("interactions: [\n  - {request: ")
    result = run("--cassette-dir", str(target))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    with pytest.raises(CoverageError):
        measure(target)


def test_the_shipped_cassettes_exercise_every_operation_they_cover_without_undocumented_surprises() -> None:
    found = measure(PROJECT / "cassettes")
    assert found.unmatched == {}, "every recorded request is an operation of the contract"
    assert found.totals()["operations"]["exercised"] >= 22
