"""Killing a re-recording at any moment leaves each cassette old or new, and whole.

Recordings run as real pytest processes against a sandbox process, and are killed with SIGINT,
SIGTERM or SIGKILL at moments a seeded ``random.Random`` picks across a whole run. After every kill,
each cassette must still exist, be byte-identical to the one before the run or read back whole,
and the folder must replay offline. ``SUMMARY`` keeps the counts for the lead's note.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from test_roundtrip import (
    PROJECT,
    SandboxProcess,
    known_sandbox,
    live_env,
)

from conformance.core import rewrite
from conformance.core.cassettes import CorruptCassette, leftovers, load_file
from conformance.core.scrub import Scrubber
from conformance.core.session import ConformanceSession
from conformance.sandbox.api import Request, Response
from conformance.sandbox.behaviours import BEHAVIOURS
from conformance.sandbox.crud import all_handlers
from conformance.suites import test_integrations as suite

SUBSET = (
    "create_integration_rejects_empty_object or create_integration_rejects_values_outside_enums"
    " or create_integration_rejects_body_that_is_not_json or test_integration_lifecycle"
    " or list_integrations_rejects_invalid_page_parameters"
)
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)
# Signals are sent until this many landed mid-run (a run may finish before its signal), within a bound.
KILLS = 33
MAX_ROUNDS = 48
SEED = 20261125
SUMMARY: dict[str, Any] = {}


class Zygote:
    """tests/recording_zygote.py: one warm process that forks a pytest run per request."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.folder = folder
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, str(PROJECT / "tests" / "recording_zygote.py")],
            cwd=PROJECT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert json.loads(self.read()) == {"ready": True}
        self.runs = 0

    def read(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, "the zygote died"
        return line

    def start(self, *args: str) -> tuple[int, Path]:
        assert self.process.stdin is not None
        self.runs += 1
        out = self.folder / f"run-{self.runs}.txt"
        # The zygote imported hypothesis and vcr before pytest could rewrite them: that warning is expected.
        request = {"args": [*args, "-p", "no:cacheprovider", "-p", "no:warnings", "-q"], "out": str(out)}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return json.loads(self.read())["pid"], out

    def wait(self) -> dict[str, int]:
        ended: dict[str, int] = json.loads(self.read())
        return ended

    def run(self, *args: str) -> tuple[dict[str, int], str]:
        _, out = self.start(*args)
        return self.wait(), out.read_text()

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=20)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*.yaml"))}


def replay_problems(path: Path) -> list[str]:
    """Replay one cassette in-process through the session, matcher and scrubber a CI replay uses."""
    test = getattr(suite, path.stem)

    def session(tape: Any) -> ConformanceSession:
        return ConformanceSession(
            cassette=tape,
            recording=False,
            settings=None,
            scrubber=Scrubber(),
            nodeid=path.stem,
            record_command="(re-record)",
            cassette_file=str(path),
        )

    result = rewrite.replay(path, session, test)
    problems = [failure.title for failure in result.failures]
    if result.crash:
        problems.append(result.crash)
    if not result.verdicts or not all(verdict.ok for verdict in result.verdicts):
        problems.append(f"verdicts {[(v.operation, v.status, v.ok) for v in result.verdicts]}")
    return problems


