"""Comparing paired exchanges and classing each change for a client: breaking, additive or cosmetic."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.cassettes.explain import json_diff
from conformance.pointer import MISSING
from conformance.tools._drift_pairing import (
    Cassette,
    Key,
    Paired,
    exchanges,
    load_cassette,
    normalise,
    normalise_json,
    noted_exchanges,
    request_label,
    request_shape,
    without_origins,
)
from conformance.tools._drift_volatile import volatile
from conformance.transport.client import recorded_break

CLASSES = ("breaking", "additive", "cosmetic")
PROSE = ("title", "description", "message", "detail")


@dataclass
class Change:
    cassette: str
    exchange: str  # "CreateParcel create-valid-0" or "POST /shops/{id}/parcels"
    request: str
    where: str
    baseline: Any
    candidate: Any
    klass: str

    def render(self) -> str:
        return (
            f"  {self.klass:<9} {self.exchange} ({self.request})\n"
            f"            {self.where}: {show(self.baseline)} -> {show(self.candidate)}"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "cassette": self.cassette,
            "exchange": self.exchange,
            "request": self.request,
            "where": self.where,
            "class": self.klass,
            "baseline": "(absent)" if self.baseline is MISSING else self.baseline,
            "candidate": "(absent)" if self.candidate is MISSING else self.candidate,
        }


@dataclass
class DriftReport:
    compared: int = 0
    # Retried attempts left out of the pairing (a 429, a 5xx or a broken-off GET before its retry).
    retried: int = 0
    changes: list[Change] = field(default_factory=list)
    not_comparable: list[str] = field(default_factory=list)
    # Values the server chose afresh (ids, timestamps, secrets, cursors), same shape: by field name.
    volatile: Counter[str] = field(default_factory=Counter)

    def counts(self) -> dict[str, int]:
        found = Counter(change.klass for change in self.changes)
        return {klass: found[klass] for klass in CLASSES}

    def as_json(self) -> dict[str, Any]:
        return {
            "compared": self.compared,
            "retriedLeftOut": self.retried,
            "counts": self.counts(),
            "changes": [change.as_json() for change in self.changes],
            "notComparable": self.not_comparable,
            "volatile": {"count": self.volatile.total(), "byField": dict(sorted(self.volatile.items()))},
        }


def show(value: Any) -> str:
    return "(absent)" if value is MISSING else json.dumps(value, ensure_ascii=False)[:120]


def _body(response: dict[str, Any]) -> Any:
    broken = recorded_break(response)
    if broken is not None:
        return f"(no whole answer: {broken.kind})"
    text = (response.get("body") or {}).get("string") or ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    # Only the target's origin goes: server-chosen values are told apart from drift field by field.
    try:
        return normalise_json(json.loads(text), without_origins)
    except ValueError:
        return normalise(text)


def _content_type(response: dict[str, Any]) -> str:
    values = (response.get("headers") or {}).get("Content-Type") or [""]
    return str(values[0] if isinstance(values, list) else values)


def _value_class(pointer: str, was: Any, now: Any) -> str:
    if was is MISSING:
        return "additive"
    if now is MISSING or type(was) is not type(now):
        return "breaking"
    return "cosmetic" if pointer.rsplit("/", 1)[-1] in PROSE else "breaking"


def compare_cassette(name: str, baseline: Cassette, candidate: Cassette, report: DriftReport) -> None:
    by_metadata = noted_exchanges(baseline) is not None and noted_exchanges(candidate) is not None
    old, old_retried = exchanges(baseline, by_metadata)
    new, new_retried = exchanges(candidate, by_metadata)
    report.retried += old_retried + new_retried
    # In the baseline's order, then what only the candidate holds.
    for key in [*old, *(key for key in new if key not in old)]:
        was, now = old.get(key), new.get(key)
        if was is None or now is None:
            present = was or now
            assert present is not None
            report.changes.append(
                Change(
                    name,
                    _numbered(present.label, key[2]),
                    request_label(present.request),
                    "exchange",
                    "made" if was else MISSING,
                    "made" if now else MISSING,
                    "breaking" if now is None else "additive",
                )
            )
            continue
        if request_shape(was.request) != request_shape(now.request):
            # Only when pairing by variant: pairing by request pairs equal requests.
            report.not_comparable.append(_unlike(name, key, was, now))
            continue
        report.compared += 1
        _compare_exchange(name, _numbered(was.label, key[2]), was, now, report)


def _numbered(label: str, number: int) -> str:
    return label if number == 0 else f"{label} #{number + 1}"


def _unlike(name: str, key: Key, was: Paired, now: Paired) -> str:
    if was.variant:
        return (
            f"{name}: variant {was.variant} of {key[0]} sent another request in each recording (the variants were "
            "drawn separately, e.g. with another seed or schema): record the candidate with --variants-from BASELINE"
        )
    return (
        f"{name}: {_numbered(was.label, key[2])} sent {request_label(was.request)} in the baseline and "
        f"{request_label(now.request)} in the candidate: the answers before it differed (see the changes above)"
    )


def _compare_exchange(name: str, label: str, was: Paired, now: Paired, report: DriftReport) -> None:
    request = request_label(was.request)
    old_status, new_status = was.response["status"]["code"], now.response["status"]["code"]
    if old_status != new_status:
        # Another outcome altogether: comparing a record with an error envelope field by field says nothing more.
        report.changes.append(Change(name, label, request, "status", old_status, new_status, "breaking"))
        return
    old_type, new_type = _content_type(was.response), _content_type(now.response)
    if old_type != new_type:
        same_media = old_type.split(";")[0].strip().lower() == new_type.split(";")[0].strip().lower()
        klass = "cosmetic" if same_media else "breaking"
        report.changes.append(Change(name, label, request, "Content-Type", old_type, new_type, klass))
    for pointer, before, after in json_diff(_body(was.response), _body(now.response)):
        chosen = volatile(pointer, before, after)
        if chosen is not None:
            report.volatile[chosen] += 1
            continue
        klass = _value_class(pointer, before, after)
        report.changes.append(Change(name, label, request, f"body {pointer or '/'}", before, after, klass))


def _cassettes(folder: Path) -> dict[str, Path]:
    return {path.relative_to(folder).as_posix(): path for path in sorted(folder.rglob("*.yaml"))}


def compare(baseline: Path, candidate: Path) -> DriftReport:
    """Two folders of cassettes, or two cassette files."""
    report = DriftReport()
    if baseline.is_file() and candidate.is_file():
        compare_cassette(candidate.name, load_cassette(baseline), load_cassette(candidate), report)
        return report
    old, new = _cassettes(baseline), _cassettes(candidate)
    for name in sorted(old.keys() - new.keys()):
        report.not_comparable.append(f"{name}: only in the baseline (the candidate run recorded no such test)")
    for name in sorted(new.keys() - old.keys()):
        report.not_comparable.append(f"{name}: only in the candidate (the baseline run recorded no such test)")
    for name in sorted(old.keys() & new.keys()):
        compare_cassette(name, load_cassette(old[name], baseline), load_cassette(new[name], candidate), report)
    return report
