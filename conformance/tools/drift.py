"""``python -m conformance drift``: compare two recordings of the same variants, field by field.

Record a baseline, then record again later (after an API upgrade, say) with the same variants
(``--variants-from BASELINE``), then compare. Exchanges are paired by what they are: the pinned
variant and operation each belongs to (kept in the cassette's metadata), and their order among
exchanges of that same variant and operation; an attempt the client retried (a 429, a 5xx or a
broken-off idempotent request) is left out. Cassettes
recorded before that metadata existed are paired by request instead. Values that differ between
any two recordings by nature (record ids, hosts) are normalised first.

Each change is classed for a client: ``breaking`` (a status, a media type, a field's value or type,
a field or an exchange gone), ``additive`` (a field or an exchange that appeared) or ``cosmetic``
(prose such as an error title, a media type parameter).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.core import cassettes
from conformance.core.cassettes import CorruptCassette
from conformance.core.client import IDEMPOTENT, recorded_break, retryable
from conformance.core.explain import json_diff
from conformance.core.recording import canonical_body
from conformance.pointer import MISSING

NAME = "drift"
CLASSES = ("breaking", "additive", "cosmetic")
PROSE = ("title", "description", "message", "detail")
_ID = re.compile(r"\b[0-9a-f]{24}\b")
_ORIGIN = re.compile(r"https?://[^/\s\"]+")
Key = tuple[str, str, int]  # (operation or request, variant or request body, its number among equals)


class DriftError(Exception):
    """An input that cannot be compared at all; the message is one line."""


def normalise(text: str) -> str:
    return _ID.sub("{id}", _ORIGIN.sub("", text))


def _normalise_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _normalise_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalise_json(item) for item in value]
    return normalise(value) if isinstance(value, str) else value


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
            f"            {self.where}: {_show(self.baseline)} -> {_show(self.candidate)}"
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
        }


def _show(value: Any) -> str:
    return "(absent)" if value is MISSING else json.dumps(value, ensure_ascii=False)[:120]


# -- reading -------------------------------------------------------------------------------------


@dataclass
class Cassette:
    interactions: list[dict[str, Any]]
    pins: dict[str, Any]


def load_cassette(path: Path, root: Path | None = None) -> Cassette:
    """One cassette file; anything that is not one is a DriftError naming the file (and how to re-record it)."""
    if not path.is_file():
        raise DriftError(f"the cassette {path} does not exist")
    try:
        data = cassettes.load_file(path)
    except CorruptCassette as error:
        raise DriftError(error.describe(rerecord_command(path, root))) from None
    interactions = data.get("interactions")
    if not isinstance(interactions, list) or not all(_is_interaction(item) for item in interactions):
        raise DriftError(f"the cassette {path} is not a recording: it holds no list of requests and responses")
    pins = (data.get("metadata") or {}).get("conformance") if isinstance(data.get("metadata"), dict) else None
    return Cassette(interactions, pins if isinstance(pins, dict) else {})


def rerecord_command(path: Path, root: Path | None = None) -> str:
    """The command that records the test whose cassette ``path`` is, into the folder it was read from."""
    folder = root or path.parent.parent
    test = f"conformance/suites/{path.parent.name}.py::{path.stem}"
    settings = "SUNCO_API_URL=… SUNCO_APP_ID=… SUNCO_KEY_ID=… SUNCO_KEY_SECRET=…"
    return f"{settings} pytest {test} --record-mode=rewrite --cassette-dir={folder}"


def _is_interaction(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("request"), dict)
        and isinstance(item.get("response"), dict)
        and isinstance((item["response"].get("status") or {}).get("code"), int)
    )


@dataclass(frozen=True)
class Paired:
    """One exchange as drift sees it: its final request and answer, retries left out."""

    label: str
    request: dict[str, Any]
    response: dict[str, Any]
    variant: str | None = None


def _retried(interaction: dict[str, Any]) -> bool:
    """An attempt the client retried: a 429, or a 5xx or broken-off exchange of an idempotent request."""
    method = str(interaction["request"]["method"]).upper()
    response = interaction["response"]
    if recorded_break(response) is not None:
        return method in IDEMPOTENT
    return retryable(method, int(response["status"]["code"]))


def final_attempts(interactions: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Each exchange's last attempt, and how many retried attempts were left out.

    The client retries by its own policy (``retryable``); a retried attempt is followed by the same
    request, so two recordings pair by what each exchange finally got, however often it was retried.
    """
    kept: list[dict[str, Any]] = []
    for interaction in interactions:
        if (
            kept
            and _retried(kept[-1])
            and _request_shape(kept[-1]["request"]) == _request_shape(interaction["request"])
        ):
            kept[-1] = interaction
        else:
            kept.append(interaction)
    return kept, len(interactions) - len(kept)


def _request_label(request: dict[str, Any]) -> str:
    return f"{request.get('method')} {normalise(str(request.get('uri')))}"


def _request_shape(request: dict[str, Any]) -> tuple[str, str]:
    return _request_label(request), normalise(canonical_body(request.get("body")))


def _noted(cassette: Cassette) -> list[dict[str, Any]] | None:
    """The session's list of exchanges, when it accounts for every interaction."""
    noted = cassette.pins.get("exchanges")
    if not isinstance(noted, list) or not all(
        isinstance(e, dict) and isinstance(e.get("operation"), str) and isinstance(e.get("attempts"), int)
        for e in noted
    ):
        return None
    attempts = [entry["attempts"] for entry in noted]
    if any(count < 1 for count in attempts) or sum(attempts) != len(cassette.interactions):
        return None
    return noted


