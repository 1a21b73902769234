"""Recordings local to each test: a test's cassette is the same recorded alone or after other tests.

The seeded sandbox draws ids, secrets and times per test (the ``X-Conformance-Test`` header the
suite's client sends while recording), and ``record-sandbox`` records a selection of the suite.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest
from run_support import free_port, record_sandbox

from conformance.sandbox.store import Store
from conformance.scrubbing.scrubber import Scrubber
from conformance.transport.client import TEST_HEADER

PROJECT = Path(__file__).resolve().parent.parent
SUITE = "conformance/suites"
# Tests that create records (ids, times, secrets), recorded alone and after others that create some too.
TARGETS = (f"{SUITE}/test_users.py::test_user_lifecycle", f"{SUITE}/test_webhooks.py::test_integration_key_lifecycle")
BEFORE = (
    f"{SUITE}/test_users.py::test_create_user_accepts_valid_bodies",
    f"{SUITE}/test_integrations.py::test_integration_lifecycle",
    f"{SUITE}/test_webhooks.py::test_webhook_lifecycle",
)
RECORDED_AT = re.compile(r"^\s*recordedAt: .*$", re.MULTILINE)


def cassette_of(folder: Path, nodeid: str) -> Path:
    path, _, name = nodeid.partition("::")
    return folder / Path(path).stem / f"{name}.yaml"


def test_record_sandbox_records_a_test_alone_as_within_a_larger_selection(tmp_path: Path) -> None:
    # One port for both runs, one after the other: the sandbox's URL is in every recorded request.
    port = str(free_port())
    alone, within = tmp_path / "alone", tmp_path / "within"
    for folder, selected in ((alone, TARGETS), (within, BEFORE + TARGETS)):
        done = record_sandbox("--port", port, "--cassette-dir", str(folder), *selected, "--", "-p", "no:cacheprovider")
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert f"({len(selected)} selected test(s))" in done.stdout
    # Only what was selected is recorded.
    assert sorted(p.relative_to(alone).as_posix() for p in alone.rglob("*.yaml")) == sorted(
        cassette_of(Path(), nodeid).as_posix() for nodeid in TARGETS
    )
    assert len(list(within.rglob("*.yaml"))) == len(BEFORE) + len(TARGETS)
    for nodeid in TARGETS:
        first, second = (cassette_of(folder, nodeid).read_text() for folder in (alone, within))
        assert TEST_HEADER.lower() not in first.lower(), "the test's name is for the sandbox, never recorded"
        assert RECORDED_AT.search(first), "each cassette says when it was recorded"
        first, second = RECORDED_AT.sub("", first), RECORDED_AT.sub("", second)
        changed = "".join(
            list(difflib.unified_diff(first.splitlines(True), second.splitlines(True), "alone", "within"))[:40]
        )
        assert first == second, f"{nodeid}: recorded alone and after {len(BEFORE)} other tests differ:\n{changed}"


def test_seeded_store_draws_the_same_ids_and_times_for_a_test_whatever_came_before() -> None:
    def draws(store: Store) -> list[str]:
        return [store.tokens.new_id(), store.tokens.hex(16), store.tokens.now(), store.clock.now()]

    alone = Store(seed=0)
    with alone.scope.of("suite.py::test_b"):
        expected = draws(alone)
    busy = Store(seed=0)
    draws(busy)  # a request that names no test
    with busy.scope.of("suite.py::test_a"):
        other = draws(busy)
    with busy.scope.of("suite.py::test_b"):
        assert draws(busy) == expected
    assert other[:2] != expected[:2], "each test has its own stream"
    # Without a test, the run's one stream as before: the seed's own sequence.
    assert draws(Store(seed=0)) == draws(Store(seed=0))


def test_seeded_store_never_hands_out_an_id_twice_when_a_test_runs_again() -> None:
    store = Store(seed=0)
    with store.scope.of("suite.py::test_a"):
        first = [store.tokens.new_id() for _ in range(3)]
    with store.scope.of("suite.py::test_a"):
        again = [store.tokens.new_id() for _ in range(3)]
    assert not set(first) & set(again)


def test_scrubber_drops_the_test_header_before_a_request_is_recorded() -> None:
    from vcr.request import Request

    sent = Request("GET", "http://127.0.0.1:1/v2/apps", None, {TEST_HEADER: "suite.py::test_a", "Accept": "x"})
    recorded = Scrubber().request(sent)
    assert dict(recorded.headers) == {"Accept": "x"}


@pytest.mark.parametrize(
    ("selection", "said"),
    [
        ([f"{SUITE}/test_nope.py"], f"'{SUITE}/test_nope.py' does not exist"),
        (["tests/test_local_recordings.py"], "'tests/test_local_recordings.py' is not in the suite"),
        (["tests", "-k", "local_recordings"], "the selection reaches tests outside the suite (tests/"),
        ([f"{SUITE}/test_users.py::test_nope"], "pytest refuses the selection: not found:"),
        ([f"{SUITE}/test_users.py", "-k", "no_test_is_named_so"], "the selection names no test of the suite"),
        (["-k", "lifecycle and"], "pytest refuses the selection: Wrong expression passed to '-k'"),
    ],
)
def test_record_sandbox_refuses_a_selection_that_names_no_test_in_one_line(
    tmp_path: Path, selection: list[str], said: str
) -> None:
    done = record_sandbox("--port", str(free_port()), "--cassette-dir", str(tmp_path / "out"), *selection)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, done.stderr
    assert errors[0].startswith("record-sandbox: error: ")
    assert said in errors[0]
    assert not (tmp_path / "out").exists(), "nothing is recorded"
