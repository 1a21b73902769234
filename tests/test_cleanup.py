"""Nothing left behind: teardown deletes what a test created, and cleanup deletes what the suite's runs
left (by their ledgers and run tags), and nothing else."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
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

from conformance.cassettes.provenance import read_pins
from conformance.sandbox import Sandbox
from conformance.sandbox.api import Request, Response
from conformance.sandbox.errors import ApiError
from conformance.session import runs
from conformance.session.run_ledger import Entry, RunLedger, ledgers


def integrations(running: Sandbox) -> list[dict]:
    return running.store.records(("integration", APP_ID))


def teapot(request: Request) -> Response:
    raise ApiError(418, "teapot", "not today")


def test_a_failing_test_still_deletes_what_it_created(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with known_sandbox(handlers={"GetIntegration": teapot}) as running:
        result = pytest_run(
            "conformance", "-k", "test_integration_lifecycle", "--record-mode=rewrite",
            f"--cassette-dir={tmp_path}", env=live_env(running.url, SUNCO_STATE_DIR=str(state)),
        )  # fmt: skip
        left = integrations(running)
    assert result.returncode == 1, result.stdout[-2000:]
    assert "answered 418" in result.stdout
    assert left == [], "teardown deletes what the failed test created"
    assert ledgers(state) == [], "a run that deleted everything it made leaves no ledger"


def test_created_records_carry_the_run_tag_and_the_cassette_its_run_id(tmp_path: Path) -> None:
    run_id = "00c0ffee00c0ffee"
    with known_sandbox() as running:
        seen: list[str] = []
        original = running.handlers["CreateIntegration"]

        def spy(request: Request) -> Response:
            seen.append(str(request.body.get("displayName")))
            return original(request)

        running.handlers["CreateIntegration"] = spy
        result = pytest_run(
            "conformance", "-k", "create_integration_accepts_valid_bodies", "--record-mode=rewrite",
            f"--cassette-dir={tmp_path}", env=live_env(running.url, SUNCO_RUN_ID=run_id),
        )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:]
    assert len(seen) == 16
    assert {runs.run_of(name) for name in seen} == {run_id}, seen
    [cassette] = tmp_path.rglob("*.yaml")
    pins = read_pins(cassette)
    assert pins is not None
    assert pins["recording"]["runId"] == run_id


def cleanup(url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "conformance", "cleanup", *args],
        cwd=PROJECT,
        env=live_env(url, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def post(url: str, body: dict[str, Any], auth: tuple[str, str], envelope: str) -> dict[str, Any]:
    answer = requests.post(url, json=body, auth=auth, timeout=10)
    assert answer.status_code == 201, answer.text
    record: dict[str, Any] = answer.json()[envelope]
    return record


def held(running: Sandbox) -> set[tuple[tuple[str, ...], str]]:
    """Every record the sandbox holds, as (collection: its name and its parents' ids, id)."""
    return {(tuple(name), str(record["id"])) for name, records in running.store.snapshot().items() for record in records
            if isinstance(record, dict) and "id" in record}  # fmt: skip


def ids(records: set[tuple[tuple[str, ...], str]]) -> set[str]:
    return {record_id for _, record_id in records}


def would_go(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("would delete ")]


STRAY_RUN = "0123456789abcdef"  # a run id no ledger knows


def test_cleanup_deletes_what_runs_left_and_never_a_look_alike(tmp_path: Path) -> None:
    state, app, account = tmp_path / "state", (KEY_ID, KEY_SECRET), (ACCOUNT_KEY_ID, ACCOUNT_KEY_SECRET)
    with known_sandbox() as running:
        base = f"{running.url}/v2/apps"
        # A real run that could not delete what it made: its ledger keeps it.
        broken = ("DeleteIntegration", "DeleteUser", "DeleteConversation", "DeleteApp")
        originals = {name: running.handlers[name] for name in broken}
        running.handlers.update(dict.fromkeys(broken, teapot))
        tests = "test_integration_lifecycle or test_conversation_lifecycle or test_app_lifecycle"
        result = pytest_run("conformance", "-k", tests, "--record-mode=rewrite", f"--cassette-dir={tmp_path / 'c'}",
                            env=live_env(running.url, SUNCO_STATE_DIR=str(state)))  # fmt: skip
        assert result.returncode == 1, result.stdout[-2000:]
        running.handlers.update(originals)
        [ledger] = ledgers(state)
        left = ledger.entries()
        run_id = left[0].run
        assert f"{len(left)} record(s) this run made are still there" in result.stdout
        assert "python -m conformance cleanup" in result.stdout
        assert {entry.resource for entry in left} >= {"integration", "user", "conversation", "app"}, left

        # Look-alikes a person made, and records tagged by a run no ledger knows.
        def made(collection: str, body: dict[str, Any], envelope: str, auth: tuple[str, str] = app) -> str:
            url = base if collection == "apps" else f"{base}/{APP_ID}/{collection}"
            return str(post(url, body, auth, envelope)["id"])

        key = post(f"{base}/{APP_ID}/keys", {"displayName": "conformance-ci"}, account, "key")
        looks = [
            made("apps", {"displayName": "conformance-production"}, "app", account),
            made("apps", {"displayName": "conformance-"}, "app", account),
            made("apps", {"displayName": f"conformance-{run_id}-x"}, "app", account),
            made("apps", {"displayName": runs.tag("app", STRAY_RUN)}, "app", account),
            made("integrations", {"type": "web", "displayName": "conformance-bot"}, "integration"),
            made("integrations", {"type": "web", "displayName": "conformance-équipe"}, "integration"),
            made("integrations", {"type": "web", "displayName": "conformance~équipe~x"}, "integration"),
            made("integrations", {"type": "web", "displayName": f"conformance~{run_id}"}, "integration"),
            made("users", {"externalId": "conformance-x"}, "user"),
            made("users", {"externalId": runs.tag("y", STRAY_RUN)}, "user"),
            key["id"],
            APP_ID,
        ]
        stray = made("integrations", {"type": "web", "displayName": runs.tag("i", STRAY_RUN)}, "integration")
        # A ledger that names the running key and the configured app: still never deleted.
        host = left[0].host
        forged = RunLedger(state, "feedfacefeedface", app_id=APP_ID, host=host)
        forged.created(Entry("appKey", "CreateAppKey", key["id"], APP_ID, forged.run_id, host, {"keyId": key["id"]}))
        forged.created(Entry("app", "CreateApp", APP_ID, APP_ID, forged.run_id, host, {}))
        before = held(running)
        # The running key is the look-alike key itself.
        env = {"SUNCO_STATE_DIR": str(state), "SUNCO_KEY_ID": key["id"], "SUNCO_KEY_SECRET": key["secret"]}

        dry = cleanup(running.url, "--dry-run", **env)
        assert dry.returncode == 0, dry.stderr
        assert held(running) == before, "a dry run deletes nothing"
        going = would_go(dry.stdout)
        assert sorted(line.split()[3] for line in going) == sorted({str(e.record_id) for e in left}), dry.stdout
        assert all(f"(app {entry.app})" in dry.stdout for entry in left)
        assert f"kept appKey SUNCO_KEY_ID (app {APP_ID}): the key this cleanup runs with" in dry.stdout
        assert key["id"] not in dry.stdout + dry.stderr, "a key id is a secret: never printed"
        assert f"kept app {APP_ID} (app {APP_ID}): the app this cleanup runs in" in dry.stdout

        done = cleanup(running.url, **env)
        assert done.returncode == 0, done.stdout + done.stderr
        after = held(running)
        ledger_ids = {str(entry.record_id) for entry in left}
        # What a deleted record held (a conversation's participants) goes with it.
        went = {(name, record_id) for name, record_id in before - after if not set(name[1:]) & ledger_ids}
        assert ids(went) == ledger_ids, "the ledger's records went, and only they"
        touched = [record_id for record_id in looks if record_id not in ids(after)]
        assert touched == [], f"look-alikes deleted: {touched}"
        assert [entry.record_id for ledger in ledgers(state) for entry in ledger.entries()] == [key["id"], APP_ID]

        named = cleanup(running.url, "--run", STRAY_RUN, **env)
        assert named.returncode == 0, named.stdout + named.stderr
        final = held(running)
        assert ids(after - final) == {stray}, named.stdout
        assert [record_id for record_id in looks if record_id not in ids(final)] == []
        assert f"deleted integration {stray} (app {APP_ID}): tagged" in named.stdout
        assert "an app other than SUNCO_APP_ID goes only when a ledger names it" in named.stdout
        print(f"look-alike records tried: {len(looks)}, deleted: 0")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--resource", "pigeon"), "cannot clean pigeon: choose from app, appKey, integration"),
        (("--run", "conformance-"), "--run='conformance-' is not a run id: use 16 lowercase hexadecimal digits"),
        (("--run", "0123456789ABCDEF"), "is not a run id"),
    ],
)
def test_cleanup_refuses_unknown_resources_and_run_ids_in_one_line(args: tuple[str, ...], said: str) -> None:
    result = cleanup("http://127.0.0.1:9", *args)
    assert result.returncode == 2
    assert said in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cleanup_refuses_missing_settings_in_one_line() -> None:
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
