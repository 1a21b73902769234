"""A session's pinned variants: drawn and written into the cassette while recording, read back in replay.

Part of :class:`conformance.core.session.ConformanceSession`, kept apart to keep that module small;
the session's methods of the same names call these.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from conformance.core import provenance
from conformance.core.failures import MissingRecording
from conformance.core.model import Variant
from conformance.core.variants import PIN_FORMAT, draw, number, pin, unpin

if TYPE_CHECKING:
    from hypothesis import strategies as st

    from conformance.core.session import ConformanceSession

METADATA_KEY = "conformance"


def pins(session: ConformanceSession) -> dict[str, Any]:
    """The cassette's pins: made (target, seed, variants) while recording, read back in replay."""
    if session._pins is None:
        if session.recording:
            assert session._settings is not None
            target = {
                "apiUrl": session._settings.api_url,
                "appId": session._settings.app_id,
                "auth": session._settings.auth,
                "scope": session._settings.scope,
            }
            if session._settings.oauth_url:
                target["oauthUrl"] = session._settings.oauth_url
            default = {
                "format": PIN_FORMAT,
                "target": target,
                "seed": session.seed,
                provenance.RECORDING_KEY: provenance.recording(session._settings.api_url),
                "variants": {},
                provenance.EXCHANGES_KEY: [],
            }
            if session.reuse is not None:
                # Asked for on purpose: the earlier recording's variants go live again, as pinned.
                default["seed"] = session.reuse.get("seed", session.seed)
                default["variants"] = copy.deepcopy(dict(session.reuse.get("variants") or {}))
            # Without a cassette (--disable-recording) the variants are drawn and sent, not kept.
            session._pins = (
                default if session.cassette is None else session.cassette.get_metadata(METADATA_KEY, default)
            )
            if session.redraw and session._pins is not default:
                # "all" re-records every request: pinned (scrubbed) bodies must not go live.
                session.cassette._metadata[METADATA_KEY] = session._pins = default
                session.cassette.dirty = True
            if session._pins is not default:
                # An earlier recording being extended (new_episodes): its list of exchanges no
                # longer matches its interactions, so it goes; readers fall back to the requests.
                session._pins.pop(provenance.EXCHANGES_KEY, None)
            elif session.cassette is not None and default["variants"]:
                session.cassette.dirty = True
        else:
            session._pins = load_pins(session)
    return session._pins


def load_pins(session: ConformanceSession) -> dict[str, Any]:
    pins: dict[str, Any] | None = getattr(session.cassette, "_metadata", {}).get(METADATA_KEY)
    if pins is None:
        raise missing(
            session,
            f"No recording holds the variants of {session.nodeid}.",
            expected=f"a cassette at {session.cassette_path}",
            actual="no such cassette, or one recorded without pinned variants",
            next_step=f"record it: {session.record_command}",
        )
    return pins


def missing(session: ConformanceSession, title: str, *, expected: str, actual: str, next_step: str) -> MissingRecording:
    return MissingRecording(
        operation="(none)",
        method="-",
        path="-",
        title=title,
        rule="replay re-sends only the variants pinned in the cassette",
        expected=expected,
        actual=actual,
        cassette=session.cassette_path,
        next_step=next_step,
    )


def variants(
    session: ConformanceSession,
    group: str,
    strategy: st.SearchStrategy[Variant] | st.SearchStrategy[list[Variant]],
    count: int,
) -> list[Variant]:
    """The variants of ``group``: drawn and pinned while recording, read back in replay."""
    held = pins(session)
    if session.recording and group not in held["variants"]:
        drawn = [with_channel(session, v) for v in number(group, draw(strategy, count, session.seed))]
        held["variants"][group] = pin(group, drawn, session.scrubber.variant_body)
        if session.cassette is not None:
            session.cassette.dirty = True
        return drawn
    if group not in held["variants"]:
        raise missing(
            session,
            f"The recording of {session.nodeid} pins no variants named {group!r}.",
            expected=f"variant group {group!r}",
            actual=f"groups {sorted(held['variants'])}",
            next_step=f"the test changed since it was recorded; re-record: {session.record_command}",
        )
    pinned = unpin(held["variants"][group])
    return [with_channel(session, v) for v in pinned] if session.recording and session.reuse is not None else pinned


def with_channel(session: ConformanceSession, variant: Variant) -> Variant:
    """A body that must be accepted gets the user's real settings for its channel, if any."""
    channels = session._settings.channels if session._settings else {}
    body = variant.body
    if variant.expect.status >= 300 or not isinstance(body, dict) or body.get("type") not in channels:
        return variant
    return replace(variant, body={**body, **channels[body["type"]]})
