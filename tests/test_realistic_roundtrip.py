"""The live workflow against servers we did not write: record, replay offline, re-record, compare.

Two targets, each started here on 127.0.0.1 with a free port:
- the realistic sandbox (``Sandbox(realistic=True)``): ObjectId ids, the wall clock, and the fields
  and values the live service sends that the documentation lacks or forbids;
- the seeded sandbox, re-recorded behind another host name and port than the recording's.

For each: a representative part of the suite is recorded; its offline replay gives the same verdicts;
a re-recording of the same variants (``--variants-from``) against the unchanged server gives them
too; and ``drift`` between the two recordings finds nothing breaking.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_roundtrip import known_sandbox, live_env, pytest_run, verdicts

from conformance.sandbox import Sandbox, seeded
from conformance.tools.drift import DriftReport, compare
from conformance.tools.record_sandbox import LIMITS

# Records and keys the server names (ids, key ids, secrets), times, pages and cursors, messages of
# every type, webhooks and their deliveries, switchboard hand-offs, OAuth and uploads.
SELECTED = " or ".join(
    (
        "test_app_key_lifecycle",
        "test_create_app_key_refuses_more_than_10",
        "test_integration_lifecycle",
        "test_create_integration_accepts_valid_bodies",
        "test_integration_key_lifecycle",
        "test_webhook_lifecycle",
        "test_webhooks_deliver_the_events_they_subscribe_to",
        "test_user_lifecycle",
        "test_conversation_lifecycle",
        "test_post_message_accepts_every_content_type",
        "test_list_messages_pages_back_from_the_newest_and_forwards_again",
        "test_list_participants_paginates_forwards_and_backwards",
        "test_control_hand_offs_move_control_between_switchboard_integrations",
        "test_oauth_authorize_token_token_info_revoke",
        "test_attachment_uploaded_as_multipart_then_sent_and_removed",
        "test_delete_attachment_rejects_foreign_and_unknown_urls",
    )
)
# What the realistic target sends that the contract does not declare and the selected tests reach,
# by the end of the field's pointer, as the reports must list it (``*`` for any item).
UNDOCUMENTED = (
    "/zendeskAccountId",
    "/productLine",
    "/defaultResponder/id",
    "/source/entryPoint",
    "/content/fields/*/selectSize",
)


@dataclass
class Recording:
    folder: Path
    result: Any
    report: dict[str, Any]


@dataclass
class RoundTrip:
    first: Recording
    again: Recording

    def drift(self) -> DriftReport:
        return compare(self.first.folder, self.again.folder)


def record(folder: Path, env: dict[str, str], *extra: str) -> Recording:
    report = folder.with_suffix(".json")
    result = pytest_run(
        "conformance",
        "-k",
        SELECTED,
        "--record-mode=rewrite",
        f"--cassette-dir={folder}",
        f"--conformance-report={report}",
        *extra,
        env=env,
    )
    return Recording(folder, result, json.loads(report.read_text()) if report.is_file() else {})


def round_trip(tmp: Path, first: Sandbox, again: Sandbox, again_url: str) -> RoundTrip:
    """Record against ``first``, then the same variants against ``again`` at ``again_url``."""
    # What the sandbox seeds (an SDK user, a Zendesk user, an OAuth client) named, so those tests run live too.
    with first:
        recorded = record(tmp / "first", live_env(first.url, **seeded.live_settings()))
    with again:
        env = live_env(again_url, **seeded.live_settings())
        rerecorded = record(tmp / "again", env, f"--variants-from={tmp / 'first'}")
    return RoundTrip(recorded, rerecorded)


@pytest.fixture(scope="module")
def realistic(tmp_path_factory: pytest.TempPathFactory) -> RoundTrip:
    # One server for both recordings: unchanged, yet every id and time it hands out is new. It is
    # stopped before any replay, so only the cassettes can answer then.
    target = known_sandbox(realistic=True, limits=LIMITS).start()
    return round_trip(tmp_path_factory.mktemp("realistic"), target, target, target.url)


@pytest.fixture(scope="module")
def relocated(tmp_path_factory: pytest.TempPathFactory) -> RoundTrip:
    # The same seeded server restarted on another port, and named "localhost" instead of 127.0.0.1.
    first, again = known_sandbox(seed=0, limits=LIMITS), known_sandbox(seed=0, limits=LIMITS)
    again.start()
    trip = round_trip(tmp_path_factory.mktemp("relocated"), first, again, f"http://localhost:{again.port}")
    assert first.port != again.port
    return trip


@pytest.fixture(params=["realistic", "relocated"])
def trip(request: pytest.FixtureRequest) -> RoundTrip:
    return request.getfixturevalue(request.param)


def test_recording_against_a_server_we_did_not_write_passes(trip):
    result = trip.first.result
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert len(trip.first.report["tests"]) >= 10
    assert "skipped" not in result.stdout.splitlines()[-1]
    assert len(list(trip.first.folder.rglob("*.yaml"))) >= 10


def test_replay_offline_of_that_recording_gives_the_same_verdicts(trip, tmp_path):
    report = tmp_path / "replay.json"
    result = pytest_run(
        "conformance", "-k", SELECTED, f"--cassette-dir={trip.first.folder}", "--block-network",
        f"--conformance-report={report}",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]
    replayed = json.loads(report.read_text())
    assert replayed["mode"] == "replay"
    assert verdicts(replayed) == verdicts(trip.first.report)
    assert replayed["tests"] == trip.first.report["tests"]


def test_re_recording_the_same_variants_against_the_unchanged_server_passes(trip):
    result = trip.again.result
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert verdicts(trip.again.report) == verdicts(trip.first.report)


def test_drift_between_two_recordings_of_the_unchanged_server_finds_nothing_breaking(trip):
    report = trip.drift()
    assert report.not_comparable == []
    assert [change.render() for change in report.changes if change.klass == "breaking"] == []
    assert report.compared >= 100


def test_drift_against_the_realistic_target_counts_its_fresh_ids_and_times_as_volatile(realistic):
    volatile = realistic.drift().volatile
    assert {"id", "createdAt", "received"} <= set(volatile)
    assert volatile["id"] >= 20


def test_realistic_recording_reports_the_fields_the_contract_does_not_declare(realistic):
    found = [entry["field"] for entry in realistic.first.report["undocumentedFields"]]
    for field in UNDOCUMENTED:
        assert any(pointer.endswith(field) for pointer in found), (field, found)
        assert field.rsplit("/", 1)[-1] in realistic.first.result.stdout, field
