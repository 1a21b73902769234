"""The CI example: the workflow runs the repository's scripts, and those scripts do what it publishes."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml
from run_support import clean_env
from test_roundtrip import known_sandbox, live_env

PROJECT = Path(__file__).resolve().parents[1]
WORKFLOW = PROJECT / ".github" / "workflows" / "conformance.yml"


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def script(name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the repository's own script
        ["bash", str(PROJECT / ".ci" / name), *args],  # noqa: S607 - bash from PATH, as CI runs it
        capture_output=True,
        text=True,
        env=env or clean_env(),
        timeout=600,
    )


def test_every_step_the_workflow_runs_is_a_script_of_the_repository():
    steps = [step for job in workflow()["jobs"].values() for step in job["steps"] if "run" in step]
    scripts = {step["run"].split()[1] for step in steps if step["run"].startswith("bash ")}
    assert scripts == {".ci/replay", ".ci/record-live"}
    for name in scripts:
        checked = subprocess.run(["bash", "-n", str(PROJECT / name)], capture_output=True, text=True)  # noqa: S603,S607
        assert checked.returncode == 0, checked.stderr


def test_the_workflow_records_live_only_by_hand_with_every_setting_from_secrets():
    # PyYAML reads the key `on` as True (YAML 1.1).
    triggers = workflow()[True]
    assert set(triggers) == {"push", "pull_request", "workflow_dispatch"}
    record = workflow()["jobs"]["record"]
    assert record["if"] == "github.event_name == 'workflow_dispatch' && inputs.record"
    assert record["env"], "the live job needs the SUNCO_* settings"
    assert all(value == f"${{{{ secrets.{name} }}}}" for name, value in record["env"].items())
    assert "env" not in workflow()["jobs"]["replay"]


def test_the_replay_script_leaves_the_junit_file_and_the_summaries(tmp_path):
    out = tmp_path / "report"
    result = script("replay", str(out), "-k", "test_integration_lifecycle or test_create_app_accepts_valid_bodies")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    cases = ET.parse(out / "junit.xml").getroot().iter("testcase")  # noqa: S314 - our own run's file
    assert {case.get("name") for case in cases} >= {
        "test_integration_lifecycle",
        "test_create_app_accepts_valid_bodies",
    }
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "replayed offline from" in summary
    assert "conformance tests: 2 passed, 0 failed" in summary
    assert json.loads((out / "report.json").read_text())["mode"] == "replay"


def test_the_live_script_records_into_its_own_folder_and_replays_it(tmp_path):
    out = tmp_path / "live"
    shipped = {p: p.read_bytes() for p in (PROJECT / "cassettes").rglob("test_integration_lifecycle.yaml")}
    with known_sandbox() as running:
        result = script("record-live", str(out), "-k", "test_integration_lifecycle", env=live_env(running.url))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert [p.name for p in (out / "cassettes").rglob("*.yaml")] == ["test_integration_lifecycle.yaml"]
    assert "recorded live into" in (out / "summary.md").read_text(encoding="utf-8")
    # The second run replayed the new recording offline.
    assert result.stdout.count("conformance tests: 1 passed, 0 failed") == 2, result.stdout[-3000:]
    assert "replayed offline from" in result.stdout
    assert {p: p.read_bytes() for p in shipped} == shipped
