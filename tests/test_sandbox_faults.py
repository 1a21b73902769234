"""The sandbox's fault profiles (``--faults``): the same faults for a seed, each one where the README
puts it (before the request acts, or after), and the sandbox's state never corrupted by one."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from itertools import groupby
from pathlib import Path

import pytest
import requests
from sandbox_support import body_of

from conformance.sandbox import Sandbox
from conformance.sandbox.faults import PROFILES, Fault, decide

ROOT = Path(__file__).resolve().parent.parent
SEED = 4
# What each profile may inject: (kind, status, Retry-After).
EXPECTED = {
    "latency": {("latency", 0, None)},
    "http-500": {("status", 500, None)},
    "http-502": {("status", 502, None)},
    "http-503": {("status", 503, "1")},
    "rate-limit": {("status", 429, "1")},
    "rate-limit-no-retry-after": {("status", 429, None)},
    "reset": {("reset", 0, None)},
    "truncated": {("truncated", 0, None)},
    "non-json": {("non-json", 0, None)},
}
EXPECTED["mixed"] = set().union(*EXPECTED.values()) - {("status", 429, None)}
CODES = {429: "too_many_requests", 500: "internal_error", 502: "bad_gateway", 503: "service_unavailable"}


def plan(profile: str, seed: int = SEED, count: int = 400) -> list[Fault | None]:
    return [decide(profile, seed, number) for number in range(1, count + 1)]


def first_fault(profile: str, seed: int = SEED) -> tuple[int, Fault]:
    """The number of the first request that meets more than a wait, and its fault."""
    for number, fault in enumerate(plan(profile, seed), 1):
        if fault is not None and fault.kind != "latency":
            return number, fault
    raise AssertionError(f"{profile} injects nothing in 400 requests")


def test_every_profile_is_covered_here():
    assert set(EXPECTED) == set(PROFILES)


@pytest.mark.parametrize("profile", list(PROFILES))
def test_a_profile_injects_the_same_faults_for_a_seed_and_others_for_another(profile):
    assert plan(profile) == plan(profile)
    assert plan(profile) != plan(profile, SEED + 1)


@pytest.mark.parametrize("profile", list(PROFILES))
def test_a_profile_injects_only_its_own_faults(profile):
    found = {(fault.kind, fault.status, fault.retry_after) for fault in plan(profile, count=2000) if fault}
    assert found == EXPECTED[profile]


@pytest.mark.parametrize("profile", ["rate-limit", "rate-limit-no-retry-after", "mixed"])
def test_429_bursts_last_two_or_three_requests_and_never_run_together(profile):
    throttled = [bool(fault and fault.status == 429) for fault in plan(profile, count=4000)]
    runs = [len(list(run)) for hit, run in groupby(throttled) if hit]
    assert runs, "no burst at all"
    # The client makes 5 attempts: a burst never outlasts them.
    assert set(runs) == {2, 3}


# -- over HTTP ------------------------------------------------------------------------------------


@pytest.fixture
def faulty(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    with Sandbox(faults=request.param, seed=SEED) as running:
        yield running


def integrations(sandbox: Sandbox) -> list[dict]:
    return sandbox.store.records(("integration", sandbox.app_id))


def up_to_the_fault(sandbox: Sandbox, profile: str) -> Fault:
    """Send the requests before the first fault (plain reads, unfaulted by the plan), and return that fault."""
    number, fault = first_fault(profile)
    for _ in range(number - 1):
        answer = requests.get(f"{sandbox.url}/nowhere", timeout=10)
        assert answer.status_code == 404
    return fault


def past_the_faults(sandbox: Sandbox, profile: str) -> None:
    """After the first fault, send plain reads until the next request is one the plan leaves alone."""
    number = first_fault(profile)[0] + 1
    while (fault := decide(profile, SEED, number)) is not None and fault.kind != "latency":
        assert requests.get(f"{sandbox.url}/nowhere", timeout=10).status_code == fault.status
        number += 1


def create(sandbox: Sandbox) -> requests.Response:
    url = f"{sandbox.url}/v2/apps/{sandbox.app_id}/integrations"
    return requests.post(url, json=body_of("web"), auth=(sandbox.key_id, sandbox.key_secret), timeout=10)


@pytest.mark.parametrize(
    "faulty", ["http-500", "http-502", "http-503", "rate-limit", "rate-limit-no-retry-after"], indirect=True
)
def test_an_injected_error_answer_comes_before_the_request_acts(faulty):
    fault = up_to_the_fault(faulty, faulty.faults.profile)
    answer = create(faulty)
    assert answer.status_code == fault.status
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    assert [error["code"] for error in answer.json()["errors"]] == [CODES[fault.status]]
    assert answer.headers.get("Retry-After") == fault.retry_after
    assert integrations(faulty) == []  # it did nothing
    # Once the plan leaves requests alone again, they are served as usual.
    past_the_faults(faulty, faulty.faults.profile)
    assert create(faulty).status_code == 201
    assert len(integrations(faulty)) == 1


@pytest.mark.parametrize("faulty", ["reset"], indirect=True)
def test_a_reset_connection_comes_before_the_request_acts(faulty):
    up_to_the_fault(faulty, "reset")
    with pytest.raises(requests.ConnectionError) as caught:
        create(faulty)
    assert "Connection reset by peer" in str(caught.value) or "RemoteDisconnected" in str(caught.value)
    assert integrations(faulty) == []
    assert create(faulty).status_code == 201


@pytest.mark.parametrize("faulty", ["truncated"], indirect=True)
def test_a_truncated_answer_comes_after_the_request_acted(faulty):
    up_to_the_fault(faulty, "truncated")
    with pytest.raises(requests.exceptions.ChunkedEncodingError) as caught:
        create(faulty)
    assert "IncompleteRead" in str(caught.value)
    # The create happened; only its answer was lost.
    assert [record["type"] for record in integrations(faulty)] == ["web"]
    assert create(faulty).status_code == 201


@pytest.mark.parametrize("faulty", ["non-json"], indirect=True)
def test_a_non_json_answer_keeps_the_status_and_comes_after_the_request_acted(faulty):
    up_to_the_fault(faulty, "non-json")
    answer = create(faulty)
    assert answer.status_code == 201
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert answer.text.startswith("<!DOCTYPE html>")
    with pytest.raises(requests.JSONDecodeError):
        answer.json()
    assert [record["type"] for record in integrations(faulty)] == ["web"]


def outcomes(profile: str | None, count: int = 40) -> list[tuple[object, ...]]:
    """What ``count`` creates and reads get from a fresh seeded sandbox: status and body, or the error's type."""
    seen: list[tuple[object, ...]] = []
    with Sandbox(faults=profile, seed=SEED) as sandbox:
        for number in range(count):
            try:
                answer = create(sandbox) if number % 2 else requests.get(f"{sandbox.url}/nowhere", timeout=10)
                seen.append((answer.status_code, answer.headers.get("Content-Type"), answer.content))
            except requests.RequestException as error:
                seen.append((type(error).__name__,))
    return seen


