"""A storm of 429s or 5xxs stops a live run after a few tests in a row, with one line saying why,
instead of every test waiting out its retries (the issue counted about 7 hours for the suite)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from types import SimpleNamespace
from typing import ClassVar

import pytest
from http_support import serve
from test_roundtrip import APP_ID, live_env, pytest_run

from conformance.failures import ConformanceFailure, FailureGroup, RateLimited
from conformance.plugin import hooks as plugin
from conformance.plugin.hooks import FAULT_LIMIT

SELECTED = "empty_object or outside_enums or not_json or out_of_bound_values or missing_required_fields or wrong_json"


class Storm(BaseHTTPRequestHandler):
    """Answers the read before recording like the API, then only ``status`` (Retry-After: 0, so no waiting)."""

    protocol_version = "HTTP/1.1"
    status: ClassVar[int] = 503
    answered: ClassVar[list[int]] = []

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        first = not type(self).answered
        status = 200 if first and self.command == "GET" else type(self).status
        type(self).answered.append(status)
        body = (
            {"app": {"id": APP_ID, "displayName": "Storm"}}
            if status == 200
            else {"errors": [{"code": "storm", "title": "try later"}]}
        )
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def storm() -> Iterator[str]:
    Storm.answered = []
    yield from serve(Storm)


@pytest.mark.parametrize(("status", "named"), [(429, "rate limited (429)"), (503, "a server fault (503)")])
def test_a_storm_of_429s_or_5xxs_stops_a_live_run_after_a_few_tests_with_one_line(storm, tmp_path, status, named):
    Storm.status = status
    result = pytest_run(
        "conformance", "-k", SELECTED, "--record-mode=rewrite", f"--cassette-dir={tmp_path}", env=live_env(storm)
    )
    out = result.stdout
    assert result.returncode == 2, out[-3000:]  # pytest's "interrupted"
    stops = [line for line in out.splitlines() if "in a row ended on rate limits or server faults" in line]
    assert len(stops) == 1, out[-3000:]
    assert f"stopped after {FAULT_LIMIT} tests in a row" in stops[0]
    assert named in stops[0]
    assert f"{FAULT_LIMIT} failed" in out
    # The run stopped: of the selected tests, only those three ran (and recorded what they met).
    assert "passed" not in out.splitlines()[-1]
    assert len(list(tmp_path.rglob("*.yaml"))) <= FAULT_LIMIT
    assert len(Storm.answered) < 10 * FAULT_LIMIT  # of 57 selected tests, each asked up to 5 times


class Item:
    """What ``_count_faults`` reads of a pytest item: the run's stash and session."""

    def __init__(self) -> None:
        self.config = SimpleNamespace(stash={plugin._faulted_key: 0})
        self.session = SimpleNamespace(shouldstop=False)


def limited() -> RateLimited:
    return RateLimited(operation="GetApp", method="GET", path="/v2/apps/{appId}", title="t.", rule="r", status=429)


def test_faults_that_are_not_in_a_row_do_not_stop_the_run():
    item = Item()
    # A passing test, or one that failed for another reason, breaks the row.
    for error in [limited(), limited(), None, limited(), limited(), AssertionError("x"), limited()]:
        plugin._count_faults(item, error)  # type: ignore[arg-type]
    assert item.session.shouldstop is False
    for _ in range(FAULT_LIMIT - 1):
        plugin._count_faults(item, limited())  # type: ignore[arg-type]
    assert "stopped after 3 tests in a row" in str(item.session.shouldstop)


def test_a_test_that_ends_on_a_fault_after_other_failures_counts_in_the_row():
    item = Item()
    conformance = ConformanceFailure(operation="GetApp", method="GET", path="/v2/apps/{appId}", title="t.", rule="r")
    for _ in range(FAULT_LIMIT):
        plugin._count_faults(item, FailureGroup([conformance, limited()]))  # type: ignore[arg-type]
    assert "rate limited (429)" in str(item.session.shouldstop)
