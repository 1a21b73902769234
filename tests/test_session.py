"""Pinning decisions of the session, on a stand-in cassette (no HTTP)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from importlib import metadata
from typing import Any

import pytest
from hypothesis import strategies as st

from conformance.cassettes.provenance import host_of
from conformance.contract import fingerprint
from conformance.contract.schemas import UnknownOperation, shipped
from conformance.failures import MissingRecording
from conformance.model import Exchange, Expect, Variant
from conformance.scrubbing.scrubber import Scrubber
from conformance.session import runs
from conformance.session.session import METADATA_KEY, ConformanceSession
from conformance.transport.settings import Settings

SETTINGS = Settings("http://127.0.0.1:1", "0a1b2c3d4e5f60718293a4b5", "app_k", "a-long-enough-secret-value")
OLD = {
    "format": 1,
    "target": {"apiUrl": "http://old", "appId": "x" * 24, "auth": "basic"},
    "seed": 0,
    "variants": {
        "g": [{"id": "g-0", "label": "old", "body": {"json": {"token": "<scrubbed>"}}, "expect": {"status": 201}}]
    },
}


class Tape:
    """Just the parts of a vcrpy cassette the session touches."""

    def __init__(self, metadata: dict[str, Any] | None, write_protected: bool) -> None:
        self._metadata = {METADATA_KEY: metadata} if metadata else {}
        self.path = "tape.yaml"
        self.write_protected = write_protected
        self.dirty = False

    def get_metadata(self, key: str, default: Any) -> Any:
        if key not in self._metadata:
            self._metadata[key] = default
        return self._metadata[key]


def session(tape: Tape, *, recording: bool, redraw: bool = False, reuse: Any = None) -> ConformanceSession:
    return ConformanceSession(
        cassette=tape,
        recording=recording,
        settings=SETTINGS if recording else None,
        scrubber=Scrubber(),
        nodeid="t::x",
        record_command="pytest t::x --record-mode=rewrite",
        redraw=redraw,
        reuse=reuse,
    )


def with_channel_settings(tape: Tape, **options: Any) -> ConformanceSession:
    """A recording session whose settings hold a real telegram token (SUNCO_CHANNELS)."""
    channel = Settings(**{**vars(SETTINGS), "channels": {"telegram": {"token": "123456:real-bot-token"}}})
    return ConformanceSession(
        cassette=tape,
        recording=True,
        settings=channel,
        scrubber=Scrubber(channel.secrets),
        nodeid="t::x",
        record_command="pytest",
        **options,
    )


NEW = st.just(Variant("new", {"type": "telegram", "token": "live-token"}, Expect(201)))


def test_recording_draws_sends_live_values_and_pins_scrubbed_ones():
    tape = Tape(None, write_protected=False)
    sent = session(tape, recording=True).variants("g", NEW, 1)
    assert sent[0].body["token"] == "live-token"
    pinned = tape._metadata[METADATA_KEY]["variants"]["g"][0]
    assert pinned["body"]["json"]["token"] == "<scrubbed>"
    assert tape._metadata[METADATA_KEY]["target"]["apiUrl"] == SETTINGS.api_url


def test_replay_returns_the_pinned_variants_without_drawing():
    replayed = session(Tape(OLD, write_protected=True), recording=False).variants("g", NEW, 1)
    assert [v.label for v in replayed] == ["old"]


def test_record_mode_all_redraws_instead_of_sending_scrubbed_pins_live():
    tape = Tape(OLD, write_protected=False)
    sent = session(tape, recording=True, redraw=True).variants("g", NEW, 1)
    assert sent[0].label == "new"
    assert tape._metadata[METADATA_KEY]["target"]["apiUrl"] == SETTINGS.api_url


def test_replay_of_an_unknown_group_names_the_groups_it_has():
    with pytest.raises(MissingRecording, match="pins no variants named 'other'") as caught:
        session(Tape(OLD, write_protected=True), recording=False).variants("other", NEW, 1)
    assert "['g']" in str(caught.value)
    assert "--record-mode=rewrite" in str(caught.value)


def test_replay_without_pins_says_how_to_record():
    with pytest.raises(MissingRecording, match="No recording holds the variants of t::x"):
        session(Tape(None, write_protected=True), recording=False).variants("g", NEW, 1)


def test_real_channel_settings_go_into_accepted_bodies_only_and_never_into_pins():
    tape = Tape(None, write_protected=False)
    live = with_channel_settings(tape)
    accepted = live.variants("ok", NEW, 1)[0]
    rejected = live.variants("bad", st.just(Variant("bad", {"type": "telegram"}, Expect(400, "bad_request"))), 1)[0]
    assert accepted.body["token"] == "123456:real-bot-token"
    assert "token" not in rejected.body
    assert "real-bot-token" not in repr(tape._metadata)


REUSED = {
    "format": 1,
    "target": {"apiUrl": "http://before", "appId": "x" * 24, "auth": "basic"},
    "seed": 42,
    "variants": {
        "ok": [
            {
                "id": "ok-0",
                "label": "pinned",
                "body": {"json": {"type": "telegram", "token": "<scrubbed>"}},
                "expect": {"status": 201},
            }
        ]
    },
}


def test_variants_from_an_earlier_recording_go_live_again_and_are_pinned_as_they_were():
    tape = Tape(None, write_protected=False)
    live = with_channel_settings(tape, reuse=REUSED)
    sent = live.variants("ok", NEW, 1)
    assert [v.label for v in sent] == ["pinned"]  # not drawn again
    assert sent[0].body["token"] == "123456:real-bot-token"  # the user's channel settings, as when drawn
    pins = tape._metadata[METADATA_KEY]
    assert pins["variants"] == REUSED["variants"]
    assert pins["seed"] == 42
    assert pins["target"]["apiUrl"] == SETTINGS.api_url
    assert tape.dirty


def test_variants_re_sent_live_carry_this_runs_tags_in_what_is_sent_and_what_is_pinned():
    earlier, now = "aaaaaaaaaaaaaaaa", runs.current()
    reused = {
        **REUSED,
        "variants": {
            "conversation": [
                {
                    "id": "conversation-0",
                    "label": "pinned",
                    "body": {"json": {"displayName": runs.tag("chat", earlier),
                                      "participants": [{"userExternalId": runs.tag("u", earlier)}]}},
                    "expect": {"status": 201},
                }
            ]
        },
    }  # fmt: skip
    tape = Tape(None, write_protected=False)
    [sent] = session(tape, recording=True, reuse=reused).variants("conversation", NEW, 1)
    expected = {"displayName": runs.tag("chat", now), "participants": [{"userExternalId": runs.tag("u", now)}]}
    assert sent.body == expected
    # Replay re-sends the pins: they must match what was sent, byte for byte.
    assert tape._metadata[METADATA_KEY]["variants"]["conversation"][0]["body"]["json"] == expected
    assert tape._metadata[METADATA_KEY]["recording"]["runId"] == now
    assert reused["variants"]["conversation"][0]["body"]["json"]["displayName"] == runs.tag("chat", earlier)


class Answers:
    """A client that answers every call with one exchange, after ``attempts`` tries."""

    def __init__(self, attempts: int) -> None:
        self.attempts = attempts
        self.settings = SETTINGS

    def call(self, operation_id: str, **_: Any) -> Exchange:
        op = shipped().operation(operation_id)
        return Exchange(
            operation=op,
            method=op.method,
            url=SETTINGS.api_url + op.path,
            path=op.path,
            request_body=None,
            status=200,
            headers={"Content-Type": "application/json"},
            text="{}",
            attempts=self.attempts,
            contract=shipped(),
        )


def test_recording_notes_each_exchange_and_where_and_under_what_it_was_recorded():
    tape = Tape(None, write_protected=False)
    live = session(tape, recording=True)
    live._client = Answers(attempts=3)  # type: ignore[assignment]
    variant = live.variants("g", st.just(Variant("v", None, Expect(200))), 1)[0]
    live.call("ListIntegrations", variant=variant)
    live.call("ListApps", expect=Expect(200))
    pins = tape._metadata[METADATA_KEY]
    assert pins["exchanges"] == [
        {"operation": "ListIntegrations", "variant": "g-0", "attempts": 3},
        {"operation": "ListApps", "variant": None, "attempts": 3},
    ]
    recording = pins["recording"]
    assert recording["host"] == "127.0.0.1:1"
    assert recording["importHash"] == shipped().index["importHash"]
    assert recording["specVersion"] == shipped().index["source"]["version"]
    assert recording["harness"] == metadata.version("sunco-conformance")
    age = datetime.now(UTC) - datetime.fromisoformat(recording["recordedAt"].replace("Z", "+00:00"))
    assert timedelta(0) <= age < timedelta(hours=1)
    assert live.recorded().import_hash == recording["importHash"]
    # The hash of what each operation it called depends on, once per operation.
    assert recording["schemaHashes"] == {
        "ListApps": fingerprint.operation_hash(shipped(), "ListApps"),
        "ListIntegrations": fingerprint.operation_hash(shipped(), "ListIntegrations"),
    }
    assert live.recorded().schemas == recording["schemaHashes"]


def test_recording_that_extends_an_earlier_cassette_keeps_its_schema_hashes():
    earlier = {**OLD, "recording": {"importHash": "0" * 64, "schemaHashes": {"ListApps": "0" * 16}}}
    tape = Tape(copy.deepcopy(earlier), write_protected=False)
    live = session(tape, recording=True)
    live._client = Answers(attempts=1)  # type: ignore[assignment]
    live.call("ListIntegrations", expect=Expect(200))
    # What the first recording depended on stays as it said: its exchanges are not all re-recorded.
    assert tape._metadata[METADATA_KEY]["recording"] == earlier["recording"]


def test_replay_notes_nothing_in_the_cassette():
    pinned = {**OLD, "variants": {"g": [{**OLD["variants"]["g"][0], "expect": {"status": 200}}]}}
    tape = Tape(pinned, write_protected=True)
    replay = session(tape, recording=False)
    replay._client = Answers(attempts=1)  # type: ignore[assignment]
    replay.call("ListApps", expect=Expect(200))
    assert "exchanges" not in tape._metadata[METADATA_KEY]
    assert replay.recorded().recorded_at is None


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://user:pass@eu-1.example.com:8443/sc?key=secret", "eu-1.example.com:8443"),
        ("https://api.smooch.io", "api.smooch.io"),
        ("http://[::1]:8080/", "[::1]:8080"),
    ],
)
def test_the_recorded_host_never_carries_credentials_or_paths(url, host):
    assert host_of(url) == host


def test_a_session_shows_as_its_test_not_as_an_address():
    # pytest prints a failing test's arguments: the session must read as what it is.
    assert repr(session(Tape(None, write_protected=True), recording=False)) == "<ConformanceSession t::x (replay)>"
    assert repr(session(Tape(None, write_protected=False), recording=True)) == "<ConformanceSession t::x (recording)>"


def test_replay_of_a_call_to_an_operation_the_contract_lacks_names_it_and_the_version():
    sunco = session(Tape(OLD, write_protected=True), recording=False)
    with pytest.raises(UnknownOperation) as raised:
        sunco.call("ListParcels", expect=Expect(200))
    assert raised.value.absent == f"the contract (spec {shipped().version}) has no operation ListParcels"
