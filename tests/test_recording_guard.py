"""A re-recording replaces a cassette only when it is whole, real, and replays as it was recorded.

Every recording here runs pytest in a subprocess against a sandbox on 127.0.0.1 with a free port.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml
from test_roundtrip import (
    APP_ID,
    known_sandbox,
    live_env,
    pytest_run,
)

from conformance.cassettes import files as cassettes
from conformance.cassettes.folder import Hold
from conformance.contract.schemas import shipped
from conformance.failures import StateMismatch, Unreachable
from conformance.plugin.replay_check import Outcome, keep_reason, outcome_of
from conformance.sandbox.api import Request, Response
from conformance.scrubbing.scrubber import Scrubber
from conformance.session.session import ConformanceSession

BASELINE = "accepts_valid_bodies or empty_object or test_integration_lifecycle or outside_enums"
MODULE = "test_integrations"
EVERY_TYPE = "test_create_integration_accepts_valid_bodies"
LIFECYCLE = "test_integration_lifecycle"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("baseline") / "cassettes"
    with known_sandbox() as running:
        result = pytest_run(
            "conformance",
            "-k",
            BASELINE,
            "--record-mode=rewrite",
            f"--cassette-dir={folder}",
            env=live_env(running.url),
        )
    assert result.returncode == 0, result.stdout[-3000:]
    return folder


@pytest.fixture
def folder(baseline: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "cassettes"
    shutil.copytree(baseline, copy)
    return copy


def contents(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def with_plugin(tmp_path: Path, source: str, env: dict[str, str]) -> dict[str, str]:
    """``env`` with a one-file pytest plugin importable as ``injected`` (load it with ``-p injected``)."""
    (tmp_path / "plugin").mkdir(exist_ok=True)
    (tmp_path / "plugin" / "injected.py").write_text(textwrap.dedent(source))
    return {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path / "plugin"), env.get("PYTHONPATH")]))}


def record_with(tmp_path: Path, plugin: str, folder: Path, selection: str) -> subprocess.CompletedProcess[str]:
    """Re-record ``selection`` into ``folder`` against a fresh sandbox, with ``plugin`` loaded as ``injected``."""
    with known_sandbox() as running:
        env = with_plugin(tmp_path, plugin, live_env(running.url))
        return pytest_run(
            "conformance",
            "-k",
            selection,
            "-p",
            "injected",
            "--record-mode=rewrite",
            f"--cassette-dir={folder}",
            env=env,
        )


# -- a wrong key or app -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("SUNCO_KEY_SECRET", "not-the-secret-at-all", "check SUNCO_KEY_ID and SUNCO_KEY_SECRET"),
        ("SUNCO_KEY_ID", "app_ffffffffffffffffffffffff", "check SUNCO_KEY_ID and SUNCO_KEY_SECRET"),
        ("SUNCO_APP_ID", "ffffffffffffffffffffffff", "check SUNCO_APP_ID"),
    ],
)
def test_a_wrong_key_or_app_stops_the_run_before_any_cassette_is_touched(folder, setting, value, named):
    before = contents(folder)
    with known_sandbox() as running:
        env = live_env(running.url, **{setting: value})
        result = pytest_run("conformance", "--record-mode=rewrite", f"--cassette-dir={folder}", env=env)
    assert result.returncode == 4
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, result.stderr
    assert named in errors[0]
    assert value not in errors[0] or setting == "SUNCO_APP_ID"
    assert "FAILED" not in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert contents(folder) == before


def refuse(request: Request) -> Response:
    return Response(401, {"errors": [{"code": "unauthorized", "title": "Invalid credentials"}]})


def test_a_test_whose_every_exchange_is_refused_keeps_its_previous_cassette(folder):
    every_type = folder / MODULE / f"{EVERY_TYPE}.yaml"
    before = every_type.read_bytes()
    # The read before the run is allowed; creating is refused, as a key without write access would be.
    with known_sandbox(handlers={"CreateIntegration": refuse}) as running:
        result = pytest_run(
            "conformance",
            "-k",
            "accepts_valid_bodies",
            "--record-mode=rewrite",
            f"--cassette-dir={folder}",
            env=live_env(running.url),
        )
    assert result.returncode == 1
    assert every_type.read_bytes() == before
    assert f"{EVERY_TYPE}: kept the previous cassette, because all 16 exchanges were refused" in result.stdout
    assert cassettes.leftovers(folder) == ([], [])


def route_unknown(request: Request) -> Response:
    return Response(404, {"errors": [{"code": "not_found", "title": "Not found"}]})


def static_page(request: Request) -> Response:
    return Response(200, "<html><body>It works!</body></html>", content_type="text/html")


@pytest.mark.parametrize("answer", [route_unknown, static_page])
def test_a_test_whose_every_exchange_is_not_the_apis_answer_keeps_its_previous_cassette(folder, answer):
    # The read before the run passes; then every request meets what a wrong URL or a static server answers.
    every_type = folder / MODULE / f"{EVERY_TYPE}.yaml"
    before = every_type.read_bytes()
    elsewhere = {operation_id: answer for operation_id in shipped().operations if operation_id != "GetApp"}
    with known_sandbox(handlers=elsewhere) as running:
        result = pytest_run(
            "conformance",
            "-k",
            "accepts_valid_bodies",
            "--record-mode=rewrite",
            f"--cassette-dir={folder}",
            env=live_env(running.url),
        )
    assert result.returncode == 1
    assert every_type.read_bytes() == before
    kept = re.search(
        rf"{EVERY_TYPE}: kept the previous cassette, because all (\d+) exchanges got answers that", result.stdout
    )
    assert kept is not None, result.stdout[-3000:]
    # The 16 creates, and whatever the teardown's sweep for their records asked.
    assert int(kept.group(1)) >= 16
    assert "the target looks wrong, not the schema; check SUNCO_API_URL" in result.stdout
    # Each failure's next step points at the URL, never at the schema.
    assert "does not look like the API's: check SUNCO_API_URL" in result.stdout
    assert "update the schema" not in result.stdout
    assert cassettes.leftovers(folder) == ([], [])


def test_a_client_crash_before_any_request_keeps_every_cassette(folder, tmp_path):
    before = contents(folder)
    crash = """
        import pytest
        from conformance.transport import client

        @pytest.hookimpl(tryfirst=True)
        def pytest_runtest_setup(item):
            def broken(self, *args, **kwargs):
                raise RuntimeError("a client bug, before any request")
            client.Client.call = broken
    """
    result = record_with(tmp_path, crash, folder, BASELINE)
    assert result.returncode == 1
    after = contents(folder)
    assert {name: data for name, data in after.items() if name in before} == before
    # New files only for tests that did not run live for a missing setting: they say so, and hold nothing else.
    for name in set(after) - set(before):
        assert b"notRun: 'not run live: needs" in after[name], name
        assert b"interactions: []" in after[name], name
    assert "kept the previous cassette, because the test crashed: RuntimeError: a client bug" in result.stdout


# -- verify after write ---------------------------------------------------------------------------

# What a last-guard text scrub does when the key secret is an ordinary word ("integration").
SCRUBS_PATHS = """
    from conformance.cassettes import files as cassettes
    write = cassettes.write_synced
    cassettes.write_synced = lambda path, text: write(path, text.replace("/integrations", "/<scrubbed-secret>s"))
