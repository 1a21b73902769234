"""A cassette's pins: the metadata that says which variants its test sent, to whom, and how it was recorded.

While recording, the variants are drawn, sent, and written into the cassette as symbols, then scrubbed;
in replay they are read back and their symbols resolved, so the same requests are sent again.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from conformance.cassettes import provenance
from conformance.cassettes.vcr_adapter import store_metadata, stored_metadata
from conformance.contract.schemas import Contract, shipped
from conformance.failures import MissingRecording
from conformance.model import Variant
from conformance.scrubbing.placeholders import fits
from conformance.scrubbing.scrubber import Replaced, Scrubber
from conformance.session import runs
from conformance.variants.draw import PIN_FORMAT, SYMBOLIC_FORMAT, draw, number, unpin
from conformance.variants.resend import Symbols, as_replayed
from conformance.variants.symbols import Unresolved, abstracter, map_pinned, only_symbols, resolver, symbols_in, written

if TYPE_CHECKING:
    from hypothesis import strategies as st

    from conformance.transport.settings import Settings

METADATA_KEY = "conformance"
# In a pinned variant: why it cannot be sent again as pinned (a resend draws it again).
RESEND_KEY = "resend"
# Why the test did not run live, for its replay to skip for the same reason.
NOT_RUN_KEY = "notRun"


def reused_variants(reuse: Mapping[str, Any]) -> dict[str, Any]:
    """An earlier recording's variants, as this format pins them (a literal "{{" escaped in older pins)."""
    found = copy.deepcopy(dict(reuse.get("variants") or {}))
    if reuse.get("format", 1) >= SYMBOLIC_FORMAT:
        return found
    escape = abstracter({})
    return {group: [map_pinned(item, escape) for item in items] for group, items in found.items()}


