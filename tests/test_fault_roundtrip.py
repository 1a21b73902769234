"""Rehearsing faults: record against a faulty sandbox (started here, on 127.0.0.1 port 0), then replay
offline with the network blocked. For every profile, nothing recorded is lost in replay and every
verdict comes back the same; each fault is classified as a server fault, a rate limit or a
conformance failure, and reported as one."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_roundtrip import (
    ACCOUNT_KEY_SECRET,
    KEY_SECRET,
    PROJECT,
    clean_env,
    known_sandbox,
    live_env,
    pytest_run,
)

from conformance.contract.schemas import shipped
from conformance.failures import FAULT_KINDS
from conformance.sandbox import Sandbox
from conformance.sandbox.faults import PROFILES
from conformance.session import runs

# Two groups' lifecycles and 404s: every method, parents and children, and no one-per-app record
# that a create cut off after it took effect would leave in the way of the next test.
SUITES = tuple(f"conformance/suites/test_{group}.py" for group in ("integrations", "users"))
SELECTION = "lifecycle or unknown_id"
# With this seed the 429 bursts of both rate-limit profiles fall on a POST or a PATCH too.
SEED = 1
REPLAY_KINDS = {"unplayed", "unmatched-request", "missing-recording"}
SERVER_FAULTS = ("http-500", "http-502", "http-503", "reset", "truncated")
# What the progress line says when each profile's fault is retried.
RETRY_LINES = {
    "http-500": "answered 500; retry 2 of 5 in ",
    "http-502": "answered 502; retry 2 of 5 in ",
    "http-503": "answered 503; retry 2 of 5 in 1.0 s",
    "rate-limit": "answered 429; retry 2 of 5 in 1.0 s",
    "rate-limit-no-retry-after": "answered 429; retry 2 of 5 in ",
    "reset": "got no whole answer: the connection broke before an answer (",
    "truncated": "got no whole answer: the answer was cut off (",
}


def sandbox(faults: str | None = None, seed: int = SEED) -> Sandbox:
    return known_sandbox(faults=faults, seed=seed)


def record(folder: Path, selection: str, faults: str | None, seed: int = SEED) -> tuple[Any, list[Any]]:
    with sandbox(faults, seed) as running:
        result = pytest_run(
            *SUITES,
            "-k",
            selection,
            "--record-mode=rewrite",
            f"--cassette-dir={folder}",
            f"--conformance-report={folder.parent / (folder.name + '.record.json')}",
            # A fixed run id, as record-sandbox gives: the same seed records the same bodies.
            env=live_env(running.url, SUNCO_RUN_ID=runs.fixed_run_id(seed)),
        )
        injected = list(running.faults.injected) if running.faults else []
        left_behind = tagged(running)
    # Whatever the faults, a run deletes what it made, a create whose answer was cut off included.
    assert left_behind == [], left_behind
    return result, injected


def tagged(running: Sandbox) -> list[tuple[Any, str]]:
    """Records a run made (their tag field starts with the run tag) that the sandbox still holds."""
    return [
        (key, record["id"])
        for key, records in running.store.snapshot().items()
        for record in records
        if any(runs.run_of(record.get(name)) for name in ("displayName", "externalId"))
    ]


def replay(folder: Path, selection: str) -> subprocess.CompletedProcess[str]:
    return pytest_run(
        *SUITES,
        "-k",
        selection,
        f"--cassette-dir={folder}",
        "--block-network",
        f"--conformance-report={folder.parent / (folder.name + '.replay.json')}",
    )


def report(folder: Path, mode: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((folder.parent / f"{folder.name}.{mode}.json").read_text())
    return loaded


_rehearsals: dict[str, dict[str, Any]] = {}


def rehearse(profile: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Record the selection against a sandbox with ``profile``'s faults, then replay it; once per profile."""
    if profile not in _rehearsals:
        folder = tmp_path_factory.mktemp(profile) / "cassettes"
        recorded, injected = record(folder, SELECTION, profile, SEED)
        replayed = replay(folder, SELECTION)
        _rehearsals[profile] = {
            "profile": profile,
            "folder": folder,
            "recorded": recorded,
            "replayed": replayed,
            "injected": injected,
            "record": report(folder, "record"),
            "replay": report(folder, "replay"),
        }
    return _rehearsals[profile]


def interactions(folder: Path) -> int:
    return sum(len(yaml.safe_load(path.read_text())["interactions"]) for path in folder.rglob("*.yaml"))


def attempts(run: dict[str, Any]) -> int:
    """Every attempt the run's exchanges made: one each, plus each retried one."""
    return sum(1 + len(verdict.get("retried", [])) for verdict in run["verdicts"])


