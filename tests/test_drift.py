"""Drift: two recordings of the same variants, compared field by field."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.sandbox import Sandbox
from conformance.sandbox.api import Request, Response
from conformance.sandbox.behaviours import BEHAVIOURS
from conformance.sandbox.crud import all_handlers
from conformance.tools.drift import compare

get_integration = all_handlers(BEHAVIOURS)["GetIntegration"]

PROJECT = Path(__file__).resolve().parent.parent
SUBSET = "integration_lifecycle or create_integration_rejects_values_outside_enums"


def record(sandbox: Sandbox, folder: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUNCO_", "PYTEST_"))}
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


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("baseline")
    with Sandbox() as sandbox:
        sandbox.start()
        record(sandbox, folder)
    return folder


def test_two_recordings_of_the_same_api_do_not_drift(baseline, tmp_path):
    # A fresh sandbox: other ids, another port, other dates; none of it is drift.
    with Sandbox() as sandbox:
        sandbox.start()
        record(sandbox, tmp_path)
    report = compare(baseline, tmp_path)
    assert report.compared >= 8
    assert report.changes == []
    assert report.not_comparable == []


def test_a_changed_field_is_reported_with_its_pointer(baseline, tmp_path):
    with Sandbox(handlers={"GetIntegration": deactivated}) as sandbox:
        sandbox.start()
        record(sandbox, tmp_path)
    report = compare(baseline, tmp_path)
    changed = {(c.where, c.baseline, c.candidate) for c in report.changes}
    assert changed == {("body /integration/status", "active", "inactive")}
    assert all(c.request.startswith("GET /v2/apps/{id}/integrations/{id}") for c in report.changes)


def test_cli_reports_and_exits_nonzero_on_drift(baseline, tmp_path):
    import shutil

    candidate = tmp_path / "candidate"
    shutil.copytree(baseline, candidate)
    path = next(candidate.rglob("*outside_enums*.yaml"))
    path.write_text(path.read_text().replace("code: 400", "code: 422", 1))
    out = tmp_path / "drift.json"
    result = run_drift(str(baseline), str(candidate), "--json", str(out))
    assert result.returncode == 1
    assert "status: 400 -> 422" in result.stdout
    assert json.loads(out.read_text())["changes"][0]["candidate"] == 422


def test_recordings_of_different_variants_are_not_compared(baseline, tmp_path):
    import shutil

    candidate = tmp_path / "candidate"
    shutil.copytree(baseline, candidate)
    path = next(candidate.rglob("*outside_enums*.yaml"))
    path.write_text(path.read_text().replace('"type":"', '"type":"x', 1))
    report = compare(baseline, candidate)
    assert any("different requests" in reason for reason in report.not_comparable)


def test_cli_rejects_a_missing_folder(tmp_path):
    result = run_drift(str(tmp_path / "nope"), str(tmp_path))
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr
