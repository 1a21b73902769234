"""Live runs against hosts that refuse, hang or vanish; timeouts; progress; the smaller defects of issue 8."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from run_support import free_port, record_sandbox
from test_roundtrip import (
    APP_ID,
    KEY_ID,
    KEY_SECRET,
    known_sandbox,
    live_env,
    pytest_run,
)

from conformance.failures import ConfigError
from conformance.report.summary import TESTED_NOTHING, Summary
from conformance.sandbox import Sandbox
from conformance.transport.client import Client
from conformance.transport.preflight import check_access
from conformance.transport.settings import DEFAULT_TIMEOUT, Settings

SETTINGS = {
    "SUNCO_API_URL": "http://127.0.0.1:9",
    "SUNCO_APP_ID": APP_ID,
    "SUNCO_KEY_ID": KEY_ID,
    "SUNCO_KEY_SECRET": KEY_SECRET,
}


# -- SUNCO_TIMEOUT ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"), [("", DEFAULT_TIMEOUT), ("10", (10.0, 10.0)), (" 5 , 30 ", (5.0, 30.0)), ("0.5", (0.5, 0.5))]
)
def test_timeout_is_one_value_or_connect_and_read(value, expected):
    assert Settings.from_env({**SETTINGS, "SUNCO_TIMEOUT": value}).timeout == expected


@pytest.mark.parametrize("value", ["soon", "0", "-1", "5,", "1,2,3", "nan", "inf", "601"])
def test_a_bad_timeout_is_one_line_naming_the_variable(value):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**SETTINGS, "SUNCO_TIMEOUT": value})
    message = str(caught.value)
    assert message.startswith(f"SUNCO_TIMEOUT={value!r} is malformed")
    assert "5,30" in message
    assert "\n" not in message


def test_the_client_sends_with_the_configured_timeouts():
    seen: list[object] = []

    class Recorder:
        def request(self, *args: object, timeout: object = None, **kwargs: object) -> object:
            seen.append(timeout)
            raise ConnectionError("stop here")

    settings = Settings.from_env({**SETTINGS, "SUNCO_TIMEOUT": "2,7"})
    with pytest.raises(ConnectionError):
        Client(settings, session=Recorder()).call("ListIntegrations")  # type: ignore[arg-type]
    assert seen == [(2.0, 7.0)]


# -- one read before recording ------------------------------------------------------------------


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with known_sandbox() as running:
        yield running


def settings_for(url: str, **env: str) -> Settings:
    return Settings.from_env({**SETTINGS, "SUNCO_API_URL": url, **env})


def test_the_read_before_recording_passes_with_good_settings(sandbox):
    check_access(settings_for(sandbox.url), str)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SUNCO_KEY_SECRET": "wrong-secret-value"}, "401 unauthorized: "),
        ({"SUNCO_AUTH": "jwt", "SUNCO_KEY_SECRET": "wrong-secret-value-long-enough-for-hs256"}, "check SUNCO_KEY_ID"),
        ({"SUNCO_APP_ID": "ffffffffffffffffffffffff"}, "404 app_not_found: no app ffffffffffffffffffffffff"),
    ],
)
def test_the_read_before_recording_names_the_setting_to_check(sandbox, env, named):
    secret = env.get("SUNCO_KEY_SECRET", KEY_SECRET)
    with pytest.raises(ConfigError) as caught:
        check_access(settings_for(sandbox.url, **env), lambda text: text.replace(secret, "<scrubbed>"))
    message = str(caught.value)
    assert named in message
    assert "\n" not in message
    assert secret not in message


def test_an_unreachable_host_is_one_line_with_the_whole_cause():
    port = free_port()
    with pytest.raises(ConfigError) as caught:
        check_access(settings_for(f"http://127.0.0.1:{port}"), str)
    message = str(caught.value)
    # The operating system's refusal first, then the error that carried it; not the whole chain again.
    assert message.startswith(f"got no answer from http://127.0.0.1:{port}: ConnectionRefusedError: ")
    assert "(requests.exceptions.ConnectionError)" in message
    assert "urllib3" not in message
    assert "check SUNCO_API_URL" in message
    assert "\n" not in message
    assert len(message) < 300


@pytest.fixture
def hung_host() -> Iterator[str]:
    """A socket that accepts connections (the kernel does) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_a_host_that_never_answers_costs_the_read_timeout_not_forever(hung_host):
    with pytest.raises(ConfigError) as caught:
        check_access(settings_for(hung_host, SUNCO_TIMEOUT="0.3"), str)
    message = str(caught.value)
    assert "ReadTimeout" in message
    assert "SUNCO_TIMEOUT (now 0.3,0.3 s)" in message


