"""Live recordings against servers we did not write: a skip replays as the same skip, and ``--variants-from``
sends the pinned variants again to another server, or to the same one, and every test still passes.

These run pytest in a subprocess, as a user would, against sandboxes started here on 127.0.0.1.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from run_support import clean_env

from conformance.sandbox import Sandbox
from conformance.session import runs
from conformance.tools.record_sandbox import LIMITS, sandbox_settings
from conformance.variants.symbols import names_in

PROJECT = Path(__file__).resolve().parent.parent
SUITES = PROJECT / "conformance"
# One test or more per kind of symbol (created records, the server's own values in answers, the target,
# the webhook receiver, public and secret settings) and an invalid variant whose invalid value is scrubbed.
SUBSET = " or ".join(
    [
        "test_attachment_uploaded_as_multipart_then_sent_and_removed",  # created, answer (mediaUrl)
        "test_delete_attachment_rejects_foreign_and_unknown_urls",  # target
        "test_oauth_authorize_token_token_info_revoke",  # setting, secret, answer (a redirect's code)
        "test_get_token_refuses_bad_clients_codes_and_bodies",  # secret
        "test_webhooks_deliver_the_events_they_subscribe_to",  # webhooks, users with secrets
        "test_create_integration_rejects_out_of_bound_values",  # credentials: drawn again
        "test_conversation_with_participants_joining_and_leaving_and_an_activity",  # created, answer
        "test_sdk_user_has_devices_and_an_sdk_client_the_api_cannot_remove",  # setting
        "test_create_custom_integration_key_refuses_more_than_10",  # keys
        "test_app_key_lifecycle",
    ]
)
KINDS = {"created", "answer", "target", "webhooks", "setting", "secret"}


def run_pytest(*args: str, env: dict[str, str] | None = None, cwd: Path = PROJECT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "pytest", *args, "-p", "no:cacheprovider", "-q", "-rs"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env or clean_env(),
        timeout=600,
    )


def live(sandbox: Sandbox, **extra: str) -> dict[str, str]:
    # The receiver on any free port: each run's webhooks point somewhere else.
    return {**clean_env(), **sandbox_settings(sandbox), "SUNCO_WEBHOOK_PORT": "0", **extra}


# One run id for every run tag, so that two runs' pins compare.
RUN = "0" * 16


def record(sandbox: Sandbox, folder: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_pytest(
        "conformance", "-k", SUBSET, "--record-mode=rewrite", f"--cassette-dir={folder}", *extra, env=live(sandbox)
    )


def counts(result: subprocess.CompletedProcess[str]) -> dict[str, int]:
    last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    return {word: int(number) for number, word in re.findall(r"(\d+) (passed|failed|skipped|errors?)", last)}


def cassettes(folder: Path) -> dict[str, dict[str, Any]]:
    return {str(path.relative_to(folder)): yaml.safe_load(path.read_text()) for path in sorted(folder.rglob("*.yaml"))}


def pinned(cassette: dict[str, Any]) -> dict[str, Any]:
    return dict(cassette["metadata"]["conformance"]["variants"])


def sent(cassette: dict[str, Any]) -> str:
    """Every request the cassette recorded, as text."""
    return "\n".join(f"{i['request']['uri']} {i['request'].get('body')}" for i in cassette["interactions"])


@pytest.fixture(scope="module")
def resent(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Record the subset against one sandbox; send its variants again to a fresh sandbox on another port,
    and to the first sandbox again; replay the resent recording offline."""
    root = tmp_path_factory.mktemp("resend")
    first, other = Sandbox(seed=0, limits=LIMITS), Sandbox(seed=1, limits=LIMITS)
    with first, other:
        assert first.url != other.url
        recorded = record(first, root / "first")
        elsewhere = record(other, root / "elsewhere", f"--variants-from={root / 'first'}")
        again = record(first, root / "again", f"--variants-from={root / 'first'}")
        urls = (first.url, other.url)
    replayed = run_pytest("conformance", "-k", SUBSET, f"--cassette-dir={root / 'elsewhere'}")
    return {
        "root": root,
        "urls": urls,
        "recorded": recorded,
        "elsewhere": elsewhere,
        "again": again,
        "replayed": replayed,
    }


def test_recording_the_subset_pins_every_kind_of_symbol(resent):
    result = resent["recorded"]
    assert result.returncode == 0, result.stdout[-3000:]
    found = counts(result)
    assert found == {"passed": 10}, found
    pins = cassettes(resent["root"] / "first")
    kinds = {name.split(":")[0] for cassette in pins.values() for name in names_in(repr(pinned(cassette)))}
    assert kinds >= KINDS, f"the subset no longer pins {sorted(KINDS - kinds)}: choose tests that do"
    redrawn = [v for c in pins.values() for group in pinned(c).values() for v in group if v.get("resend")]
    assert redrawn, "no pinned variant says it cannot be sent again: the subset no longer covers one"


@pytest.mark.parametrize("run", ["elsewhere", "again"])
def test_variants_from_resends_every_pinned_variant_and_no_test_fails(resent, run):
    """To a fresh server on another port, and to the very server recorded from (whose records changed)."""
    result = resent[run]
    assert result.returncode == 0, result.stdout[-4000:]
    assert counts(result) == counts(resent["recorded"])
    first, other = cassettes(resent["root"] / "first"), cassettes(resent["root"] / run)
    assert sorted(other) == sorted(first)
    tags = 0
    for name, cassette in first.items():
        # What is pinned is what was sent again: the same symbols, drawn values and placeholders, but
        # for the run tags, which hold the run that sent it.
        assert runs.retag(pinned(other[name]), RUN) == runs.retag(pinned(cassette), RUN), name
        run_id = other[name]["metadata"]["conformance"]["recording"]["runId"]
        found = re.findall(r"conformance~\S+", repr(pinned(other[name])))
        assert {runs.run_of(tag) for tag in found} <= {run_id}, name
        tags += len(found)
    assert tags, "the subset pins no run tag: choose tests that create tagged records"