"""
# What a placeholder that breaks the response schema does (a real one: minLength 88, "<scrubbed>" is 10).
BREAKS_SCHEMA = """
    from conformance.cassettes import files as cassettes
    write = cassettes.write_synced
    cassettes.write_synced = lambda path, text: write(path, text.replace('"status":"active"', '"status":"<scrubbed>"'))
"""


@pytest.mark.parametrize(
    ("broken", "why"),
    [
        (SCRUBS_PATHS, "sent a request that"),
        (BREAKS_SCHEMA, "exchange 1: recorded CreateIntegration 201 passed; replayed CreateIntegration 201 failed"),
    ],
    ids=["request no longer matches", "response breaks its schema"],
)
def test_a_recording_that_does_not_replay_fails_the_run_and_keeps_the_previous_cassette(folder, tmp_path, broken, why):
    lifecycle = folder / MODULE / f"{LIFECYCLE}.yaml"
    before = lifecycle.read_bytes()
    result = record_with(tmp_path, broken, folder, "test_integration_lifecycle")
    out = result.stdout
    assert result.returncode == 1, out[-3000:]
    assert "ERROR at teardown of test_integration_lifecycle" in out
    assert f"the new recording of {LIFECYCLE}.yaml does not replay as it was recorded" in out
    assert why in out
    assert f"cassette  : {lifecycle}" in out
    assert lifecycle.read_bytes() == before
    rejected = cassettes.rejected_path(lifecycle)
    assert rejected.is_file()
    assert str(rejected) in out
    assert "Traceback" not in out


# -- leftovers ----------------------------------------------------------------------------------


def test_leftovers_of_interrupted_runs_are_named_in_replay_and_removed_by_the_next_recording(folder):
    module = folder / MODULE
    (module / f"{LIFECYCLE}.yaml.recording").write_text("interactions:\n- request:\n")
    (module / f"{EVERY_TYPE}.yaml.rejected").write_text("x")
    (module / f"{EVERY_TYPE}.yaml.previous").write_text("an old copy")
    replayed = pytest_run("conformance", "-k", BASELINE, f"--cassette-dir={folder}")
    assert replayed.returncode == 0, replayed.stdout[-2000:]
    assert f"found 1 unfinished recording(s) left by an interrupted run in {folder}" in replayed.stdout
    assert f"{MODULE}/{LIFECYCLE}.yaml.recording" in replayed.stdout
    assert "found 1 rejected recording(s) that did not replay" in replayed.stdout
    assert f"found 1 .previous copies left by an older version of this harness in {folder}" in replayed.stdout
    assert (module / f"{LIFECYCLE}.yaml.recording").exists()
    with known_sandbox() as running:
        recorded = pytest_run(
            "conformance",
            "-k",
            "empty_object",
            "--record-mode=rewrite",
            f"--cassette-dir={folder}",
            env=live_env(running.url),
        )
    assert recorded.returncode == 0, recorded.stdout[-2000:]
    assert "removed 1 unfinished recording(s) left by an interrupted run" in recorded.stdout
    assert "removed 1 rejected recording(s)" in recorded.stdout
    assert cassettes.leftovers(folder) == ([], [module / f"{EVERY_TYPE}.yaml.previous"])
    assert ".previous copies" in recorded.stdout  # reported, never deleted: it may be the only good copy


# -- replay tells the truth -----------------------------------------------------------------------


def edit_interactions(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data["interactions"])
    path.write_text(yaml.safe_dump(data))


def test_a_create_without_an_id_fails_the_lifecycle_test_instead_of_passing(folder):
    def drop_id(interactions):
        body = json.loads(interactions[0]["response"]["body"]["string"])
        del body["integration"]["id"]
        interactions[0]["response"]["body"]["string"] = json.dumps(body)

    edit_interactions(folder / MODULE / f"{LIFECYCLE}.yaml", drop_id)
    result = pytest_run("conformance", "-k", "test_integration_lifecycle", f"--cassette-dir={folder}")
    assert result.returncode == 1
    assert (
        "CreateIntegration (POST /v2/apps/{appId}/integrations) answered 201 without the created integration's id"
        in result.stdout
    )
    assert "cannot go on" in result.stdout
    assert "conformance tests: 0 passed, 1 failed" in result.stdout


def test_interactions_left_unplayed_fail_the_test_and_are_named(folder):
    edit_interactions(folder / MODULE / "test_create_integration_rejects_empty_object.yaml", lambda i: i.append(i[0]))
    result = pytest_run("conformance", "-k", "empty_object", f"--cassette-dir={folder}")
    assert result.returncode == 1
    assert "was recorded but never replayed: 1 of 2 recorded exchanges were left unplayed" in result.stdout
    assert "#2 POST /v2/apps/" in result.stdout


# -- when the previous cassette stays --------------------------------------------------------------


def session_with(exchanges: int, refusals: int, foreign: int = 0) -> ConformanceSession:
    session = ConformanceSession(
        cassette=None,
        recording=True,
        settings=None,
        scrubber=Scrubber(fields=frozenset()),
        nodeid="t",
        record_command="-",
    )
    session.findings.exchanges, session.findings.refusals, session.findings.foreign = exchanges, refusals, foreign
    return session


@pytest.mark.parametrize(
    ("outcome", "exchanges", "refusals", "reason"),
    [
        (Outcome("passed"), 3, 0, None),
        (Outcome("failed"), 3, 1, None),
        (Outcome("failed"), 3, 3, "all 3 exchanges were refused"),
        (Outcome("passed"), 0, 0, "recorded no exchange"),
        (Outcome("unreachable"), 0, 0, "could not be reached"),
        (Outcome("crashed", "TypeError: x"), 2, 0, "crashed: TypeError: x"),
        (Outcome("skipped"), 0, 0, "skipped"),
        (Outcome("not run"), 0, 0, "did not run to its end"),
    ],
)
def test_keep_reason(outcome, exchanges, refusals, reason):
    found = keep_reason(outcome, session_with(exchanges, refusals))
    assert found is None if reason is None else reason in found


@pytest.mark.parametrize(
    ("exchanges", "refusals", "foreign", "looks_wrong"),
    [(3, 0, 3, True), (3, 1, 2, True), (3, 0, 2, False), (3, 3, 0, False), (3, 0, 0, False)],
)
def test_keep_reason_for_answers_that_are_not_the_apis(exchanges, refusals, foreign, looks_wrong):
    found = keep_reason(Outcome("failed"), session_with(exchanges, refusals, foreign))
    assert (found is not None and "the target looks wrong" in found) is looks_wrong


def test_outcomes_tell_a_crash_from_a_failure():
    failure = StateMismatch(operation="o", method="GET", path="/p", title="t", rule="r")
    unreachable = Unreachable(operation="o", method="GET", path="/p", title="no answer", rule="r")
    assert outcome_of(None, skipped=False).kind == "passed"
    assert outcome_of(None, skipped=True).kind == "skipped"
    assert outcome_of(failure, skipped=False).kind == "failed"
    assert outcome_of(AssertionError("plain"), skipped=False).kind == "failed"
    assert outcome_of(unreachable, skipped=False).kind == "unreachable"
    crash = outcome_of(KeyError("k"), skipped=False)
    assert (crash.kind, crash.detail) == ("crashed", "KeyError: 'k'")


def test_record_mode_all_leaves_no_exchange_of_the_old_draw_behind(folder):
    """'all' redraws the variants: the old draw's exchanges (other ids) would be left unplayed."""
    with known_sandbox() as running:
        recorded = pytest_run(
            "conformance",
            "-k",
            "test_integration_lifecycle",
            "--record-mode=all",
            f"--cassette-dir={folder}",
            env=live_env(running.url),
        )
    assert recorded.returncode == 0, recorded.stdout[-2000:]
    replayed = pytest_run("conformance", "-k", "test_integration_lifecycle", f"--cassette-dir={folder}")
    assert replayed.returncode == 0, replayed.stdout[-3000:]
    assert len(yaml.safe_load((folder / MODULE / f"{LIFECYCLE}.yaml").read_text())["interactions"]) == 7