def test_a_hung_host_stops_a_recording_with_one_line(hung_host, tmp_path):
    env = live_env(hung_host, SUNCO_TIMEOUT="0.3")
    result = pytest_run("conformance", "--record-mode=rewrite", f"--cassette-dir={tmp_path}", env=env)
    assert result.returncode == 4
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, result.stderr
    assert "ReadTimeout" in errors[0]
    assert "Traceback" not in result.stdout + result.stderr


class AnswersOnce:
    """Answers one request (the read before recording) like the API, then is gone: later connects are refused."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        connection, _ = self.listener.accept()
        self.listener.close()
        with connection:
            connection.recv(65536)
            body = json.dumps({"app": {"id": APP_ID, "displayName": "Answers once"}}).encode()
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )


def test_a_host_that_vanishes_mid_run_stops_the_run_after_a_few_tests_with_the_whole_cause(tmp_path):
    host = AnswersOnce()
    tests = "empty_object or outside_enums or not_json or out_of_bound_values or missing_required_fields or wrong_json"
    result = pytest_run(
        "conformance", "-k", tests, "--record-mode=rewrite", f"--cassette-dir={tmp_path}", env=live_env(host.url)
    )
    host.thread.join(timeout=10)
    out = result.stdout
    assert result.returncode == 2, out[-3000:]  # pytest's "interrupted"
    assert "stopped after 3 tests in a row got no answer from the API (last cause: ConnectionRefusedError" in out
    assert out.count("got no answer from") == 3 + 1  # three failures, one stop message
    assert "cause: urllib3.exceptions.NewConnectionError" in out
    assert "cause: ConnectionRefusedError" in out
    assert "3 failed" in out
    assert not list(tmp_path.rglob("*.yaml*"))


# -- progress while recording ---------------------------------------------------------------------


def test_recording_shows_progress_and_each_429_wait_without_s(tmp_path):
    with known_sandbox(
        throttle_every=3,
    ) as running:
        recorded = pytest_run(
            "conformance",
            "-k",
            "test_integration_lifecycle",
            "--record-mode=rewrite",
            f"--cassette-dir={tmp_path}",
            env=live_env(running.url),
        )
    assert recorded.returncode == 0, recorded.stdout[-2000:]
    lines = [line for line in recorded.stdout.splitlines() if line.startswith("[recording] ")]
    test = "test_integration_lifecycle"
    assert f"[recording] {test}: CreateIntegration answered 201 (exchange 1)" in lines
    assert f"[recording] {test}: DeleteIntegration answered 200 (exchange 6)" in lines
    waits = [line for line in lines if "answered 429; retry" in line]
    assert waits, recorded.stdout
    assert all(line.endswith("in 0.0 s") and " of 5 " in line for line in waits)
    replayed = pytest_run("conformance", "-k", "test_integration_lifecycle", f"--cassette-dir={tmp_path}")
    assert replayed.returncode == 0
    assert "[recording]" not in replayed.stdout


# -- the summary, the report path, record-sandbox's port ----------------------------------------------


def verdict(operation: str, status: int, *, documented: bool, expected: bool) -> dict[str, object]:
    return {
        "operation": operation,
        "status": status,
        "variant": None,
        "ok": True,
        "documented": documented,
        "expected": expected,
    }


def test_the_summary_tells_undocumented_statuses_a_test_expected_from_those_nothing_expected(tmp_path):
    summary = Summary(None, recording=False, cassette_root=tmp_path)  # type: ignore[arg-type]
    summary.tests = {"t": "passed"}
    summary.verdicts = [
        verdict("CreateIntegration", 401, documented=False, expected=True),
        verdict("UpdateIntegration", 400, documented=False, expected=False),
        verdict("UpdateIntegration", 400, documented=False, expected=False),
        verdict("GetIntegration", 200, documented=True, expected=True),
    ]
    lines = summary.lines()
    assert "statuses the documentation does not list, expected by the test: CreateIntegration 401x1" in lines
    assert "statuses the documentation does not list, that nothing expected: UpdateIntegration 400x2" in lines
    assert not any("GetIntegration 200" in line for line in lines if "documentation" in line)


@pytest.mark.parametrize(
    ("recording", "outcomes", "nothing"),
    [
        (True, ["skipped", "skipped"], True),
        (True, ["skipped", "passed"], False),
        (True, ["skipped", "failed"], False),
        (True, ["skipped", "server-fault"], False),
        (True, [], False),
        # A replay that skips everything replays what was recorded: the recording was judged when it ran.
        (False, ["skipped", "skipped"], False),
    ],
)
def test_only_a_live_run_whose_every_test_skipped_tested_nothing(tmp_path, recording, outcomes, nothing):
    summary = Summary(None, recording=recording, cassette_root=tmp_path)  # type: ignore[arg-type]
    summary.tests = {f"t{number}": outcome for number, outcome in enumerate(outcomes)}
    assert summary.tested_nothing() is nothing
    assert (TESTED_NOTHING in summary.lines()) is nothing


def test_the_report_goes_into_folders_that_do_not_exist_yet(tmp_path):
    report = tmp_path / "reports" / "nightly" / "run.json"
    result = pytest_run("conformance", "-k", "empty_object", f"--conformance-report={report}")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert json.loads(report.read_text())["mode"] == "replay"


def test_a_report_path_that_is_a_folder_is_a_one_line_usage_error(tmp_path):
    result = pytest_run("conformance", "-k", "empty_object", f"--conformance-report={tmp_path}")
    assert result.returncode == 4
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert errors == [
        f"ERROR: --conformance-report {tmp_path} is a directory: give a file path, e.g. {tmp_path}/x.json"
    ]


def test_record_sandbox_refuses_a_busy_port_instead_of_recording_elsewhere(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = record_sandbox("--port", str(port), "--cassette-dir", str(tmp_path / "out"))
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, result.stderr
    assert f"cannot listen on 127.0.0.1 port {port}" in errors[0]
    assert "--port N" in errors[0]
    assert "recording against" not in result.stdout
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("port", ["http", "0", "70000"])
def test_record_sandbox_port_must_be_a_port(tmp_path, port):
    result = record_sandbox("--port", port, "--cassette-dir", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"record-sandbox: error: --port {port!r} is not allowed: use an integer from 1 to 65535"
    ]


def test_record_sandbox_records_on_the_port_it_is_given(tmp_path):
    port = free_port()
    result = record_sandbox(
        "--port", str(port), "--cassette-dir", str(tmp_path), "--", "-k", "empty_object", "-q", "-p", "no:cacheprovider"
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert f"http://127.0.0.1:{port}" in next(Path(tmp_path).rglob("*.yaml")).read_text()


def test_the_cause_of_no_answer_is_shown_whole_and_scrubbed():
    from conformance.scrubbing.scrubber import Scrubber
    from conformance.session.session import ConformanceSession

    secret = "sUp3r-s3cret-in-a-message"
    settings = Settings.from_env({**SETTINGS, "SUNCO_KEY_SECRET": secret})
    session = ConformanceSession(
        cassette=None,
        recording=True,
        settings=settings,
        scrubber=Scrubber(settings.secrets),
        nodeid="t",
        record_command="-",
    )
    try:
        try:
            raise ConnectionRefusedError(111, f"refused while sending {secret}")
        except OSError as low:
            raise requests.ConnectionError(f"no connection for {secret}") from low
    except requests.ConnectionError as error:
        failure = session._unreachable("ListIntegrations", error)
    notes = [note for note in failure.notes if note.startswith("cause: ")]
    assert notes[0].startswith("cause: requests.exceptions.ConnectionError: no connection for <scrubbed")
    assert notes[1].startswith("cause: ConnectionRefusedError: [Errno 111] refused while sending <scrubbed")
    assert secret not in failure.render()


# -- an app that already holds the one switchboard it may ----------------------------------------


def test_switchboard_tests_skip_live_on_an_app_that_has_one_and_leave_it_alone(sandbox, tmp_path):
    url = f"{sandbox.url}/v2/apps/{APP_ID}/switchboards"
    made = requests.post(url, json={"enabled": True}, auth=(KEY_ID, KEY_SECRET), timeout=10)
    assert made.status_code == 201, made.text
    theirs = made.json()["switchboard"]["id"]
    result = pytest_run(
        "conformance/suites/test_switchboards.py",
        "-k",
        "test_switchboard_lifecycle or test_create_switchboard_accepts_valid_bodies",
        "--record-mode=rewrite",
        f"--cassette-dir={tmp_path}",
        "-rs",
        env=live_env(sandbox.url),
    )
    # Both selected tests skipped: the run tested nothing, and says so rather than going green.
    assert result.returncode == 1, result.stdout[-3000:]
    assert "2 skipped" in result.stdout
    assert TESTED_NOTHING in result.stdout
    assert f"not run live: needs an app without a switchboard (an app holds at most 1; this one has {theirs})" in (
        result.stdout
    )
    listed = requests.get(url, auth=(KEY_ID, KEY_SECRET), timeout=10).json()["switchboards"]
    assert [board["id"] for board in listed] == [theirs]
