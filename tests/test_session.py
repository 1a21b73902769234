"""Pinning decisions of the session, on a stand-in cassette (no HTTP)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import strategies as st

from conformance.core.failures import MissingRecording
from conformance.core.model import Expect, Variant
from conformance.core.scrub import Scrubber
from conformance.core.session import METADATA_KEY, ConformanceSession
from conformance.core.settings import Settings

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
        self._path = "tape.yaml"
        self.write_protected = write_protected
        self.dirty = False

    def get_metadata(self, key: str, default: Any) -> Any:
        if key not in self._metadata:
            self._metadata[key] = default
        return self._metadata[key]


def session(tape: Tape, *, recording: bool, redraw: bool = False) -> ConformanceSession:
    return ConformanceSession(
        cassette=tape,
        recording=recording,
        settings=SETTINGS if recording else None,
        scrubber=Scrubber(),
        nodeid="t::x",
        record_command="pytest t::x --record-mode=rewrite",
        redraw=redraw,
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
    channel = Settings(**{**vars(SETTINGS), "channels": {"telegram": {"token": "123456:real-bot-token"}}})
    tape = Tape(None, write_protected=False)
    live = ConformanceSession(
        cassette=tape,
        recording=True,
        settings=channel,
        scrubber=Scrubber(channel.secrets),
        nodeid="t::x",
        record_command="pytest",
    )
    accepted = live.variants("ok", NEW, 1)[0]
    rejected = live.variants("bad", st.just(Variant("bad", {"type": "telegram"}, Expect(400, "bad_request"))), 1)[0]
    assert accepted.body["token"] == "123456:real-bot-token"
    assert "token" not in rejected.body
    assert "real-bot-token" not in repr(tape._metadata)