class Pins:
    """One test's pins: made (target, seed, variants) while recording, read back in replay.

    ``settings`` are the live settings (None in replay); ``reuse`` the pins of an earlier recording
    whose variants go live again (--variants-from); ``redraw`` (record mode "all") draws anew instead of
    sending pinned, scrubbed bodies live. ``say`` tells the user what happens while recording.
    """

    def __init__(
        self,
        cassette: Any,
        *,
        recording: bool,
        settings: Settings | None,
        scrubber: Scrubber,
        symbols: Symbols,
        nodeid: str,
        cassette_path: str,
        record_command: str,
        seed: int = 0,
        reuse: Mapping[str, Any] | None = None,
        redraw: bool = False,
        say: Callable[[str], None] = lambda _line: None,
        contract: Contract | None = None,
    ) -> None:
        self.contract = contract or shipped()
        self.cassette = cassette
        self.recording = recording
        self.settings = settings
        self.scrubber = scrubber
        self.symbols = symbols
        self.nodeid = nodeid
        self.cassette_path = cassette_path
        self.record_command = record_command
        self.seed = seed
        self.reuse = reuse
        self.redraw = redraw
        self.say = say
        self._held: dict[str, Any] | None = None

    def held(self) -> dict[str, Any]:
        """The pins themselves, made or read the first time they are asked for."""
        if self._held is None:
            self._held = self._make() if self.recording else self._load()
        return self._held

    def _changed(self) -> None:
        if self.cassette is not None:
            self.cassette.dirty = True

    def _make(self) -> dict[str, Any]:
        settings = self.settings
        assert settings is not None, "a recording has live settings"
        target = {"apiUrl": settings.api_url, "appId": settings.app_id, "auth": settings.auth, "scope": settings.scope}
        if settings.oauth_url:
            target["oauthUrl"] = settings.oauth_url
        default = {
            "format": PIN_FORMAT,
            "target": target,
            "seed": self.seed,
            provenance.RECORDING_KEY: provenance.recording(
                settings.api_url, run_id=runs.current(), contract=self.contract
            ),
            "variants": {},
            provenance.EXCHANGES_KEY: [],
        }
        if self.reuse is not None:
            # Asked for on purpose: the earlier recording's variants go live again, as pinned, but
            # for their run tags: the records are this run's, so they carry its run id.
            default["seed"] = self.reuse.get("seed", self.seed)
            default["variants"] = runs.retag(reused_variants(self.reuse))
        # Without a cassette (--disable-recording) the variants are drawn and sent, not kept.
        held: dict[str, Any] = default if self.cassette is None else self.cassette.get_metadata(METADATA_KEY, default)
        if self.redraw and held is not default:
            # "all" re-records every request: pinned (scrubbed) bodies must not go live.
            store_metadata(self.cassette, METADATA_KEY, default)
            held = default
            self._changed()
        if held is not default:
            # An earlier recording being extended (new_episodes): its list of exchanges no
            # longer matches its interactions, so it goes; readers fall back to the requests.
            held.pop(provenance.EXCHANGES_KEY, None)
        elif default["variants"]:
            self._changed()
        return held

    def _load(self) -> dict[str, Any]:
        held = self._recorded()
        if held is None:
            raise self._missing(
                f"No recording holds the variants of {self.nodeid}.",
                expected=f"a cassette at {self.cassette_path}",
                actual="no such cassette, or one recorded without pinned variants",
                next_step=f"record it: {self.record_command}",
            )
        return held

    def _recorded(self) -> dict[str, Any] | None:
        """The cassette's pins as they are, without making or checking any."""
        found = stored_metadata(self.cassette, METADATA_KEY)
        return found if isinstance(found, dict) else None

    def _missing(self, title: str, *, expected: str, actual: str, next_step: str) -> MissingRecording:
        return MissingRecording(
            operation="(none)",
            method="-",
            path="-",
            title=title,
            rule="replay re-sends only the variants pinned in the cassette",
            expected=expected,
            actual=actual,
            cassette=self.cassette_path,
            next_step=next_step,
        )

    # -- what else the pins say ----------------------------------------------------------------

    def target(self) -> dict[str, Any]:
        """The API the recording was made against (base URL, app id, auth mode, scope, OAuth URL)."""
        target: dict[str, Any] = self.held()["target"]
        return target

    def note(self, operation_id: str, variant: str | None, attempts: int) -> None:
        """While recording, which variant and operation each exchange is, and how many attempts it took."""
        if not self.recording:
            return
        noted = self.held().get(provenance.EXCHANGES_KEY)
        if isinstance(noted, list):
            noted.append(provenance.exchange(operation_id, variant, attempts))
            provenance.note_schemas(self.held(), operation_id, self.contract)

    def note_schemas(self, operation_id: str) -> None:
        """While recording, keep the hash of what ``operation_id`` depends on (a delivery's checks, say)."""
        if self.recording:
            provenance.note_schemas(self.held(), operation_id, self.contract)

    def recorded(self) -> provenance.Provenance:
        """What the cassette says of its recording (replay), or of this one (recording)."""
        return provenance.Provenance.from_pins(self.cassette_path, self._recorded() or self._held)

    def keep_not_run(self, reason: str) -> None:
        """While recording, keep why the test did not run live, for its replay."""
        if self.recording and self.cassette is not None:
            self.held()[NOT_RUN_KEY] = reason
            self._changed()

    def not_run(self) -> str | None:
        """In replay, why the recording did not run live, if it did not."""
        found = self._recorded() if not self.recording else None
        reason = found.get(NOT_RUN_KEY) if found is not None else None
        return str(reason) if reason else None

    # -- variants --------------------------------------------------------------------------------

    def variants(
        self, group: str, strategy: st.SearchStrategy[Variant] | st.SearchStrategy[list[Variant]], count: int
    ) -> list[Variant]:
        """The variants of ``group``: drawn and pinned while recording, read back in replay."""
        held = self.held()
        symbolic = held.get("format", 1) >= SYMBOLIC_FORMAT
        if self.recording and group not in held["variants"]:
            drawn = [self._with_channel(v) for v in number(group, draw(strategy, count, self.seed))]
            abstract = abstracter(self.symbols.known()) if symbolic else None
            held["variants"][group] = [self._pinned(variant, abstract) for variant in drawn]
            self._changed()
            return drawn
        if group not in held["variants"]:
            raise self._missing(
                f"The recording of {self.nodeid} pins no variants named {group!r}.",
                expected=f"variant group {group!r}",
                actual=f"groups {sorted(held['variants'])}",
                next_step=f"the test changed since it was recorded; re-record: {self.record_command}",
            )
        if symbolic:
            return self._resolved(held, group, strategy, count)
        literal = unpin(held["variants"][group])
        return [self._with_channel(v) for v in literal] if self.recording and self.reuse is not None else literal

    def _pinned(self, variant: Variant, abstract: Callable[[str], str] | None) -> dict[str, Any]:
        """How ``variant`` is pinned: what the run chose written as symbols, then scrubbed.

        An invalid variant whose invalid value the scrubber replaced by a valid placeholder means
        something else once pinned: it says so (``resend``), so that a resend draws it again.
        """
        if abstract is None:
            return variant.as_json(self.scrubber.json_value)
        concrete = variant.as_json(lambda body: body)
        marked = Variant.from_json(map_pinned(concrete, abstract))
        replaced: list[Replaced] = []
        out = marked.as_json(lambda body: self.scrubber.pinned_body(body, only_symbols, replaced))
        self.symbols.remember(self.held(), symbols_in(out))
        changed = (
            []
            if variant.expect.status < 300
            else [
                name
                for name, item, value, new in replaced
                if not fits(name, value, item, contract=self.contract) and fits(name, new, item, contract=self.contract)
            ]
        )
        if changed:
            out[RESEND_KEY] = f"the {changed[0]} that makes it invalid is pinned as a placeholder that is valid"
        return out

    def _resolved(
        self,
        held: dict[str, Any],
        group: str,
        strategy: st.SearchStrategy[Variant] | st.SearchStrategy[list[Variant]],
        count: int,
    ) -> list[Variant]:
        """The pinned variants of ``group`` with their symbols resolved; live, one that cannot be sent again
        is drawn again (the same seed draws the same value, chosen by this run)."""
        resolve = resolver(self.symbols.lookup(held))
        items: list[dict[str, Any]] = held["variants"][group]
        out: list[Variant] = []
        fresh: list[Variant] | None = None
        for index, item in enumerate(list(items)):
            reason = item.get(RESEND_KEY) if self.recording else None
            if reason is None:
                try:
                    concrete = map_pinned(item, resolve)
                except Unresolved as error:
                    if not self.recording:
                        raise self._unresolved(item, error.symbol) from None
                    reason = f"it refers to {written(error.symbol)}, which this run does not have"
                else:
                    variant = Variant.from_json(concrete if self.recording else as_replayed(concrete))
                    out.append(self._with_channel(variant) if self.reuse is not None else variant)
                    continue
            if fresh is None:
                fresh = number(group, draw(strategy, count, held.get("seed", self.seed)))
            self.say(f"variant {item.get('id')} cannot be sent again ({reason}): drawn again")
            if index < len(fresh):
                variant = self._with_channel(fresh[index])
                items[index] = self._pinned(variant, abstracter(self.symbols.known()))
                self._changed()
                out.append(variant)
        return out

    def _unresolved(self, item: Mapping[str, Any], symbol: str) -> MissingRecording:
        return self._missing(
            f"The pinned variant {item.get('id')} of {self.nodeid} refers to {written(symbol)}, which its "
            "recording does not give.",
            expected=f"an answer or setting the recording kept for {written(symbol)}",
            actual="none in the cassette",
            next_step=f"the cassette was edited or the test changed since it was recorded; re-record: "
            f"{self.record_command}",
        )

    def _with_channel(self, variant: Variant) -> Variant:
        """A body that must be accepted gets the user's real settings for its channel, if any."""
        channels = self.settings.channels if self.settings else {}
        body = variant.body
        if variant.expect.status >= 300 or not isinstance(body, dict) or body.get("type") not in channels:
            return variant
        return replace(variant, body={**body, **channels[body["type"]]})
