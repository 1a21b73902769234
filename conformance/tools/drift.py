"""``python -m conformance drift``: compare two recordings of the same variants, field by field.

Record a baseline, record again later (after an API upgrade, say) with the same
``--variant-seed``, then compare. Exchanges are paired in order within each cassette, each by its
last attempt (retried attempts are left out); values that differ between any two recordings by
nature (record ids, hosts, dates) are normalised first.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from conformance.core.cassettes import CorruptCassette, load_file
from conformance.core.client import IDEMPOTENT, recorded_break, retryable
from conformance.core.explain import json_diff
from conformance.core.recording import canonical_body
from conformance.pointer import MISSING

_ID = re.compile(r"\b[0-9a-f]{24}\b")
_ORIGIN = re.compile(r"https?://[^/\s\"]+")


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
    exchange: int
    request: str
    where: str
    baseline: Any
    candidate: Any

    def render(self) -> str:
        return (
            f"{self.cassette} #{self.exchange} {self.request}\n"
            f"    {self.where}: {_show(self.baseline)} -> {_show(self.candidate)}"
        )


@dataclass
class DriftReport:
    compared: int = 0
    # Retried attempts left out of the pairing (a 429, a 5xx or a broken-off GET before its retry).
    retried: int = 0
    changes: list[Change] = field(default_factory=list)
    not_comparable: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            return "(absent)" if value is MISSING else value

        changes = [{**asdict(c), "baseline": plain(c.baseline), "candidate": plain(c.candidate)} for c in self.changes]
        return {
            "compared": self.compared,
            "retried": self.retried,
            "changes": changes,
            "notComparable": self.not_comparable,
        }


def _show(value: Any) -> str:
    return "(absent)" if value is MISSING else json.dumps(value, ensure_ascii=False)[:120]


def _load(path: Path) -> list[dict[str, Any]]:
    """A cassette's interactions; a damaged file is CorruptCassette, an error of the run, never drift."""
    interactions: list[dict[str, Any]] = load_file(path)["interactions"]
    return interactions


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
    return f"{request['method']} {normalise(request['uri'])}"


def _request_shape(request: dict[str, Any]) -> tuple[str, str]:
    return _request_label(request), normalise(canonical_body(request.get("body")))


def _body(response: dict[str, Any]) -> Any:
    broken = recorded_break(response)
    if broken is not None:
        return f"(no whole answer: {broken.kind})"
    text = response.get("body", {}).get("string") or ""
    try:
        return _normalise_json(json.loads(text))
    except ValueError:
        return normalise(text)


def compare_cassette(
    name: str, baseline: list[dict[str, Any]], candidate: list[dict[str, Any]], report: DriftReport
) -> None:
    baseline, left_out = final_attempts(baseline)
    candidate, more = final_attempts(candidate)
    report.retried += left_out + more
    if [_request_shape(i["request"]) for i in baseline] != [_request_shape(i["request"]) for i in candidate]:
        report.not_comparable.append(
            f"{name}: the two recordings sent different requests (record both "
            "with the same --variant-seed and Hypothesis version)"
        )
        return
    for number, (old, new) in enumerate(zip(baseline, candidate, strict=True), start=1):
        report.compared += 1
        label = _request_label(old["request"])
        old_status, new_status = old["response"]["status"]["code"], new["response"]["status"]["code"]
        if old_status != new_status:
            report.changes.append(Change(name, number, label, "status", old_status, new_status))
        old_type = (old["response"].get("headers", {}).get("Content-Type") or [""])[0]
        new_type = (new["response"].get("headers", {}).get("Content-Type") or [""])[0]
        if old_type != new_type:
            report.changes.append(Change(name, number, label, "Content-Type", old_type, new_type))
        for pointer, was, now in json_diff(_body(old["response"]), _body(new["response"])):
            report.changes.append(Change(name, number, label, f"body {pointer or '/'}", was, now))


def compare(baseline: Path, candidate: Path) -> DriftReport:
    report = DriftReport()
    old = {path.relative_to(baseline): path for path in baseline.rglob("*.yaml")}
    new = {path.relative_to(candidate): path for path in candidate.rglob("*.yaml")}
    for name in sorted(old.keys() - new.keys()):
        report.not_comparable.append(f"{name}: only in the baseline")
    for name in sorted(new.keys() - old.keys()):
        report.not_comparable.append(f"{name}: only in the candidate")
    for name in sorted(old.keys() & new.keys()):
        compare_cassette(str(name), _load(old[name]), _load(new[name]), report)
    return report


def _rerecord(path: Path, *folders: Path) -> str:
    """The command that records the test whose cassette ``path`` is, into the folder it was read from."""
    root = next((folder for folder in folders if path.is_relative_to(folder)), path.parent.parent)
    test = f"conformance/suites/{path.parent.name}.py::{path.stem}"
    return f"SUNCO_API_URL=… SUNCO_APP_ID=… SUNCO_KEY_ID=… SUNCO_KEY_SECRET=… pytest {test} --record-mode=rewrite " + (
        f"--cassette-dir={root}"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("baseline", type=Path, help="folder of cassettes recorded first")
    parser.add_argument("candidate", type=Path, help="folder of cassettes recorded later")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the changes as JSON")


def run(args: argparse.Namespace) -> int:
    for label, folder in (("baseline", args.baseline), ("candidate", args.candidate)):
        if not folder.is_dir():
            print(f"drift: error: the {label} folder {folder} does not exist", file=sys.stderr)
            return 2
    try:
        report = compare(args.baseline, args.candidate)
    except CorruptCassette as error:
        print(f"drift: error: {error.describe(_rerecord(error.path, args.baseline, args.candidate))}", file=sys.stderr)
        return 2
    for change in report.changes:
        print(change.render())
    for reason in report.not_comparable:
        print(f"not compared: {reason}")
    print(
        f"drift: {len(report.changes)} change(s) in {report.compared} paired exchange(s), "
        f"{len(report.not_comparable)} cassette(s) not comparable"
        + (f", {report.retried} retried attempt(s) left out" if report.retried else "")
    )
    if args.json:
        args.json.write_text(json.dumps(report.as_json(), indent=2), encoding="utf-8")
    return 1 if report.changes or report.not_comparable else 0
