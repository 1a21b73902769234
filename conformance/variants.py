"""Request variants: what to send, and the outcome it must get.

Hypothesis draws variants only while recording. The drawn variants are scrubbed and pinned inside
the cassette (vcrpy cassette metadata), and replay re-sends exactly those, so a new seed, a
Hypothesis upgrade or a fresh example database cannot change what replay sends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from conformance.client import RawBody

PIN_FORMAT = 1


@dataclass(frozen=True)
class Expect:
    """The outcome a variant must get.

    ``echo`` pairs a JSON pointer in the request body with one in the response body whose values
    must be equal (a created resource reflects what was sent).
    """

    status: int
    error_code: str | None = None
    echo: tuple[tuple[str, str], ...] = ()

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.error_code:
            out["errorCode"] = self.error_code
        if self.echo:
            out["echo"] = [list(pair) for pair in self.echo]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Expect:
        return cls(
            status=int(data["status"]),
            error_code=data.get("errorCode"),
            echo=tuple((a, b) for a, b in data.get("echo", ())),
        )


@dataclass(frozen=True)
class Variant:
    label: str
    body: Any
    expect: Expect
    id: str = ""
    params: dict[str, dict[str, str]] = field(default_factory=dict)

    def as_json(self, scrub: Callable[[Any], Any]) -> dict[str, Any]:
        body: Any
        if self.body is None:
            body = {"none": True}
        elif isinstance(self.body, RawBody):
            body = {"raw": scrub(self.body.text), "contentType": self.body.content_type}
        else:
            body = {"json": scrub(self.body)}
        out = {"id": self.id, "label": self.label, "body": body, "expect": self.expect.as_json()}
        if self.params:
            out["params"] = self.params
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Variant:
        stored = data["body"]
        body = (
            None
            if "none" in stored
            else (RawBody(stored["raw"], stored["contentType"]) if "raw" in stored else stored["json"])
        )
        return cls(
            id=data["id"],
            label=data["label"],
            body=body,
            expect=Expect.from_json(data["expect"]),
            params=data.get("params", {}),
        )


def draw(strategy: st.SearchStrategy[Any], count: int, seed: int) -> list[Any]:
    """``count`` distinct examples of ``strategy``, reproducible for a given ``seed``.

    Hypothesis opens with its simplest examples, so the examples kept are the last distinct
    ones of a longer run. A strategy that yields lists (one item per type, say) gives the items
    of its last example.
    """
    drawn: list[Any] = []

    @hypothesis_seed(seed)
    @settings(
        max_examples=max(count * 4, 20),
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: Any) -> None:
        drawn.append(value)

    collect()
    if drawn and isinstance(drawn[-1], list):
        return drawn[-1][:count]
    found: list[Any] = []
    seen: set[str] = set()
    for item in reversed(drawn):
        marker = repr(item)
        if marker not in seen:
            seen.add(marker)
            found.append(item)
    return found[:count][::-1]


def number(group: str, variants: list[Variant]) -> list[Variant]:
    return [replace(variant, id=f"{group}-{index}") for index, variant in enumerate(variants)]


def pin(group: str, variants: list[Variant], scrub: Callable[[Any], Any]) -> list[dict[str, Any]]:
    return [variant.as_json(scrub) for variant in number(group, variants)]


def unpin(pinned: list[dict[str, Any]]) -> list[Variant]:
    return [Variant.from_json(item) for item in pinned]
