"""Record the whole suite against a live sandbox, then replay it offline: same verdicts, no secrets.

These run pytest in a subprocess, exactly as a user would, against a sandbox started here on
127.0.0.1 with a free port.
"""

from __future__ import annotations

import atexit
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from run_support import clean_env

from conformance.sandbox import Sandbox
from conformance.tools.record_sandbox import LIMITS

PROJECT = Path(__file__).resolve().parent.parent
KEY_ID = "app_0123456789abcdef01234567"
KEY_SECRET = "known-secret-Zx9QvLr2pT7mW4kB8nC1"
ACCOUNT_KEY_ID = "act_0123456789abcdef01234568"
ACCOUNT_KEY_SECRET = "known-account-secret-Qw3rTy7uI9oP2"
APP_ID = "0a1b2c3d4e5f60718293a4b5"
# Where child runs keep their ledgers (SUNCO_STATE_DIR): never the project's own state folder.
STATE_DIR = Path(tempfile.mkdtemp(prefix="conformance-test-state-"))
atexit.register(shutil.rmtree, STATE_DIR, True)


def live_env(url: str, **extra: str) -> dict[str, str]:
    """The environment of a live run against ``url`` with the test credentials."""
    return {
        **clean_env(),
        "SUNCO_API_URL": url,
        "SUNCO_APP_ID": APP_ID,
        "SUNCO_KEY_ID": KEY_ID,
        "SUNCO_KEY_SECRET": KEY_SECRET,
        "SUNCO_ACCOUNT_KEY_ID": ACCOUNT_KEY_ID,
        "SUNCO_ACCOUNT_KEY_SECRET": ACCOUNT_KEY_SECRET,
        # The sandbox below lowers these limits as record-sandbox does, so tests reach them.
        "SUNCO_MAX_MESSAGES": str(LIMITS["max_messages"]),
        "SUNCO_MESSAGE_PAGE_SIZE": str(LIMITS["message_page_size"]),
        "SUNCO_STATE_DIR": str(STATE_DIR),
        **extra,
    }


def known_sandbox(**options: Any) -> Sandbox:
    """An in-process sandbox that knows the test credentials, the account key's too."""
    return Sandbox(
        app_id=APP_ID,
        key_id=KEY_ID,
        key_secret=KEY_SECRET,
        account_key_id=ACCOUNT_KEY_ID,
        account_key_secret=ACCOUNT_KEY_SECRET,
        **options,
    )