def exchanges(cassette: Cassette, by_metadata: bool) -> tuple[dict[Key, Paired], int]:
    """Exchanges by key, and how many retried answers were left out."""
    found: dict[Key, Paired] = {}
    seen: Counter[tuple[str, str]] = Counter()
    retried = 0
    noted = _noted(cassette) if by_metadata else None
    if noted is not None:
        position, context = 0, ""
        for entry in noted:
            final = cassette.interactions[position + entry["attempts"] - 1]
            retried += entry["attempts"] - 1
            position += entry["attempts"]
            variant = entry.get("variant") if isinstance(entry.get("variant"), str) else None
            # A step without a variant belongs to the flow of the variant before it (get what it created).
            context = variant or context
            ident = (entry["operation"], variant or (f"after {context}" if context else ""))
            label = " ".join(filter(None, ident))
            found[(*ident, seen[ident])] = Paired(label, final["request"], final["response"], variant)
            seen[ident] += 1
        return found, retried
    items, retried = final_attempts(cassette.interactions)
    for item in items:
        ident = _request_shape(item["request"])
        found[(*ident, seen[ident])] = Paired(ident[0], item["request"], item["response"])
        seen[ident] += 1
    return found, retried


# -- comparing -----------------------------------------------------------------------------------


def _body(response: dict[str, Any]) -> Any:
    broken = recorded_break(response)
    if broken is not None:
        return f"(no whole answer: {broken.kind})"
    text = (response.get("body") or {}).get("string") or ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    try:
        return _normalise_json(json.loads(text))
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
    by_metadata = _noted(baseline) is not None and _noted(candidate) is not None
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
                    _request_label(present.request),
                    "exchange",
                    "made" if was else MISSING,
                    "made" if now else MISSING,
                    "breaking" if now is None else "additive",
                )
            )
            continue
        if _request_shape(was.request) != _request_shape(now.request):
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
        f"{name}: {_numbered(was.label, key[2])} sent {_request_label(was.request)} in the baseline and "
        f"{_request_label(now.request)} in the candidate: the answers before it differed (see the changes above)"
    )


def _compare_exchange(name: str, label: str, was: Paired, now: Paired, report: DriftReport) -> None:
    request = _request_label(was.request)
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


# -- the command ---------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("baseline", type=Path, help="cassettes recorded first (a folder, or one cassette file)")
    parser.add_argument("candidate", type=Path, help="cassettes recorded later (a folder, or one cassette file)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the changes as JSON")
    parser.add_argument("--markdown", type=Path, metavar="PATH", help="also write the changes as Markdown")


def check_inputs(baseline: Path, candidate: Path) -> None:
    for label, path in (("baseline", baseline), ("candidate", candidate)):
        if not path.exists():
            raise DriftError(f"the {label} folder {path} does not exist")
    if baseline.is_dir() != candidate.is_dir():
        file, folder = (baseline, candidate) if baseline.is_file() else (candidate, baseline)
        raise DriftError(f"{file} is a file and {folder} a folder: give two folders of cassettes or two cassette files")


def _summary(report: DriftReport) -> str:
    counts = report.counts()
    shown = ", ".join(f"{counts[k]} {k}" for k in CLASSES)
    return (
        f"{len(report.changes)} change(s) ({shown}) in {report.compared} paired exchange(s), "
        f"{report.retried} retried answer(s) left out, {len(report.not_comparable)} not comparable"
    )


def terminal(report: DriftReport) -> str:
    lines: list[str] = []
    cassette = None
    for change in report.changes:
        if change.cassette != cassette:
            cassette = change.cassette
            lines.append(cassette)
        lines.append(change.render())
    if report.not_comparable:
        lines.append("not comparable:")
        lines += [f"  {reason}" for reason in report.not_comparable]
    lines.append(f"{NAME}: {_summary(report)}")
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    return _show(value).replace("|", "\\|")


def markdown(report: DriftReport) -> str:
    lines = ["# Drift between two recordings", "", _summary(report) + ".", ""]
    if report.changes:
        lines += ["| class | cassette | exchange | where | baseline | candidate |", "|---|---|---|---|---|---|"]
        for c in report.changes:
            klass = "**breaking**" if c.klass == "breaking" else c.klass
            lines.append(
                f"| {klass} | `{c.cassette}` | {c.exchange} (`{c.request}`) | `{c.where}` | "
                f"`{_cell(c.baseline)}` | `{_cell(c.candidate)}` |"
            )
        lines.append("")
    if report.not_comparable:
        lines += ["## Not comparable", ""] + [f"- {reason}" for reason in report.not_comparable] + [""]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        check_inputs(args.baseline, args.candidate)
        report = compare(args.baseline, args.candidate)
    except DriftError as error:
        print(f"{NAME}: error: {error}", file=sys.stderr)
        return 2
    outputs = [(args.json, json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n")]
    outputs.append((args.markdown, markdown(report)))
    for path, text in outputs:
        if path is None:
            continue
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as error:
            print(f"{NAME}: error: cannot write {path}: {error.strerror or error}", file=sys.stderr)
            return 2
    sys.stdout.write(terminal(report))
    return 1 if report.changes or report.not_comparable else 0
