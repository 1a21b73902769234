"""Request variants: what to send, and the outcome it must get.

Hypothesis draws variants only while recording. The drawn variants are scrubbed and pinned inside
the cassette (vcrpy cassette metadata), and replay re-sends exactly those, so a new seed, a
Hypothesis upgrade or a fresh example database cannot change what replay sends.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import HypothesisWarning

from conformance.model import Variant
from conformance.transport import interrupt

# 2: pinned variants hold symbols (conformance.variants.symbols) for what the run chose; 1: literal values.
PIN_FORMAT = 2
SYMBOLIC_FORMAT = 2


class _Enough(Exception):
    """Raised inside the Hypothesis run once enough examples are in: no need to generate more."""


def draw(strategy: st.SearchStrategy[Any], count: int, seed: int) -> list[Any]:
    """``count`` distinct examples of ``strategy``, reproducible for a given ``seed``.

    Hypothesis opens with its simplest example (every choice at its minimum), so that one is
    skipped while others come. A strategy that yields lists (one item per type, say) gives the
    items of one such later example; the run stops as soon as it has enough.
    """
    drawn: list[Any] = []

    @hypothesis_seed(seed)
    @settings(
        max_examples=max(count * 4, 20),
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(strategy)
    def collect(value: Any) -> None:
        drawn.append(value)
        if isinstance(value, list) and len(drawn) >= 3:
            raise _Enough
        if not isinstance(value, list) and len(_distinct(drawn[1:])) >= count:
            raise _Enough

    try:
        with _without_local_constants(), warnings.catch_warnings(), contextlib.suppress(_Enough):
            # Hypothesis describes each drawn example for its own reports, which we never show.
            warnings.filterwarnings("ignore", "Generating overly large repr", HypothesisWarning)
            collect()
    finally:
        # A Ctrl-C while drawing may come out as Flaky*, an internal error, or nothing at all.
        interrupt.check()
    if drawn and isinstance(drawn[-1], list):
        return list(drawn[-1][:count])
    found = _distinct(drawn[1:]) if len(_distinct(drawn[1:])) >= count else _distinct(drawn)
    return found[:count]


@contextlib.contextmanager
def _without_local_constants() -> Iterator[None]:
    """Draw without the literals Hypothesis collects from local modules' source.

    Which modules are loaded, and what their code says, would otherwise shift a seed's draws: a
    re-recording after an unrelated code change, or of a subset of the tests, would send other
    variants. This reaches into Hypothesis' internals, so where they differ it does nothing.
    """
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants

        original, cache = providers._get_local_constants, providers.CONSTANTS_CACHE
        empty = Constants()
    except (ImportError, AttributeError):
        yield
        return
    providers._get_local_constants = lambda: empty
    cache.cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.cache.clear()


def _distinct(items: list[Any]) -> list[Any]:
    seen: set[str] = set()
    out: list[Any] = []
    for item in items:
        marker = repr(item)
        if marker not in seen:
            seen.add(marker)
            out.append(item)
    return out


def number(group: str, variants: list[Variant]) -> list[Variant]:
    return [replace(variant, id=f"{group}-{index}") for index, variant in enumerate(variants)]


def pin(group: str, variants: list[Variant], scrub: Callable[[Any], Any]) -> list[dict[str, Any]]:
    return [variant.as_json(scrub) for variant in number(group, variants)]


def unpin(pinned: list[dict[str, Any]]) -> list[Variant]:
    return [Variant.from_json(item) for item in pinned]
