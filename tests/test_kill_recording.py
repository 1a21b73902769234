"""Killing a re-recording at any moment leaves each cassette old or new, and whole.

Recordings run as real pytest processes against a sandbox process and are killed with SIGINT,
SIGTERM or SIGKILL. Most kills land at points the run reaches and the test observes: an injected
plugin (``KILLER``) reads the round's plan and, on reaching the named point (a test's first live
request, the start of a teardown, half-way through writing a recording, inside the verifying
replay, just after the Nth cassette was replaced), logs it and sends the signal to its own process.
So what each kill must have left (a replaced cassette, or none) rests on where it landed, not on
the machine's speed. A few kills at random moments come on top. After every kill, each cassette
must still exist, be byte-identical to the one before the run or read back whole and replay, and
the folder must replay offline. ``SUMMARY`` keeps the counts for the lead's note.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
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

from conformance.cassettes.files import CorruptCassette, leftovers, load_file
from conformance.plugin import replay_check as rewrite
from conformance.sandbox.api import Request, Response
from conformance.sandbox.behaviours import BEHAVIOURS
from conformance.sandbox.crud import all_handlers
from conformance.scrubbing.scrubber import Scrubber
from conformance.session.session import ConformanceSession
from conformance.suites import test_integrations as suite
from conformance.suites.generic.generated import module_tests

SUBSET = (
    "create_integration_rejects_empty_object or create_integration_rejects_values_outside_enums"
    " or create_integration_rejects_body_that_is_not_json or test_integration_lifecycle"
    " or list_integrations_rejects_invalid_page_parameters"
)
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)
# Observed points: (what, N), each with the signals tried there: every point and every signal is
# covered, and SIGKILL (no handler runs) where a file is being written or has just been replaced.
POINTS = {
    "first live request of test 2": (("request", 2), (signal.SIGINT,)),
    "start of test 1's teardown": (("teardown", 1), (signal.SIGTERM,)),
    "half-way through writing recording 2": (("write", 2), (signal.SIGINT, signal.SIGKILL)),
    "inside the replay verifying recording 2": (("verify", 2), (signal.SIGTERM,)),
    "just after the 1st replacement": (("replaced", 1), (signal.SIGKILL,)),
    "just after the 3rd replacement": (("replaced", 3), (signal.SIGINT, signal.SIGKILL)),
}
RANDOM_KILLS = 3
SEED = 20261125
SUMMARY: dict[str, Any] = {}

# Loaded by every run (-p killer); does nothing unless the plan file names a point.
KILLER = """
    import json
    import os
    import signal

    import pytest
    import requests

    from conformance.plugin import rerecord as _plugin_rerecord
    from conformance.cassettes import files as cassettes
    from conformance.plugin import replay_check as rewrite

    PLAN = json.loads(open(os.environ["KILL_PLAN"]).read())
    seen = {"request": 0, "teardown": 0, "write": 0, "verify": 0, "replaced": 0, "test": 0, "asked": -1}


    def reached(what, then=None):
        seen[what] += 1
        if PLAN.get("what") != what or seen[what] != PLAN["n"]:
            return
        if then is not None:
            then()
        with open(os.environ["KILL_LOG"], "a") as log:
            log.write(json.dumps({"round": PLAN["round"], "what": what, "n": seen[what]}) + "\\n")
        os.kill(os.getpid(), PLAN["signal"])


    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(item):
        seen["test"] += 1


    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(item, nextitem):
        reached("teardown")


    sent = requests.Session.send


    def send(self, request, **options):
        if seen["asked"] != seen["test"]:  # a test's first request; the check before the run is no test's
            seen["asked"] = seen["test"]
            if seen["test"]:
                reached("request")
        return sent(self, request, **options)


    requests.Session.send = send
    write_synced = cassettes.write_synced


    def write_half_then_the_rest(path, text):
        def half():
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text[: len(text) // 2])
        reached("write", half)
        write_synced(path, text)


    cassettes.write_synced = write_half_then_the_rest
    verify = rewrite.verify


    def verify_then_carry_on(*args, **options):
        reached("verify")
        return verify(*args, **options)


    rewrite.verify = verify_then_carry_on
    settle = _plugin_rerecord.settle


    def settle_and_count(item, cassette, *args, **options):
        before = cassette.read_bytes() if cassette.is_file() else None
        settle(item, cassette, *args, **options)
        if cassette.is_file() and cassette.read_bytes() != before:
            reached("replaced")


    _plugin_rerecord.settle = settle_and_count
"""


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
    test = module_tests(suite)[path.stem]

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


class Rounds:
    """What the kills left, round by round."""

    def __init__(self, cassettes: Path, names: set[str]) -> None:
        self.cassettes, self.names = cassettes, names
        self.lost: list[str] = []
        self.corrupt: list[str] = []
        self.replaced = self.unchanged = 0

    def check(self, label: str, before: dict[str, bytes]) -> int:
        """Hold the folder to the rules after round ``label``; the number of cassettes it replaced."""
        after = snapshot(self.cassettes)
        self.lost += [f"{label}: {name} is gone" for name in sorted(self.names - set(after))]
        replaced = 0
        for name in sorted(self.names & set(after)):
            if after[name] == before.get(name):
                self.unchanged += 1
                continue
            try:
                load_file(self.cassettes / name)
            except CorruptCassette as error:
                self.corrupt.append(f"{label}: {error}")
                continue
            problems = replay_problems(self.cassettes / name)
            if problems:
                self.corrupt.append(f"{label}: {name} does not replay: {problems}")
            else:
                replaced += 1
        self.replaced += replaced
        return replaced


def killed(ended: dict[str, int], sig: signal.Signals) -> bool:
    """Whether the run ended by ``sig``: SIGINT is pytest's "interrupted" (2), the others end the process."""
    return ended.get("exit") == 2 if sig == signal.SIGINT else ended.get("signal") == sig


def test_killing_recordings_at_observed_points_and_at_random_never_loses_or_corrupts_a_cassette(tmp_path):
    cassettes = tmp_path / "cassettes"
    plan, log = tmp_path / "plan.json", tmp_path / "kills.jsonl"
    plan.write_text("{}")
    (tmp_path / "plugin").mkdir()
    (tmp_path / "plugin" / "killer.py").write_text(textwrap.dedent(KILLER))
    sandbox = SandboxProcess()
    env = live_env(sandbox.url, KILL_PLAN=str(plan), KILL_LOG=str(log), PYTHONPATH=str(tmp_path / "plugin"))
    zygote = Zygote(env, tmp_path)
    rng = random.Random(SEED)
    record = ("conformance", "-k", SUBSET, "-p", "killer", "--record-mode=rewrite", f"--cassette-dir={cassettes}")
    landed: dict[str, int] = {}
    missed: list[str] = []
    random_kills = {"landed": 0, "finished first": 0}
    try:
        ended, out = zygote.run(*record)
        assert ended.get("exit") == 0, out[-3000:]
        names = set(snapshot(cassettes))
        assert len(names) == 5
        rounds = Rounds(cassettes, names)
        # How long a warm run takes: the random kills are spread over that span.
        started = time.monotonic()
        ended, out = zygote.run(*record)
        duration = time.monotonic() - started
        assert ended.get("exit") == 0, out[-3000:]
        number = 0
        for point, ((what, n), signals) in POINTS.items():
            for sig in signals:
                number += 1
                label = f"round {number} ({sig.name} at the {point})"
                before = snapshot(cassettes)
                plan.write_text(json.dumps({"round": number, "what": what, "n": n, "signal": int(sig)}))
                ended, out = zygote.run(*record)
                fired = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
                if not killed(ended, sig) or {"round": number, "what": what, "n": n} not in fired:
                    missed.append(f"{label}: ended {ended}, kills logged {fired[-1:]}: {out[-1500:]}")
                    continue
                landed[sig.name] = landed.get(sig.name, 0) + 1
                replaced = rounds.check(label, before)
                if what == "replaced":
                    assert replaced >= n, f"{label}: {replaced} cassettes replaced"
                if (what, n) == ("teardown", 1):
                    assert replaced == 0, f"{label}: a cassette changed before any test was settled"
        plan.write_text("{}")
        for kill in range(RANDOM_KILLS):
            number += 1
            sig = SIGNALS[kill % len(SIGNALS)]
            before = snapshot(cassettes)
            pid, _out_file = zygote.start(*record)
            time.sleep(rng.uniform(0.0, 0.9 * duration))
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            ended = zygote.wait()
            random_kills["finished first" if ended.get("exit") == 0 else "landed"] += 1
            rounds.check(f"round {number} ({sig.name} at random)", before)
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
    SUMMARY.update(
        observed_kills=sum(len(signals) for _, signals in POINTS.values()),
        observed_kills_landed=sum(landed.values()),
        by_signal=landed,
        random_kills=random_kills,
        cassettes_lost=len(rounds.lost),
        cassettes_corrupted=len(rounds.corrupt),
        cassettes_replaced_whole_and_replayed=rounds.replaced,
        cassettes_left_as_they_were=rounds.unchanged,
    )
    summary = json.dumps(SUMMARY)
    print(f"kill test summary: {summary}")
    assert not missed, f"{summary}\n" + "\n".join(missed)
    assert not rounds.lost, f"{summary}\n" + "\n".join(rounds.lost)
    assert not rounds.corrupt, f"{summary}\n" + "\n".join(rounds.corrupt)


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