def test_a_seeded_faulty_sandbox_answers_the_same_requests_the_same_way():
    first = outcomes("mixed", 120)
    assert first == outcomes("mixed", 120)
    kinds = {entry[0] for entry in first}
    assert {"ConnectionError", "ChunkedEncodingError"} & kinds, kinds
    assert {500, 502, 503, 429} & kinds, kinds


def test_latency_changes_no_answer():
    assert outcomes("latency", 12) == outcomes(None, 12)
    with Sandbox(faults="latency", seed=SEED) as sandbox:
        requests.get(f"{sandbox.url}/nowhere", timeout=10)
        assert sandbox.faults is not None
        assert [fault.kind for _, fault in sandbox.faults.injected] == ["latency"]
        assert sandbox.faults.injected[0][1].delay > 0


def test_an_unknown_profile_is_refused_naming_the_allowed_ones():
    with pytest.raises(ValueError, match="no fault profile 'sometimes': use one of latency, http-500"):
        Sandbox(faults="sometimes")


# -- the command line ---------------------------------------------------------------------------


def conformance(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "conformance", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize("command", ["sandbox", "record-sandbox"])
def test_an_unknown_profile_is_one_line_listing_the_allowed_ones(command, tmp_path):
    where = ["--cassette-dir", str(tmp_path)] if command == "record-sandbox" else []
    result = conformance(command, "--faults", "sometimes", *where)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "--faults 'sometimes' is not allowed" in lines[0]
    for name in PROFILES:
        assert name in lines[0]
    assert "Traceback" not in result.stdout + result.stderr


def test_sandbox_help_describes_every_profile():
    result = conformance("sandbox", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for name, profile in PROFILES.items():
        assert f"{name} {' '.join(profile.summary.split())}" in text


def test_record_sandbox_refuses_to_rehearse_faults_into_the_shipped_cassettes():
    before = sorted(p.stat().st_mtime_ns for p in (ROOT / "cassettes").rglob("*.yaml"))
    result = conformance("record-sandbox", "--faults", "http-502")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "record-sandbox: error: --faults needs --cassette-dir DIR: the shipped cassettes record the documented "
        "behaviour, not a rehearsal of faults"
    )
    assert sorted(p.stat().st_mtime_ns for p in (ROOT / "cassettes").rglob("*.yaml")) == before


def test_the_sandbox_announces_its_faults_and_seed():
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance", "sandbox", "--port", "0", "--faults", "http-503", "--seed", "9"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(8)]
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert f"  faults: http-503 (seed 9): {PROFILES['http-503'].summary}\n" in lines


def test_the_readme_documents_every_profile():
    readme = (ROOT / "README.md").read_text()
    rows = {line.split("|")[1].strip(" `") for line in readme.splitlines() if line.startswith("| `")}
    assert set(PROFILES) <= rows