def test_killing_recordings_at_random_moments_never_loses_or_corrupts_a_cassette(tmp_path):
    cassettes = tmp_path / "cassettes"
    sandbox = SandboxProcess()
    zygote = Zygote(live_env(sandbox.url), tmp_path)
    rng = random.Random(SEED)
    record = ("conformance", "-k", SUBSET, "--record-mode=rewrite", f"--cassette-dir={cassettes}")
    kills = {sig.name: 0 for sig in SIGNALS}
    lost: list[str] = []
    corrupt: list[str] = []
    replaced = unchanged = finished_first = 0
    try:
        ended, out = zygote.run(*record)
        assert ended.get("exit") == 0, out[-3000:]
        names = set(snapshot(cassettes))
        assert len(names) == 5
        # How long a warm run takes: kills are spread over that span.
        started = time.monotonic()
        ended, out = zygote.run(*record)
        duration = time.monotonic() - started
        assert ended.get("exit") == 0, out[-3000:]
        number = -1
        while sum(kills.values()) < KILLS and number < MAX_ROUNDS - 1:
            number += 1
            before = snapshot(cassettes)
            sig = SIGNALS[number % len(SIGNALS)]
            pid, _out_file = zygote.start(*record)
            time.sleep(rng.uniform(0.0, 0.9 * duration))
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            ended = zygote.wait()
            if ended.get("exit") == 0:
                finished_first += 1
            else:
                kills[sig.name] += 1
            after = snapshot(cassettes)
            lost += [f"round {number} ({sig.name}): {name} is gone" for name in sorted(names - set(after))]
            for name in sorted(names & set(after)):
                if after[name] == before.get(name):
                    unchanged += 1
                    continue
                try:
                    load_file(cassettes / name)
                except CorruptCassette as error:
                    corrupt.append(f"round {number} ({sig.name}): {error}")
                    continue
                problems = replay_problems(cassettes / name)
                if problems:
                    corrupt.append(f"round {number} ({sig.name}): {name} does not replay: {problems}")
                else:
                    replaced += 1
        # A last, uninterrupted recording removes whatever the kills left, and says so; then a real replay.
        left = leftovers(cassettes)[0]
        ended, out = zygote.run(*record)
        assert ended.get("exit") == 0, out[-3000:]
        assert ("removed" in out) is bool(left), out[-2000:]
        assert leftovers(cassettes) == ([], [])
        ended, out = zygote.run("conformance", "-k", SUBSET, f"--cassette-dir={cassettes}")
        assert ended.get("exit") == 0, out[-3000:]
    finally:
        zygote.stop()
        sandbox.stop()
    total = sum(kills.values())
    SUMMARY.update(
        signals_sent=number + 1,
        kills_landed=total,
        by_signal=kills,
        finished_before_the_signal=finished_first,
        cassettes_lost=len(lost),
        cassettes_corrupted=len(corrupt),
        cassettes_replaced_whole_and_replayed=replaced,
        cassettes_left_as_they_were=unchanged,
    )
    summary = json.dumps(SUMMARY)
    print(f"kill test summary: {summary}")
    assert not lost, f"{summary}\n" + "\n".join(lost)
    assert not corrupt, f"{summary}\n" + "\n".join(corrupt)
    assert total >= KILLS, f"too few kills landed mid-run: {summary}"
    assert replaced > 0, f"no killed run got as far as replacing a cassette, so little was proved: {summary}"
    assert unchanged > 0, f"no kill landed before a cassette was replaced: {summary}"


def test_ctrl_c_inside_a_test_keeps_the_previous_cassette_and_says_so(tmp_path):
    """Ctrl-C mid-test: pytest still saves the cassette at teardown, and the plugin must drop it."""
    cassettes = tmp_path / "cassettes"
    arrived, release = threading.Event(), threading.Event()

    def slow_get(request: Request) -> Response:
        arrived.set()
        release.wait(20)
        return all_handlers(BEHAVIOURS)["GetIntegration"](request)

    sandbox = known_sandbox(
        handlers={"GetIntegration": slow_get},
    )
    record = ("conformance", "-k", "test_integration_lifecycle", "--record-mode=rewrite", f"--cassette-dir={cassettes}")
    with sandbox:
        release.set()
        zygote = Zygote(live_env(sandbox.url), tmp_path)
        try:
            ended, out = zygote.run(*record)
            assert ended.get("exit") == 0, out[-2000:]
            before = snapshot(cassettes)
            release.clear()
            arrived.clear()
            pid, out_file = zygote.start(*record)
            assert arrived.wait(30), "the recording never reached GetIntegration"
            os.kill(pid, signal.SIGINT)
            ended = zygote.wait()
            release.set()
        finally:
            release.set()
            zygote.stop()
    text = out_file.read_text()
    assert ended.get("exit") == 2, text[-2000:]  # pytest's "interrupted"
    assert snapshot(cassettes) == before
    assert leftovers(cassettes) == ([], [])
    recorded = cassettes / "test_integrations" / "test_integration_lifecycle.yaml.recording"
    assert f"interrupted: dropped the unfinished {recorded}; its cassette is as it was" in text, text[-2000:]