def verdicts(run: dict[str, Any]) -> list[tuple[Any, ...]]:
    return sorted(
        (v["test"], v["operation"], v["status"], v["variant"] or "", v["ok"], v.get("fault") or "", len(v["retried"]))
        for v in run["verdicts"]
    )


def failure_kinds(run: dict[str, Any]) -> Counter[str]:
    return Counter(failure["kind"] for verdict in run["verdicts"] for failure in verdict["failures"])


@pytest.mark.parametrize("profile", list(PROFILES))
def test_a_rehearsal_of_each_fault_profile_replays_losslessly_and_classifies_its_faults(profile, tmp_path_factory):
    # One recording and one replay per profile, every check on them: recording is the slow part.
    rehearsal = rehearse(profile, tmp_path_factory)
    assert rehearsal["injected"], f"{profile} injected nothing"
    check_every_recorded_exchange_is_replayed(rehearsal)
    check_replay_gives_the_recorded_verdicts(rehearsal)
    check_each_fault_is_classified_and_reported(rehearsal)
    check_no_secret_reaches_a_rehearsal(rehearsal)
    if profile in SERVER_FAULTS:
        check_faults_are_counted_apart_in_the_summary_table(rehearsal)
    if profile == "reset":
        check_coverage_counts_no_status_for_a_broken_off_exchange(rehearsal)


def check_every_recorded_exchange_is_replayed(rehearsal):
    recorded, replayed = rehearsal["record"], rehearsal["replay"]
    kept = interactions(rehearsal["folder"])
    # The recording kept every attempt, retried ones and broken-off ones included ...
    assert kept == attempts(recorded)
    # ... and replay made every one of them again: none left unplayed, none unmatched.
    assert attempts(replayed) == kept
    assert not REPLAY_KINDS & set(failure_kinds(replayed)), rehearsal["replayed"].stdout[-3000:]
    assert "left unplayed" not in rehearsal["replayed"].stdout


def check_replay_gives_the_recorded_verdicts(rehearsal):
    recorded, replayed = rehearsal["record"], rehearsal["replay"]
    assert verdicts(replayed) == verdicts(recorded)
    assert replayed["tests"] == recorded["tests"]
    assert replayed["faults"] == recorded["faults"]
    assert rehearsal["replayed"].returncode == rehearsal["recorded"].returncode


def check_each_fault_is_classified_and_reported(rehearsal):
    profile, recorded, out = rehearsal["profile"], rehearsal["record"], rehearsal["recorded"].stdout
    kinds = failure_kinds(recorded)
    outcomes = Counter(recorded["tests"].values())
    faults = recorded["faults"]
    if profile in SERVER_FAULTS:
        # Server faults, never conformance failures; retried where safe, and the retries shown.
        assert set(kinds) == {"server-fault"}, kinds
        assert faults["kinds"]["server-fault"] == sum(1 for v in recorded["verdicts"] if v.get("fault"))
        assert outcomes["server-fault"] >= 1, outcomes
        assert "failed" not in outcomes, outcomes
        assert faults["retried"], "nothing was retried"
        assert "faults, not verdicts on the contract: " in out
        assert f"{outcomes['server-fault']} stopped by a server fault" in out
        for verdict in recorded["verdicts"]:
            if shipped().operation(verdict["operation"]).method in ("POST", "PATCH"):
                assert all(got == "answered 429" for got in verdict["retried"]), verdict
    elif profile in ("rate-limit", "rate-limit-no-retry-after"):
        # Rate limits are retried on every method, until they pass.
        assert kinds == Counter()
        assert set(outcomes) == {"passed"}
        assert set(faults["retried"]) == {"answered 429"}
        assert any(
            shipped().operation(v["operation"]).method in ("POST", "PATCH")
            for v in recorded["verdicts"]
            if v["retried"]
        )
    elif profile == "non-json":
        # A documented status with a body that is not JSON breaks the contract.
        assert kinds["content-type"] >= 1
        assert not set(FAULT_KINDS) & set(kinds)
        assert outcomes["failed"] >= 1
    elif profile == "latency":
        assert kinds == Counter()
        assert set(outcomes) == {"passed"}
        assert faults["retried"] == {}
    if profile in RETRY_LINES:
        assert RETRY_LINES[profile] in out
    assert "Traceback" not in out


def check_faults_are_counted_apart_in_the_summary_table(rehearsal):
    lines = rehearsal["recorded"].stdout.splitlines()
    header = next(line for line in lines if line.startswith("operation "))
    assert header.split() == ["operation", "exchanges", "passed", "failed", "faults", "statuses"]
    total = next(line for line in lines if line.startswith("all operations")).split()
    exchanges, passed, failed, faulted = map(int, total[2:6])
    assert failed == 0
    assert faulted == rehearsal["record"]["faults"]["kinds"]["server-fault"]
    assert exchanges == passed + faulted


# -- beyond one profile ----------------------------------------------------------------------------


