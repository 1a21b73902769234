"""A session's pinned variants: drawn and written into the cassette while recording, read back in replay.

Part of :class:`conformance.session.session.ConformanceSession`, kept apart to keep that module small;
the session's methods of the same names call these.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from conformance.cassettes import provenance
from conformance.failures import MissingRecording
from conformance.model import Variant
from conformance.scrubbing.placeholders import fits
from conformance.scrubbing.scrubber import Replaced
from conformance.session import runs
from conformance.variants import resend as _resend
from conformance.variants.draw import PIN_FORMAT, SYMBOLIC_FORMAT, draw, number, unpin
from conformance.variants.symbols import Unresolved, abstracter, map_pinned, only_symbols, resolver, symbols_in, written

if TYPE_CHECKING:
    from hypothesis import strategies as st

    from conformance.session.session import ConformanceSession

METADATA_KEY = "conformance"
# In a pinned variant: why it cannot be sent again as pinned (a resend draws it again).
RESEND_KEY = "resend"


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
                provenance.RECORDING_KEY: provenance.recording(
                    session._settings.api_url, run_id=runs.current(), contract=session.contract
                ),
                "variants": {},
                provenance.EXCHANGES_KEY: [],
            }
            if session.reuse is not None:
                # Asked for on purpose: the earlier recording's variants go live again, as pinned, but
                # for their run tags: the records are this run's, so they carry its run id.
                default["seed"] = session.reuse.get("seed", session.seed)
                default["variants"] = runs.retag(reused_variants(session.reuse))
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


def reused_variants(reuse: Mapping[str, Any]) -> dict[str, Any]:
    """An earlier recording's variants, as this format pins them (a literal "{{" escaped in older pins)."""
    found = copy.deepcopy(dict(reuse.get("variants") or {}))
    if reuse.get("format", 1) >= SYMBOLIC_FORMAT:
        return found
    escape = abstracter({})
    return {group: [map_pinned(item, escape) for item in items] for group, items in found.items()}


def variants(
    session: ConformanceSession,
    group: str,
    strategy: st.SearchStrategy[Variant] | st.SearchStrategy[list[Variant]],
    count: int,
) -> list[Variant]:
    """The variants of ``group``: drawn and pinned while recording, read back in replay."""
    held = pins(session)
    symbolic = held.get("format", 1) >= SYMBOLIC_FORMAT
    if session.recording and group not in held["variants"]:
        drawn = [with_channel(session, v) for v in number(group, draw(strategy, count, session.seed))]
        abstract = abstracter(_resend.known(session)) if symbolic else None
        held["variants"][group] = [pinned(session, variant, abstract) for variant in drawn]
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
    if symbolic:
        return resolved(session, held, group, strategy, count)
    literal = unpin(held["variants"][group])
    return [with_channel(session, v) for v in literal] if session.recording and session.reuse is not None else literal


def pinned(session: ConformanceSession, variant: Variant, abstract: Callable[[str], str] | None) -> dict[str, Any]:
    """How ``variant`` is pinned: what the run chose written as symbols, then scrubbed.

    An invalid variant whose invalid value the scrubber replaced by a valid placeholder means
    something else once pinned: it says so (``resend``), so that a resend draws it again.
    """
    if abstract is None:
        return variant.as_json(session.scrubber.variant_body)
    concrete = variant.as_json(lambda body: body)
    marked = Variant.from_json(map_pinned(concrete, abstract))
    replaced: list[Replaced] = []
    out = marked.as_json(lambda body: session.scrubber.pinned_body(body, only_symbols, replaced))
    _resend.remember(session, pins(session), symbols_in(out))
    changed = (
        []
        if variant.expect.status < 300
        else [
            name
            for name, item, value, new in replaced
            if not fits(name, value, item, contract=session.contract)
            and fits(name, new, item, contract=session.contract)
        ]
    )
    if changed:
        out[RESEND_KEY] = f"the {changed[0]} that makes it invalid is pinned as a placeholder that is valid"
    return out


def resolved(
    session: ConformanceSession,
    held: dict[str, Any],
    group: str,
    strategy: st.SearchStrategy[Variant] | st.SearchStrategy[list[Variant]],
    count: int,
) -> list[Variant]:
    """The pinned variants of ``group`` with their symbols resolved; live, one that cannot be sent again is
    drawn again (the same seed draws the same value, chosen by this run)."""
    resolve = resolver(_resend.lookup(session, held))
    items: list[dict[str, Any]] = held["variants"][group]
    out: list[Variant] = []
    fresh: list[Variant] | None = None
    for index, item in enumerate(list(items)):
        reason = item.get(RESEND_KEY) if session.recording else None
        if reason is None:
            try:
                concrete = map_pinned(item, resolve)
            except Unresolved as error:
                if not session.recording:
                    raise unresolved(session, item, error.symbol) from None
                reason = f"it refers to {written(error.symbol)}, which this run does not have"
            else:
                variant = Variant.from_json(concrete if session.recording else _resend.as_replayed(concrete))
                out.append(with_channel(session, variant) if session.reuse is not None else variant)
                continue
        if fresh is None:
            fresh = number(group, draw(strategy, count, held.get("seed", session.seed)))
        session._say(f"variant {item.get('id')} cannot be sent again ({reason}): drawn again")
        if index < len(fresh):
            variant = with_channel(session, fresh[index])
            items[index] = pinned(session, variant, abstracter(_resend.known(session)))
            if session.cassette is not None:
                session.cassette.dirty = True
            out.append(variant)
    return out


def unresolved(session: ConformanceSession, item: Mapping[str, Any], symbol: str) -> MissingRecording:
    return missing(
        session,
        f"The pinned variant {item.get('id')} of {session.nodeid} refers to {written(symbol)}, which its "
        "recording does not give.",
        expected=f"an answer or setting the recording kept for {written(symbol)}",
        actual="none in the cassette",
        next_step=f"the cassette was edited or the test changed since it was recorded; re-record: "
        f"{session.record_command}",
    )


def with_channel(session: ConformanceSession, variant: Variant) -> Variant:
    """A body that must be accepted gets the user's real settings for its channel, if any."""
    channels = session._settings.channels if session._settings else {}
    body = variant.body
    if variant.expect.status >= 300 or not isinstance(body, dict) or body.get("type") not in channels:
        return variant
    return replace(variant, body={**body, **channels[body["type"]]})
