"""The runs' ledgers on disk: written as records are made, dropped as they are deleted, left by a killed run."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from run_support import free_port
from test_cleanup import cleanup, integrations
from test_roundtrip import PROJECT, known_sandbox, live_env

from conformance.sandbox.api import Request, Response
from conformance.sandbox.errors import ApiError
from conformance.session import runs
from conformance.session.run_ledger import Entry, RunLedger, ledgers
from conformance.tools import record_sandbox

RUN = "0123456789abcdef"


def entry(number: int, run: str = RUN) -> Entry:
    return Entry("integration", "CreateIntegration", f"i{number}", "a" * 24, run, "h", {"integrationId": f"i{number}"})


def test_a_ledger_drops_what_is_deleted_and_goes_when_nothing_is_left(tmp_path: Path) -> None:
    ledger = RunLedger(tmp_path, RUN, app_id="a" * 24, host="h")
    ledger.created(entry(1))
    ledger.created(entry(2))
    ledger.deleted(entry(1))
    assert ledger.entries() == [entry(2)]
    ledger.deleted(entry(2))
    assert not ledger.path.exists()
    ledger.close()
    assert ledgers(tmp_path) == []


def test_a_line_a_killed_run_cut_short_is_skipped_and_the_rest_read(tmp_path: Path) -> None:
    ledger = RunLedger(tmp_path, RUN, app_id="a" * 24, host="h")
    ledger.created(entry(1))
    with ledger.path.open("a", encoding="utf-8") as file:
        file.write('{"event": "created", "resource": "integ')
    [found] = ledgers(tmp_path)
    assert found.entries() == [entry(1)]
    ledger.close()
    assert ledger.path.exists(), "a ledger that still names a record stays"


def test_writers_appending_at_once_lose_no_entry(tmp_path: Path) -> None:
    # Workers of one run each have a file; two writers of one file still never interleave lines.
    files = [RunLedger(tmp_path, RUN, app_id="a" * 24, host="h", worker=w) for w in ("gw0", "gw1", "gw1")]

    def write(ledger: RunLedger, first: int) -> None:
        for number in range(first, first + 300):
            ledger.created(entry(number))

    threads = [threading.Thread(target=write, args=(ledger, n * 1000)) for n, ledger in enumerate(files)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    found = {e.record_id for ledger in ledgers(tmp_path) for e in ledger.entries()}
    assert len(ledgers(tmp_path)) == 2
    assert found == {f"i{n * 1000 + k}" for n in range(3) for k in range(300)}


def test_a_killed_live_run_leaves_a_ledger_that_cleanup_deletes_by(tmp_path: Path) -> None:
    state = tmp_path / "state"
    child: dict[str, subprocess.Popen[str]] = {}
    started = threading.Event()

    def kill_the_run(request: Request) -> Response:
        # The run is killed at a point it observably reached: its record made, before teardown.
        started.wait(timeout=60)
        os.kill(child["run"].pid, signal.SIGKILL)
        raise ApiError(418, "teapot", "killed")

    with known_sandbox(handlers={"GetIntegration": kill_the_run}) as running:
        child["run"] = subprocess.Popen(  # noqa: S603 - our own interpreter
            [sys.executable, "-m", "pytest", "conformance", "-k", "test_integration_lifecycle", "-p",
             "no:cacheprovider", "-q", "--record-mode=rewrite", f"--cassette-dir={tmp_path / 'c'}"],
            cwd=PROJECT, env=live_env(running.url, SUNCO_STATE_DIR=str(state), SUNCO_RUN_ID=RUN),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        started.set()
        assert child["run"].wait(timeout=300) == -signal.SIGKILL
        [made] = integrations(running)
        [ledger] = ledgers(state)
        assert [(e.resource, e.record_id, e.run) for e in ledger.entries()] == [("integration", made["id"], RUN)]
        assert runs.run_of(made["displayName"]) == RUN

        done = cleanup(running.url, SUNCO_STATE_DIR=str(state))
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"deleted integration {made['id']}" in done.stdout
        assert integrations(running) == []
        assert ledgers(state) == []


def test_record_sandbox_records_with_a_run_id_its_seed_fixes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, str]] = []

    def call(command: list[str], env: dict[str, str], cwd: Path) -> int:
        seen.append(env)
        return 0

    monkeypatch.setattr(record_sandbox.subprocess, "call", call)
    for _ in range(2):
        args: Any = argparse.Namespace(
            port=str(free_port()), cassette_dir=str(tmp_path), auth="basic", faults="", pytest_args=[]
        )
        assert record_sandbox.run(args) == 0
    assert [env["SUNCO_RUN_ID"] for env in seen] == [runs.fixed_run_id(record_sandbox.SEED)] * 2
    assert all(not Path(env["SUNCO_STATE_DIR"]).exists() for env in seen), "its ledger goes with its sandbox"


def test_a_live_run_with_a_malformed_run_id_is_a_one_line_usage_error(tmp_path: Path) -> None:
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "pytest", "conformance", "-k", "integration_lifecycle", "-p", "no:cacheprovider", "-q",
         "--record-mode=rewrite", f"--cassette-dir={tmp_path}"],
        cwd=PROJECT, env=live_env("http://127.0.0.1:9", SUNCO_RUN_ID="conformance-"), capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 4
    assert "SUNCO_RUN_ID='conformance-' is not a run id: use 16 lowercase hexadecimal digits" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("value", "run"),
    [
        (runs.tag("bot", RUN), RUN),
        (f"conformance~{RUN}~", RUN),
        ("conformance-production", None),
        ("conformance-", None),
        ("conformance-bot", None),
        ("conformance-équipe", None),
        (f"conformance-{RUN}-x", None),
        ("conformance~équipe~x", None),
        (f"conformance~{RUN.upper()}~x", None),
        (f"conformance~{RUN[:-1]}~x", None),
        (f"my conformance~{RUN}~x", None),
        (None, None),
        (7, None),
    ],
)
def test_only_a_run_tag_names_a_run(value: object, run: str | None) -> None:
    assert runs.run_of(value) == run


def test_retagging_gives_every_tag_this_runs_id_and_leaves_the_rest() -> None:
    body = {"displayName": runs.tag("a", RUN), "participants": [{"userExternalId": runs.tag("u", RUN)}],
            "email": "conformance-abc@example.com", "n": 3}  # fmt: skip
    other = "fedcba9876543210"
    assert runs.retag(body, other) == {
        "displayName": runs.tag("a", other),
        "participants": [{"userExternalId": runs.tag("u", other)}],
        "email": "conformance-abc@example.com",
        "n": 3,
    }