def test_a_rehearsal_with_the_same_seed_records_the_same_cassettes(tmp_path):
    selection = "integration_lifecycle or user_lifecycle or unknown_id"
    first, second = tmp_path / "first", tmp_path / "second"
    _, injected = record(first, selection, "mixed", seed=3)
    _, again = record(second, selection, "mixed", seed=3)
    assert injected == again
    assert {fault.kind for _, fault in injected} - {"latency"}, injected
    files = sorted(p.relative_to(first) for p in first.rglob("*.yaml"))
    assert files == sorted(p.relative_to(second) for p in second.rglob("*.yaml"))
    assert files
    for name in files:
        assert _without_port((first / name).read_text()) == _without_port((second / name).read_text()), name


def _without_port(text: str) -> str:
    # The port and the recording's time are the only parts a repeat may change.
    return re.sub(r"recordedAt: .*", "recordedAt: …", re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text))


def test_drift_pairs_exchanges_by_their_last_attempt(tmp_path):
    selection = "integration_lifecycle or user_lifecycle or client_lifecycle"
    clean, throttled = tmp_path / "clean", tmp_path / "throttled"
    record(clean, selection, None)
    record(throttled, selection, "rate-limit")
    assert interactions(throttled) > interactions(clean)
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "conformance", "drift", str(clean), str(throttled), "--json", str(tmp_path / "d.json")],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    drift = json.loads((tmp_path / "d.json").read_text())
    assert drift["changes"] == []
    assert drift["notComparable"] == []
    assert drift["retriedLeftOut"] == interactions(throttled) - interactions(clean)
    assert f"{drift['retriedLeftOut']} retried answer(s) left out" in result.stdout


def test_a_recording_with_a_server_fault_never_replaces_a_cassette(tmp_path):
    selection = "lifecycle"
    folder = tmp_path / "cassettes"
    record(folder, selection, None)
    before = {path: path.read_bytes() for path in folder.rglob("*.yaml")}
    result, _ = record(folder, selection, "http-502")
    assert result.returncode == 1
    faulted = {test for test, outcome in report(folder, "record")["tests"].items() if outcome == "server-fault"}
    assert faulted
    for test in faulted:
        module, name = test.split("::")
        path = folder / Path(module).stem / f"{name}.yaml"
        assert path.read_bytes() == before[path], path
        assert f"{test}: kept the previous cassette, because " in result.stdout
    assert "a recording with a fault never replaces a cassette" in result.stdout
    # Tests whose faults were all retried away were re-recorded, and replay as recorded.
    # The kept cassettes replay as before; the others were recorded with their retries, and replay too.
    assert replay(folder, selection).returncode == 0
    assert [p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".yaml")] == []


def check_coverage_counts_no_status_for_a_broken_off_exchange(rehearsal):
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [
            sys.executable,
            "-m",
            "conformance",
            "coverage",
            "--cassette-dir",
            str(rehearsal["folder"]),
            "--json",
            str(rehearsal["folder"].parent / "coverage.json"),
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads((rehearsal["folder"].parent / "coverage.json").read_text())
    broken_off = sum(
        (verdict["status"] == 0) + sum(got.startswith("the connection broke") for got in verdict["retried"])
        for verdict in rehearsal["record"]["verdicts"]
    )
    assert broken_off > 0
    assert sum(found["brokenExchanges"].values()) == broken_off
    assert "0" not in {entry["status"] for entry in found["undocumented"]}
    assert "recorded exchanges the server broke off" in result.stdout


def check_no_secret_reaches_a_rehearsal(rehearsal):
    folder = rehearsal["folder"].parent
    written = [path for path in folder.rglob("*") if path.is_file()]
    assert any(path.suffix == ".yaml" for path in written)
    for text in [*(path.read_text(errors="replace") for path in written), rehearsal["recorded"].stdout]:
        assert KEY_SECRET not in text
        assert ACCOUNT_KEY_SECRET not in text


def test_record_sandbox_rehearses_a_profile_into_the_folder_given(tmp_path):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path / "rehearsal"
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "conformance", "record-sandbox", "--faults", "http-503", "--port", str(port),
         "--cassette-dir", str(folder), "--", "-k", "test_integration_lifecycle", "-p", "no:cacheprovider"],
        cwd=PROJECT, capture_output=True, text=True, env=clean_env(), timeout=300,
    )  # fmt: skip
    assert f"recording against the sandbox at http://127.0.0.1:{port}, with the http-503 faults (seed 0)" in (
        result.stdout
    )
    assert result.returncode in (0, 1), result.stdout[-2000:] + result.stderr[-2000:]
    assert [path.name for path in folder.rglob("*.yaml")] == ["test_integration_lifecycle.yaml"]
    assert replay(folder, "integration_lifecycle").returncode == result.returncode