class SandboxProcess:
    def __init__(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter
            [
                sys.executable,
                "-m",
                "conformance",
                "sandbox",
                "--port",
                "0",
                "--app-id",
                APP_ID,
                "--key-id",
                KEY_ID,
                "--key-secret",
                KEY_SECRET,
                "--account-key-id",
                ACCOUNT_KEY_ID,
                "--account-key-secret",
                ACCOUNT_KEY_SECRET,
                *(f"--{name.replace('_', '-')}={value}" for name, value in LIMITS.items()),
            ],
            cwd=PROJECT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(),
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert found, f"sandbox did not print its URL: {first!r}"
        self.url = found.group(0)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def pytest_run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "pytest", *args, "-p", "no:cacheprovider", "-q"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        env=env or clean_env(),
        timeout=600,
    )


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Record the full suite into a fresh folder, then stop the sandbox."""
    folder = tmp_path_factory.mktemp("recorded")
    sandbox = SandboxProcess()
    env = live_env(sandbox.url)
    try:
        result = pytest_run(
            "conformance",
            "--record-mode=rewrite",
            f"--cassette-dir={folder / 'cassettes'}",
            f"--conformance-report={folder / 'record.json'}",
            env=env,
        )
    finally:
        sandbox.stop()
    return {
        "folder": folder,
        "cassettes": folder / "cassettes",
        "result": result,
        "report": json.loads((folder / "record.json").read_text()),
    }


def verdicts(report: dict) -> list[tuple]:
    return sorted((v["test"], v["operation"], v["status"], v["variant"] or "", v["ok"]) for v in report["verdicts"])


def test_recording_against_the_sandbox_passes(recorded):
    result = recorded["result"]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "conformance summary" in result.stdout
    assert len(list(recorded["cassettes"].rglob("*.yaml"))) >= 10


def test_replay_offline_gives_the_same_verdicts_with_another_seed(recorded):
    # The sandbox is stopped and the network blocked: only the cassettes can answer.
    report = recorded["folder"] / "replay.json"
    result = pytest_run(
        "conformance",
        f"--cassette-dir={recorded['cassettes']}",
        "--block-network",
        "--variant-seed=987654",
        f"--conformance-report={report}",
    )
    assert result.returncode == 0, result.stdout[-3000:]
    replayed = json.loads(report.read_text())
    assert replayed["mode"] == "replay"
    assert verdicts(replayed) == verdicts(recorded["report"])
    assert replayed["tests"] == recorded["report"]["tests"]


def test_known_secret_never_reaches_disk(recorded):
    for path in recorded["folder"].rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert KEY_SECRET not in text, path
            assert KEY_ID not in text, path


def test_write_only_credentials_are_placeholders_in_cassettes(recorded):
    secret_fields = {
        "authToken",
        "privateKey",
        "apiSecret",
        "appSecret",
        "token",
        "consumerSecret",
        "apiKey",
        "accessKey",
        "accessTokenSecret",
        "consumerKey",
        "accessTokenKey",
        "projectId",
        "clientEmail",
    }
    seen = set()
    for path in recorded["cassettes"].rglob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        bodies = [i["request"]["body"] for i in data["interactions"]]
        bodies += [
            json.dumps(v["body"].get("json")) for g in data["metadata"]["conformance"]["variants"].values() for v in g
        ]
        for body in bodies:
            try:
                parsed = json.loads(body or "null")
            except ValueError:
                continue  # the not-JSON variants
            for key, value in parsed.items() if isinstance(parsed, dict) else ():
                if key in secret_fields and isinstance(value, str):
                    seen.add(key)
                    assert value == "<scrubbed>", (path, key, value)
        for interaction in data["interactions"]:
            auth = interaction["request"]["headers"].get("Authorization", ["<scrubbed>"])
            assert auth[0].endswith("<scrubbed>"), path
    assert {"authToken", "privateKey", "appSecret", "token"} <= seen


def test_cassettes_pin_the_variants_and_the_target(recorded):
    path = recorded["cassettes"] / "test_integrations" / "test_create_integration_accepts_valid_bodies.yaml"
    pins = yaml.safe_load(path.read_text())["metadata"]["conformance"]
    assert pins["target"]["appId"] == APP_ID
    types = sorted(v["body"]["json"]["type"] for v in pins["variants"]["create-valid"])
    assert len(types) == 16
    assert len(set(types)) == 16


def test_unmatched_request_names_cassette_nearest_request_and_fix(recorded, tmp_path):
    import shutil

    copy = tmp_path / "cassettes"
    shutil.copytree(recorded["cassettes"], copy)
    path = copy / "test_integrations" / "test_create_integration_rejects_values_outside_enums.yaml"
    data = yaml.safe_load(path.read_text())
    data["metadata"]["conformance"]["variants"]["invalid"][0]["body"]["json"]["type"] = "carrier-pigeon"
    path.write_text(yaml.safe_dump(data))
    result = pytest_run(
        "conformance/suites/test_integrations.py::test_create_integration_rejects_values_outside_enums",
        f"--cassette-dir={copy}",
    )
    assert result.returncode == 1
    out = result.stdout
    assert "does not hold" in out
    assert str(path) in out
    assert "nearest recorded request" in out
    assert '/type: recorded "' in out
    assert 'sent "carrier-pigeon"' in out
    assert "--record-mode=rewrite" in out
    assert "Traceback" not in out


def test_replay_without_a_recording_says_how_to_record(tmp_path):
    result = pytest_run(
        "conformance/suites/test_integrations.py::test_get_integration_returns_404_for_unknown_id",
        f"--cassette-dir={tmp_path}",
    )
    assert result.returncode == 1
    assert "No recording holds the variants" in result.stdout
    assert "--record-mode=rewrite" in result.stdout


@pytest.mark.parametrize(
    ("env", "named"),
    [({"SUNCO_APP_ID": "nope"}, "SUNCO_APP_ID"), ({"SUNCO_AUTH": "digest"}, "SUNCO_AUTH"), ({}, "SUNCO_API_URL")],
)
def test_recording_with_bad_settings_is_a_one_line_usage_error(tmp_path, env, named):
    settings = live_env("http://127.0.0.1:9", **env) if env else clean_env()
    result = pytest_run("conformance", "--record-mode=rewrite", f"--cassette-dir={tmp_path}", env=settings)
    assert result.returncode == 4
    assert named in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_replay_from_a_missing_folder_is_a_usage_error(tmp_path):
    result = pytest_run("conformance", f"--cassette-dir={tmp_path / 'nowhere'}")
    assert result.returncode == 4
    assert "no cassettes to replay" in result.stderr
    assert "--record-mode=rewrite" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_record_mode_lists_the_allowed_values():
    result = pytest_run("conformance", "--record-mode=sometimes")
    assert result.returncode == 4
    for mode in ("once", "new_episodes", "none", "all", "rewrite"):
        assert mode in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("scope", ["app", "account"])
def test_jwt_recording_scrubs_the_token_and_replays(tmp_path, scope):
    sandbox = SandboxProcess()
    env = live_env(sandbox.url, SUNCO_AUTH="jwt", SUNCO_JWT_SCOPE=scope)
    selected = "lifecycle"
    if scope == "account":
        # Only an account key may sign an account-scope token; webhooks take none (not run live).
        env.update(SUNCO_KEY_ID=ACCOUNT_KEY_ID, SUNCO_KEY_SECRET=ACCOUNT_KEY_SECRET)
        selected = "lifecycle and not webhook"
    try:
        recorded = pytest_run(
            "conformance", "-k", selected, "--record-mode=rewrite", f"--cassette-dir={tmp_path}", env=env
        )
    finally:
        sandbox.stop()
    assert recorded.returncode == 0, recorded.stdout[-2000:]
    text = next(tmp_path.rglob("*.yaml")).read_text()
    assert "Bearer <scrubbed>" in text
    assert "eyJ" not in text  # no JWT, not even its header
    replayed = pytest_run("conformance", "-k", selected, f"--cassette-dir={tmp_path}")
    assert replayed.returncode == 0, replayed.stdout[-2000:]
    assert "warning" not in replayed.stdout.lower()


def nowhere() -> tuple[int, dict[str, str]]:
    """A free local port that nothing listens on, and settings that point at it."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return port, live_env(f"http://127.0.0.1:{port}")