# -- the folder: writable, held by one run, and a full disk -----------------------------------------


def test_a_second_recording_into_a_held_folder_stops_in_one_line_before_any_request(folder):
    before = contents(folder)
    hold = Hold(folder).take()  # what a first recording holds while it runs
    asked: list[Request] = []
    try:
        with known_sandbox(handlers={"GetApp": counted(asked)}) as running:
            env = live_env(running.url)
            result = pytest_run("conformance", "--record-mode=rewrite", f"--cassette-dir={folder}", env=env)
    finally:
        hold.release()
    assert result.returncode == 4
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert errors == [
        f"ERROR: another recording is writing into {folder}: wait for it to end, or record into another --cassette-dir"
    ]
    assert contents(folder) == before
    assert asked == []  # not even the read before recording


def counted(asked: list[Request]):
    def answer(request: Request) -> Response:
        asked.append(request)
        return Response(200, {"app": {"id": APP_ID, "displayName": "counted"}})

    return answer


def test_a_folder_nobody_may_write_stops_the_run_before_any_request(folder):
    before = contents(folder)
    # Root writes through permissions, so the folder is made immutable instead (ext4's +i).
    subprocess.run(["chattr", "+i", str(folder)], check=True)  # noqa: S603,S607
    asked: list[Request] = []
    try:
        with known_sandbox(handlers={"GetApp": counted(asked)}) as running:
            env = live_env(running.url)
            result = pytest_run("conformance", "--record-mode=rewrite", f"--cassette-dir={folder}", env=env)
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)  # noqa: S603,S607
    assert asked == []
    assert result.returncode == 4
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"ERROR: cannot record into {folder}: ")
    assert "(EPERM); nothing was recorded" in errors[0]
    assert contents(folder) == before


FULL_DISK = """
    import errno
    import os

    def pytest_runtest_setup(item):
        # After the folder check: from now on every write of a cassette meets a full disk.
        def full(fd):
            raise OSError(errno.ENOSPC, "No space left on device")
        os.fsync = full
"""


def test_a_full_disk_says_so_keeps_every_cassette_leaves_no_debris_and_stops(folder, tmp_path):
    before = contents(folder)
    result = record_with(tmp_path, FULL_DISK, folder, BASELINE)
    assert result.returncode != 0
    assert "disk full (ENOSPC): could not write" in result.stdout
    assert "the previous cassette is as it was" in result.stdout
    assert "stopped: disk full (ENOSPC)" in result.stdout
    assert "scrubber or the persister" not in result.stdout
    assert contents(folder) == before
    assert cassettes.leftovers(folder) == ([], [])
    # The first test met the full disk, and the run went no further.
    assert result.stdout.count("ERROR at teardown of") == 1, result.stdout[-3000:]
    assert "conformance tests: 0 passed, 1 failed" in result.stdout
