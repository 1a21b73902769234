"""A Ctrl-C always stops a live run, with pytest's status 2, even where its KeyboardInterrupt is swallowed.

Each run records a few integration tests against a sandbox on 127.0.0.1 with a free port. An
injected plugin sends the run a real SIGINT from inside a Hypothesis strategy while variants are
drawn (or at the last teardown), in the ways it was seen to get lost: raised through Hypothesis,
swallowed by a weakref callback (Python prints it and goes on), turned into
``FlakyStrategyDefinition``. It logs every request the run sends, with its test and phase, so the
test sees that nothing but the interrupted test's own clean-up went out afterwards.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_recording_guard import with_plugin
from test_roundtrip import known_sandbox, live_env, pytest_run

SUBSET = (
    "create_integration_rejects_empty_object or create_integration_rejects_values_outside_enums"
    " or create_integration_rejects_body_that_is_not_json or test_integration_lifecycle"
)

INJECTED = """
    import os
    import signal
    import weakref

    import pytest
    import requests
    from hypothesis.errors import FlakyStrategyDefinition

    from conformance.variants import pins as _pinning

    LOG, MODE = os.environ["INJECT_LOG"], os.environ["INJECT_MODE"]
    state = {"draws": 0, "fired": False, "where": "- -"}


    def note(line):
        with open(LOG, "a") as log:
            log.write(line + "\\n")


    def interrupt():
        note("interrupted " + state["where"])
        if MODE == "raised":
            signal.raise_signal(signal.SIGINT)
        elif MODE in ("weakref", "teardown"):
            class Thing:
                pass

            thing = Thing()
            ref = weakref.ref(thing, lambda _gone: signal.raise_signal(signal.SIGINT))
            del thing  # the callback runs here; Python prints its KeyboardInterrupt and goes on
            assert ref() is None
        elif MODE == "flaky":
            try:
                signal.raise_signal(signal.SIGINT)
            except KeyboardInterrupt:
                raise FlakyStrategyDefinition("Inconsistent data generation") from None


    sent = requests.Session.send


    def send(self, request, **options):
        note(f"request {state['where']} {request.method} {request.path_url}")
        return sent(self, request, **options)


    requests.Session.send = send
    drawn = _pinning.draw


    def draw(strategy, count, seed):
        state["draws"] += 1
        if MODE == "teardown" or state["draws"] != 2:
            return drawn(strategy, count, seed)

        def inject(value):
            if not state["fired"]:
                state["fired"] = True
                interrupt()
            return value

        return drawn(strategy.map(inject), count, seed)


    _pinning.draw = draw


    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(item):
        state["where"] = item.name + " setup"


    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(item):
        state["where"] = item.name + " call"


    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(item, nextitem):
        state["where"] = item.name + " teardown"
        if MODE == "teardown" and nextitem is None:
            interrupt()
"""

MODES = {
    "raised through Hypothesis": "raised",
    "swallowed by a weakref callback": "weakref",
    "turned into FlakyStrategyDefinition": "flaky",
}


def run(tmp_path: Path, mode: str) -> tuple[int, str, list[str]]:
    log = tmp_path / "requests.log"
    with known_sandbox() as running:
        env = with_plugin(tmp_path, INJECTED, live_env(running.url, INJECT_LOG=str(log), INJECT_MODE=mode))
        result = pytest_run(
            "conformance",
            "-k",
            SUBSET,
            "-p",
            "injected",
            "--record-mode=rewrite",
            f"--cassette-dir={tmp_path / 'cassettes'}",
            env=env,
        )
    return result.returncode, result.stdout + result.stderr, log.read_text().splitlines()


@pytest.mark.parametrize("mode", MODES.values(), ids=MODES.keys())
def test_recording_stops_with_status_2_on_ctrl_c_while_variants_are_drawn(tmp_path: Path, mode: str) -> None:
    status, out, lines = run(tmp_path, mode)
    marks = [index for index, line in enumerate(lines) if line.startswith("interrupted ")]
    assert len(marks) == 1, lines
    test = lines[marks[0]].split()[1]
    assert lines[marks[0]].endswith(" call"), lines
    # Requests went out before; afterwards only the interrupted test's teardown (deleting what it made).
    assert any(line.startswith("request ") for line in lines[: marks[0]])
    after = lines[marks[0] + 1 :]
    assert [line for line in after if not line.startswith(f"request {test} teardown ")] == [], lines
    assert status == 2, out[-3000:]
    assert "KeyboardInterrupt" in out, out[-3000:]


def test_recording_ends_with_status_2_when_a_ctrl_c_at_the_last_teardown_is_swallowed(tmp_path: Path) -> None:
    status, out, lines = run(tmp_path, "teardown")
    assert [line for line in lines if line.startswith("interrupted ")] == [
        "interrupted test_integration_lifecycle teardown"
    ]
    assert status == 2, out[-3000:]
    assert "interrupted (Ctrl-C): the run stopped" in out, out[-3000:]
