"""Drift: two recordings of the same variants, paired by variant and operation, compared field by field."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from run_support import clean_env

from conformance.sandbox import Sandbox
from conformance.sandbox.api import Request, Response
from conformance.sandbox.behaviours import BEHAVIOURS
from conformance.sandbox.crud import all_handlers
from conformance.tools.drift import compare, load_cassette

handlers = all_handlers(BEHAVIOURS)
get_integration = handlers["GetIntegration"]

PROJECT = Path(__file__).resolve().parent.parent
SUBSET = "test_integration_lifecycle or create_integration_rejects_values_outside_enums"
LIFECYCLE = "test_integrations/test_integration_lifecycle.yaml"
ENUMS = "test_integrations/test_create_integration_rejects_values_outside_enums.yaml"


def record(sandbox: Sandbox, folder: Path, *extra: str) -> None:
    env = clean_env()
    env.update(
        SUNCO_API_URL=sandbox.url,
        SUNCO_APP_ID=sandbox.app_id,
        SUNCO_KEY_ID=sandbox.key_id,
        SUNCO_KEY_SECRET=sandbox.key_secret,
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [
            sys.executable,
            "-m",
            "pytest",
            "conformance",
            "-k",
            SUBSET,
            "--record-mode=rewrite",
            f"--cassette-dir={folder}",
            "-q",
            "-p",
            "no:cacheprovider",
            *extra,
        ],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:]


def run_drift(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "conformance", "drift", *args], cwd=PROJECT, capture_output=True, text=True, timeout=60
    )


def deactivated(request: Request) -> Response:
    """Get Integration as a changed API might answer it."""
    answer = get_integration(request)
    return Response(answer.status, {"integration": {**answer.body["integration"], "status": "inactive"}})


def with_region(request: Request) -> Response:
    """Get Integration with a field it never had."""
    answer = get_integration(request)
    return Response(answer.status, {"integration": {**answer.body["integration"], "region": "eu-1"}})


def metadata(path: Path) -> dict:
    return yaml.safe_load(path.read_text())["metadata"]["conformance"]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("baseline")
    with Sandbox() as sandbox:
        sandbox.start()
        record(sandbox, folder)
    return folder


@pytest.fixture(scope="module")
def throttled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same tests against a rate-limited sandbox: every third request answers 429 first."""
    folder = tmp_path_factory.mktemp("throttled")
    with Sandbox(throttle_every=3) as sandbox:
        sandbox.start()
        record(sandbox, folder)
    return folder


def test_each_exchange_is_noted_with_its_variant_operation_and_attempts(baseline, throttled):
    for folder in (baseline, throttled):
        path = folder / ENUMS
        pins = metadata(path)
        interactions = yaml.safe_load(path.read_text())["interactions"]
        noted = pins["exchanges"]
        assert sum(entry["attempts"] for entry in noted) == len(interactions)
        pinned = {variant["id"] for group in pins["variants"].values() for variant in group}
        assert {entry["variant"] for entry in noted} == pinned
        assert {entry["operation"] for entry in noted} == {"CreateIntegration"}
    retried = [entry for entry in metadata(throttled / LIFECYCLE)["exchanges"] if entry["attempts"] > 1]
    assert retried, "the throttled sandbox made no exchange retry"
    # Variant-less steps (get, list, delete) are noted too.
    assert {e["operation"] for e in metadata(baseline / LIFECYCLE)["exchanges"] if e["variant"] is None} >= {
        "GetIntegration",
        "DeleteIntegration",
    }


def test_two_recordings_of_the_same_api_do_not_drift(baseline, tmp_path):
    # A fresh sandbox: other ids, another port, other dates; none of it is drift.
    with Sandbox() as sandbox:
        sandbox.start()
        record(sandbox, tmp_path)
    report = compare(baseline, tmp_path)
    assert report.compared >= 8
    assert report.changes == []
    assert report.not_comparable == []


def test_a_rate_limited_recording_compares_with_its_retries_left_out(baseline, throttled):
    report = compare(baseline, throttled)
    assert report.not_comparable == []
    assert report.changes == []
    assert report.retried >= 3
    assert report.compared == compare(baseline, baseline).compared


def test_a_changed_field_is_reported_with_its_pointer_and_class(baseline, tmp_path):
    with Sandbox(handlers={"GetIntegration": deactivated}) as sandbox:
        sandbox.start()
        record(sandbox, tmp_path)
    report = compare(baseline, tmp_path)
    changed = {(c.where, c.baseline, c.candidate, c.klass) for c in report.changes}
    assert changed == {("body /integration/status", "active", "inactive", "breaking")}
    assert {c.exchange for c in report.changes} == {"GetIntegration after create-0", "GetIntegration after change-0"}
    assert all(c.request.startswith("GET /v2/apps/{id}/integrations/{id}") for c in report.changes)