def test_a_variant_that_cannot_be_resent_says_so_in_one_line_and_is_drawn_again(resent):
    lines = [line for line in resent["elsewhere"].stdout.splitlines() if "cannot be sent again" in line]
    assert lines
    assert all(line.endswith(": drawn again") and "is pinned as a placeholder" in line for line in lines), lines


def test_resent_requests_go_to_the_current_target_with_its_own_records(resent):
    first_url, other_url = resent["urls"]
    first, other = cassettes(resent["root"] / "first"), cassettes(resent["root"] / "elsewhere")
    upload = "test_attachments/test_attachment_uploaded_as_multipart_then_sent_and_removed.yaml"
    # The media URLs the first server handed out, and the records it made, are not the second's.
    assert first_url.removeprefix("http://") not in sent(other[upload])
    assert other_url.removeprefix("http://") in sent(other[upload])
    participants = "test_participants/test_conversation_with_participants_joining_and_leaving_and_an_activity.yaml"
    ids = set(re.findall(r"[0-9a-f]{24}", sent(first[participants])))
    again = set(re.findall(r"[0-9a-f]{24}", sent(other[participants])))
    assert ids - again, "the second server got the first one's record ids"


def test_a_resent_recording_replays_offline(resent):
    result = resent["replayed"]
    assert result.returncode == 0, result.stdout[-3000:]
    assert counts(result) == counts(resent["recorded"])


# -- a live run that skips ------------------------------------------------------------------------


def test_a_recording_that_skips_live_replays_as_the_same_skip(tmp_path):
    """The 423 test cannot post a conversation full when the target holds too many messages."""
    limits = {**LIMITS, "max_messages": 400}
    nodeid = "conformance/suites/test_messages.py::test_post_message_answers_423_when_the_conversation_is_full"
    with Sandbox(seed=0, limits=limits) as sandbox:
        env = live(sandbox, SUNCO_MAX_MESSAGES="400")
        recorded = run_pytest(nodeid, "--record-mode=rewrite", f"--cassette-dir={tmp_path}", env=env)
    reason = "not run live: a conversation holds 400 messages, too many to post"
    assert counts(recorded) == {"skipped": 1}, recorded.stdout[-2000:]
    assert reason in recorded.stdout
    cassette = yaml.safe_load((tmp_path / "test_messages" / f"{nodeid.rpartition('::')[2]}.yaml").read_text())
    kept = cassette["metadata"]["conformance"]["notRun"]
    assert kept.startswith(reason)
    replayed = run_pytest(nodeid, f"--cassette-dir={tmp_path}")
    assert counts(replayed) == {"skipped": 1}, replayed.stdout[-2000:]
    assert f"{kept} (replaying a recording that did not run live)" in replayed.stdout


SKIPPING = """
import pytest


def test_skips_live_with_pytest_skip(sunco):
    if sunco.settings is not None:
        sunco.call("ListApps")
        pytest.skip("not run live: a reason only pytest.skip was told")
    sunco.call("ListApps")
    sunco.finish()
"""


def test_any_skip_of_a_live_run_keeps_its_reason_for_replay(tmp_path):
    """Whatever way a suite test skips live (here pytest.skip itself), its replay skips for that reason."""
    (tmp_path / "suite").mkdir()
    (tmp_path / "suite" / "conftest.py").write_text('pytest_plugins = ["conformance.plugin.hooks"]\n')
    (tmp_path / "suite" / "test_skipping.py").write_text(SKIPPING)
    with Sandbox(seed=0, limits=LIMITS) as sandbox:
        args = ("suite", "-o", "addopts=", "-o", "testpaths=suite", f"--cassette-dir={tmp_path / 'cassettes'}")
        recorded = run_pytest(*args, "--record-mode=rewrite", env=live(sandbox), cwd=tmp_path)
    assert counts(recorded) == {"skipped": 1}, recorded.stdout[-2000:] + recorded.stderr[-2000:]
    replayed = run_pytest(*args, cwd=tmp_path)
    assert counts(replayed) == {"skipped": 1}, replayed.stdout[-2000:]
    assert "a reason only pytest.skip was told (replaying a recording that did not run live)" in replayed.stdout


SKIPS = {"skip", "skipif", "xfail", "importorskip"}


def _direct_skips(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr in SKIPS:
            base = node.value
            names = (
                {base.id} if isinstance(base, ast.Name) else {base.attr} if isinstance(base, ast.Attribute) else set()
            )
            if names & {"pytest", "mark"}:
                found.append(f"{path.relative_to(PROJECT)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_suites_skip_a_live_run_only_through_the_session():
    """sunco.not_run keeps the reason where replay finds it; a suite must say why through it."""
    modules = [*sorted((SUITES / "suites").glob("*.py")), *sorted((SUITES / "definitions").glob("*.py"))]
    found = [hit for path in modules for hit in _direct_skips(path)]
    assert not found, "skip through sunco.not_run(reason) instead:\n" + "\n".join(found)
