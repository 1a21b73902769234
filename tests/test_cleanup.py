"""Nothing left behind: teardown deletes what a test created, and cleanup finds what killed runs left."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import requests
from test_roundtrip import (
    ACCOUNT_KEY_ID,
    ACCOUNT_KEY_SECRET,
    APP_ID,
    KEY_ID,
    KEY_SECRET,
    PROJECT,
    known_sandbox,
    live_env,
    pytest_run,
)

from conformance.sandbox import Sandbox
from conformance.sandbox.api import Request, Response
from conformance.sandbox.errors import ApiError
from conformance.spec.resources import RUN_TAG


def integrations(running: Sandbox) -> list[dict]:
    return running.store.records(("integration", APP_ID))


def test_a_failing_test_still_deletes_what_it_created(tmp_path: Path) -> None:
    def broken_get(request: Request) -> Response:
        raise ApiError(418, "teapot", "not today")

    with known_sandbox(handlers={"GetIntegration": broken_get}) as running:
        result = pytest_run(
            "conformance", "-k", "test_integration_lifecycle", "--record-mode=rewrite",
            f"--cassette-dir={tmp_path}", env=live_env(running.url),
        )  # fmt: skip
        left = integrations(running)
    assert result.returncode == 1, result.stdout[-2000:]
    assert "answered 418" in result.stdout
    assert left == [], "teardown deletes what the failed test created"


def test_created_records_carry_the_run_tag(tmp_path: Path) -> None:
    with known_sandbox() as running:
        seen: list[str] = []
        original = running.handlers["CreateIntegration"]

        def spy(request: Request) -> Response:
            seen.append(str(request.body.get("displayName")))
            return original(request)

        running.handlers["CreateIntegration"] = spy
        result = pytest_run(
            "conformance", "-k", "create_integration_accepts_valid_bodies", "--record-mode=rewrite",
            f"--cassette-dir={tmp_path}", env=live_env(running.url),
        )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:]
    assert len(seen) == 16
    assert all(name.startswith(RUN_TAG) for name in seen), seen


def cleanup(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "conformance", "cleanup", *args],
        cwd=PROJECT,
        env=live_env(url),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cleanup_deletes_only_tagged_leftovers(tmp_path: Path) -> None:
    with known_sandbox() as running:
        app, account = (KEY_ID, KEY_SECRET), (ACCOUNT_KEY_ID, ACCOUNT_KEY_SECRET)
        base = f"{running.url}/v2/apps"
        mine = requests.post(f"{base}/{APP_ID}/integrations", json={"type": "web", "displayName": RUN_TAG + "x"},
                             auth=app, timeout=10).json()["integration"]["id"]  # fmt: skip
        theirs = requests.post(f"{base}/{APP_ID}/integrations", json={"type": "web", "displayName": "production"},
                               auth=app, timeout=10).json()["integration"]["id"]  # fmt: skip
        unnamed = requests.post(f"{base}/{APP_ID}/integrations", json={"type": "web"}, auth=app, timeout=10)
        left_app = requests.post(base, json={"displayName": RUN_TAG + "app"}, auth=account, timeout=10).json()["app"]
        for _ in range(120):  # more than a page of someone else's records
            requests.post(f"{base}/{APP_ID}/integrations", json={"type": "web", "displayName": "keep"}, auth=app,
                          timeout=10)  # fmt: skip
        deep = requests.post(f"{base}/{APP_ID}/integrations", json={"type": "web", "displayName": RUN_TAG + "late"},
                             auth=app, timeout=10).json()["integration"]["id"]  # fmt: skip

        dry = cleanup(running.url, "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert f"would delete integration {mine}" in dry.stdout
        assert f"would delete integration {deep}" in dry.stdout
        assert f"would delete app {left_app['id']}" in dry.stdout
        assert "would delete 3, failed 0" in dry.stdout
        assert len(integrations(running)) == 124

        done = cleanup(running.url)
        assert done.returncode == 0, done.stderr
        ids = {r["id"] for r in integrations(running)}
        assert mine not in ids
        assert deep not in ids
        assert theirs in ids
        assert unnamed.json()["integration"]["id"] in ids
        assert running.store.get(("app",), left_app["id"]) is None
        assert running.store.get(("app",), APP_ID) is not None, "the configured app is never deleted"


def test_cleanup_refuses_unknown_resources_and_missing_settings() -> None:
    result = cleanup("http://127.0.0.1:9", "--resource", "pigeon")
    assert result.returncode == 2
    assert "cannot clean pigeon: choose from" in result.stderr
    bare = subprocess.run(
        [sys.executable, "-m", "conformance", "cleanup"],
        cwd=PROJECT,
        env={k: v for k, v in live_env("x").items() if not k.startswith("SUNCO_")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bare.returncode == 2
    assert "SUNCO_API_URL is not set" in bare.stderr
    assert len(bare.stderr.strip().splitlines()) == 1


def test_recording_with_several_workers_is_refused(tmp_path: Path) -> None:
    result = pytest_run(
        "conformance",
        "-n",
        "2",
        "--record-mode=rewrite",
        f"--cassette-dir={tmp_path}",
        env=live_env("http://127.0.0.1:9"),
    )
    assert result.returncode == 4
    assert "record without -n" in result.stderr + result.stdout