def test_a_field_that_appears_is_additive(baseline, tmp_path):
    with Sandbox(handlers={"GetIntegration": with_region}) as sandbox:
        sandbox.start()
        record(sandbox, tmp_path)
    report = compare(baseline, tmp_path)
    assert {(c.where, c.klass) for c in report.changes} == {("body /integration/region", "additive")}


def edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data))


def test_cli_reports_classes_writes_json_and_markdown_and_exits_1(baseline, tmp_path):
    candidate = tmp_path / "candidate"
    shutil.copytree(baseline, candidate)

    def change(data):
        data["interactions"][0]["response"]["status"]["code"] = 422
        second = data["interactions"][1]["response"]
        body = json.loads(second["body"]["string"])
        body["errors"][0]["title"] = "Another wording"
        second["body"]["string"] = json.dumps(body)

    edit(candidate / ENUMS, change)
    out, md = tmp_path / "drift.json", tmp_path / "drift.md"
    result = run_drift(str(baseline), str(candidate), "--json", str(out), "--markdown", str(md))
    assert result.returncode == 1
    assert "breaking  CreateIntegration invalid-0" in result.stdout
    assert "status: 400 -> 422" in result.stdout
    data = json.loads(out.read_text())
    found = {(c["where"], c["class"]) for c in data["changes"]}
    assert found == {("status", "breaking"), ("body /errors/0/title", "cosmetic")}
    assert data["counts"] == {"breaking": 1, "additive": 0, "cosmetic": 1}
    text = md.read_text()
    assert text.startswith("# Drift between two recordings")
    assert "| **breaking** |" in text
    assert "`status`" in text


def test_cli_exits_0_when_nothing_drifted(baseline, throttled):
    result = run_drift(str(baseline), str(throttled))
    assert result.returncode == 0, result.stdout
    assert "0 change(s)" in result.stdout
    assert "retried answer(s) left out" in result.stdout


def test_recordings_of_different_variants_say_why_they_are_not_comparable(baseline, tmp_path):
    candidate = tmp_path / "candidate"
    shutil.copytree(baseline, candidate)
    path = candidate / ENUMS
    path.write_text(path.read_text().replace('"type":"', '"type":"x', 1))
    report = compare(baseline, candidate)
    assert len(report.not_comparable) == 1
    reason = report.not_comparable[0]
    assert "variant invalid-0 of CreateIntegration sent another request" in reason
    assert "--variants-from" in reason
    assert "--variant-seed" not in reason


def test_an_exchange_the_candidate_did_not_make_is_breaking(baseline, tmp_path):
    candidate = tmp_path / "candidate"
    shutil.copytree(baseline, candidate)

    def drop_last(data):
        data["interactions"].pop()
        data["metadata"]["conformance"]["exchanges"].pop()

    edit(candidate / LIFECYCLE, drop_last)
    report = compare(baseline, candidate)
    assert [(c.where, c.klass) for c in report.changes] == [("exchange", "breaking")]
    assert report.not_comparable == []


def test_cassettes_without_exchange_metadata_are_paired_by_request(baseline, throttled, tmp_path):
    # Recordings made before the session noted its exchanges: pairing falls back to the requests.
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(baseline, old)
    shutil.copytree(throttled, new)
    for folder in (old, new):
        for path in folder.rglob("*.yaml"):
            edit(path, lambda data: data["metadata"]["conformance"].pop("exchanges"))
    report = compare(old, new)
    assert report.not_comparable == []
    assert report.changes == []
    assert report.retried >= 3


def test_two_cassette_files_can_be_compared(baseline, throttled):
    report = compare(baseline / LIFECYCLE, throttled / LIFECYCLE)
    assert report.compared >= 4
    assert report.changes == []


def test_a_cassette_in_one_folder_only_is_not_comparable_with_the_reason(baseline, tmp_path):
    candidate = tmp_path / "candidate"
    shutil.copytree(baseline, candidate)
    (candidate / ENUMS).unlink()
    report = compare(baseline, candidate)
    assert report.not_comparable == [f"{ENUMS}: only in the baseline (the candidate run recorded no such test)"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda base, tmp: (tmp / "nope", base), "does not exist"),
        (lambda base, tmp: (base / LIFECYCLE, base), "is a file and"),
        (lambda base, tmp: (base, tmp / "corrupt"), "not a readable cassette"),
        (lambda base, tmp: (base, tmp / "not-a-cassette"), "not a readable cassette"),
    ],
)
def test_errors_are_one_line_and_exit_2(baseline, tmp_path, make, message):
    corrupt = tmp_path / "corrupt"
    shutil.copytree(baseline, corrupt)
    (corrupt / LIFECYCLE).write_text("interactions: [\n  - request: {")
    other = tmp_path / "not-a-cassette"
    shutil.copytree(baseline, other)
    (other / LIFECYCLE).write_text("just: text\n")
    first, second = make(baseline, tmp_path)
    result = run_drift(str(first), str(second))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_the_one_loading_function_names_the_file(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(Exception, match=r"x\.yaml:1: not a readable cassette"):
        load_cassette(path)