def test_recording_against_an_unreachable_host_says_so_plainly(tmp_path):
    port, env = nowhere()
    result = pytest_run(
        "conformance", "-k", "empty_object", "--record-mode=rewrite", f"--cassette-dir={tmp_path}", env=env
    )
    # The read before recording finds out: one line, before any test runs.
    assert result.returncode == 4
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, result.stderr
    assert f"got no answer from http://127.0.0.1:{port}" in errors[0]
    assert "check SUNCO_API_URL" in errors[0]
    assert "Traceback" not in result.stdout + result.stderr


def test_a_failed_re_recording_keeps_the_previous_cassette(recorded, tmp_path):
    import shutil

    folder = tmp_path / "cassettes"
    shutil.copytree(recorded["cassettes"], folder)
    path = folder / "test_integrations" / "test_create_integration_rejects_empty_object.yaml"
    before = path.read_bytes()
    _, env = nowhere()
    result = pytest_run(
        "conformance", "-k", "empty_object", "--record-mode=rewrite", f"--cassette-dir={folder}", env=env
    )
    assert result.returncode == 4
    assert path.read_bytes() == before
    assert [p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".yaml")] == []


def test_rate_limited_recording_retries_and_replays_without_waiting(tmp_path):
    with known_sandbox(
        throttle_every=3,
    ) as sandbox:
        env = live_env(sandbox.url)
        recorded = pytest_run(
            "conformance", "-k", "lifecycle", "--record-mode=rewrite", f"--cassette-dir={tmp_path}", env=env
        )
    assert recorded.returncode == 0, recorded.stdout[-2000:]
    text = next(tmp_path.rglob("*.yaml")).read_text()
    assert text.count("code: 429") >= 2
    replayed = pytest_run("conformance", "-k", "lifecycle", f"--cassette-dir={tmp_path}")
    assert replayed.returncode == 0, replayed.stdout[-2000:]


def test_disable_recording_runs_live_and_writes_nothing(tmp_path):
    with known_sandbox() as sandbox:
        env = live_env(sandbox.url)
        # Only "localhost" is allowed through --block-network: the live run must open the way itself.
        result = pytest_run(
            "conformance",
            "-k",
            "lifecycle or outside_enums",
            "--disable-recording",
            "--allowed-hosts=localhost",
            f"--cassette-dir={tmp_path}",
            env=env,
        )
    assert result.returncode == 0, result.stdout[-2000:]
    assert "ran live, nothing recorded" in result.stdout
    assert "CreateIntegration" in result.stdout
    assert not list(tmp_path.iterdir())
