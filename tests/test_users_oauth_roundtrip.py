"""Record the users and OAuth suites against a sandbox, then replay them offline: with the optional
settings everything runs and no token, code or client secret reaches the disk; without them the
tests are reported as not run, naming the variables, live and in replay alike."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_roundtrip import (
    KEY_SECRET,
    known_sandbox,
    live_env,
    pytest_run,
)

from conformance.sandbox import seeded

SUITES = ("conformance/suites/test_oauth.py", "conformance/suites/test_users.py")
NEEDS_SETTINGS = (
    "test_authorize_redirects_with_a_code_and_the_state_sent",
    "test_get_token_refuses_bad_clients_codes_and_bodies",
    "test_oauth_authorize_token_token_info_revoke",
    "test_sdk_user_has_devices_and_an_sdk_client_the_api_cannot_remove",
    "test_sync_user_takes_its_zendesk_counterparts_data",
)


def record(folder: Path, *, optional: bool) -> tuple[str, dict]:
    with known_sandbox() as sandbox:
        env = live_env(sandbox.url, **(seeded.live_settings() if optional else {}))
        result = pytest_run(
            *SUITES,
            "--record-mode=rewrite",
            f"--cassette-dir={folder}",
            f"--conformance-report={folder / 'record.json'}",
            env=env,
        )
    assert result.returncode == 0, result.stdout[-3000:]
    return result.stdout, json.loads((folder / "record.json").read_text())


def replay(folder: Path) -> tuple[str, dict]:
    result = pytest_run(
        *SUITES, f"--cassette-dir={folder}", "--block-network", f"--conformance-report={folder / 'replay.json'}"
    )
    assert result.returncode == 0, result.stdout[-3000:]
    return result.stdout, json.loads((folder / "replay.json").read_text())


@pytest.fixture(scope="module")
def with_settings(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("users-oauth")
    _, report = record(folder, optional=True)
    return folder, report


def test_with_every_setting_all_run_and_replay_to_the_same_verdicts(with_settings: tuple[Path, dict]) -> None:
    folder, recorded = with_settings
    assert not recorded["notRun"]
    assert {recorded["tests"][t] for t in recorded["tests"] if t.rsplit("::", 1)[-1] in NEEDS_SETTINGS} == {"passed"}
    _out, replayed = replay(folder)
    assert replayed["tests"] == recorded["tests"]
    key = sorted((v["test"], v["operation"], v["status"], v["ok"]) for v in recorded["verdicts"])
    assert sorted((v["test"], v["operation"], v["status"], v["ok"]) for v in replayed["verdicts"]) == key
    assert {"Authorize", "GetToken", "GetTokenInfo", "RevokeAccess", "SyncUser", "GetDevice"} <= set(
        replayed["operations"]
    )


def test_no_token_code_or_client_secret_reaches_a_cassette(with_settings: tuple[Path, dict]) -> None:
    folder, _ = with_settings
    texts = {path: path.read_text() for path in folder.rglob("*.yaml")}
    oauth = "\n".join(text for path, text in texts.items() if "test_oauth" in str(path))
    assert "Bearer <scrubbed>" in oauth
    assert '"access_token":"<scrubbed>"' in oauth
    assert "code=<scrubbed>" in oauth
    assert "code=%3Cscrubbed%3E" in oauth
    for path, text in texts.items():
        assert seeded.OAUTH_CLIENT_SECRET not in text, path
        assert "eyJ" not in text, path  # no JWT: neither an access token nor its header
        assert not re.search(r"code=[0-9a-f]{32}", text), path
        assert not re.search(r'"code": ?"[0-9a-f]{32}"', text), path
        assert KEY_SECRET not in text, path


def test_without_the_settings_the_tests_are_not_run_and_the_summary_says_which_variable(tmp_path: Path) -> None:
    out, recorded = record(tmp_path, optional=False)
    reasons = {t.rsplit("::", 1)[-1]: r for t, r in recorded["notRun"].items()}
    assert sorted(reasons) == sorted(NEEDS_SETTINGS)
    assert "SUNCO_OAUTH_CLIENT_ID" in reasons["test_oauth_authorize_token_token_info_revoke"]
    assert "SUNCO_SDK_USER_ID" in reasons["test_sdk_user_has_devices_and_an_sdk_client_the_api_cannot_remove"]
    assert "SUNCO_ZENDESK_ID" in reasons["test_sync_user_takes_its_zendesk_counterparts_data"]
    assert "not run live: needs SUNCO_ZENDESK_ID" in out  # the summary lists them, with the variable
    out, replayed = replay(tmp_path)
    assert replayed["tests"] == recorded["tests"]
    assert all("replaying a recording that did not run live" in r for r in replayed["notRun"].values())
    assert sorted(t.rsplit("::", 1)[-1] for t in replayed["notRun"]) == sorted(NEEDS_SETTINGS)
