"""``python -m conformance coverage``: which documented operation/status pairs the cassettes exercise.

The matrix comes from the operation index (operations x the statuses each documents, the vendor's
own and the overlay's corrections told apart); the marks come from the recorded responses, read
through vcrpy's own loader. Statuses recorded that the contract does not document are listed too.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from vcr.persisters.filesystem import FilesystemPersister
from vcr.serializers import yamlserializer

from conformance.contract.routing import Router
from conformance.contract.schemas import SCHEMA_DIR, Contract, shipped
from conformance.tools.reports import Report, write_reports
from conformance.transport.client import recorded_break

PROJECT = Path(__file__).resolve().parents[2]


class CoverageError(Exception):
    """A cassette folder or file that cannot be read; the message is one line."""


@dataclass
class Coverage:
    contract: Contract
    cassettes: int = 0
    exchanges: int = 0
    seen: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    unmatched: Counter[str] = field(default_factory=Counter)
    broken: Counter[str] = field(default_factory=Counter)

    def pairs(self) -> list[tuple[str, str, bool, bool]]:
        """(operation, status, exercised, documented by the vendor) for every documented pair."""
        out = []
        for op_id, op in sorted(self.contract.operations.items()):
            for status in sorted(op.responses):
                out.append((op_id, status, self.seen[op_id][status] > 0, status in op.vendor_statuses))
        return out

    def undocumented(self) -> list[tuple[str, str, int]]:
        return [
            (op_id, status, count)
            for op_id, statuses in sorted(self.seen.items())
            for status, count in sorted(statuses.items())
            if status not in self.contract.operations[op_id].responses
        ]

    def totals(self) -> dict[str, Any]:
        pairs = self.pairs()
        vendor = [p for p in pairs if p[3]]
        added = [p for p in pairs if not p[3]]
        ops = self.contract.operations
        exercised_ops = sorted(op for op in ops if sum(self.seen[op].values()))

        def share(group: list[tuple[str, str, bool, bool]]) -> dict[str, Any]:
            done = sum(1 for p in group if p[2])
            return {
                "exercised": done,
                "documented": len(group),
                "percent": round(100 * done / len(group), 1) if group else 100.0,
            }

        return {
            "operations": {"exercised": len(exercised_ops), "total": len(ops)},
            "pairs": share(pairs),
            "vendorPairs": share(vendor),
            "overlayPairs": share(added),
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "cassettes": self.cassettes,
            "exchanges": self.exchanges,
            "totals": self.totals(),
            "pairs": [
                {"operation": op, "status": status, "exercised": hit, "documentedBy": "vendor" if vendor else "overlay"}
                for op, status, hit, vendor in self.pairs()
            ],
            "undocumented": [{"operation": op, "status": s, "exchanges": n} for op, s, n in self.undocumented()],
            "notExercised": sorted(op for op in self.contract.operations if not sum(self.seen[op].values())),
            "unmatchedRequests": dict(self.unmatched),
            "brokenExchanges": dict(self.broken),
        }


def load_interactions(path: Path) -> tuple[list[Any], list[dict[str, Any]]]:
    try:
        # (requests, responses), or with vcrpy >= 9.4 also the metadata
        loaded = FilesystemPersister.load_cassette(str(path), yamlserializer)
        requests, responses = loaded[0], loaded[1]
    except Exception as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CoverageError(f"{path} cannot be read as a cassette: {first}") from None
    return list(requests), list(responses)


def measure(folder: Path, against: Contract | None = None) -> Coverage:
    if not folder.exists():
        raise CoverageError(f"{folder} does not exist: give the folder of cassettes (default: cassettes/)")
    if not folder.is_dir():
        raise CoverageError(f"{folder} is a file: give the folder of cassettes")
    found = Coverage(against or shipped())
    router = Router(found.contract.operations)
    for path in sorted(folder.rglob("*.yaml")):
        requests, responses = load_interactions(path)
        found.cassettes += 1
        for request, response in zip(requests, responses, strict=True):
            found.exchanges += 1
            op_id = _operation(router, request.method, urlsplit(request.uri).path)
            if op_id is None:
                found.unmatched[f"{request.method} {urlsplit(request.uri).path}"] += 1
                continue
            if recorded_break(response) is not None:
                found.broken[op_id] += 1  # a stand-in for an answer that never came whole: no status
                continue
            found.seen[op_id][str(response["status"]["code"])] += 1
    return found


def _operation(router: Router, method: str, path: str) -> str | None:
    """The operation a recorded request called; the API may sit under a base path (``/sc``)."""
    parts = path.split("/")
    for start in range(len(parts)):
        match = router.match(method, "/" + "/".join(parts[start:]).lstrip("/"))
        if match is not None and match.operation is not None:
            return str(match.operation.operation_id)
    return None


def lines(found: Coverage, folder: Path) -> list[str]:
    totals = found.totals()
    width = max(len(op) for op in found.contract.operations)
    counts = f"{found.cassettes} cassettes, {found.exchanges} exchanges"
    out = [f"coverage of the contract ({SCHEMA_DIR.name}/) by {folder}: {counts}"]
    by_op: dict[str, list[str]] = defaultdict(list)
    for op_id, status, hit, vendor in found.pairs():
        by_op[op_id].append(f"{status}{'+' if hit else '-'}{'' if vendor else '*'}")
    for op_id, marks in by_op.items():
        out.append(f"  {op_id.ljust(width)}  {' '.join(marks)}")
    out.append("  (+ exercised, - not exercised, * a status the overlay adds to the vendor's documentation)")
    ops = totals["operations"]
    out.append(f"operations exercised: {ops['exercised']}/{ops['total']}")
    out += summary_lines(found)
    missing = [op for op in found.contract.operations if not sum(found.seen[op].values())]
    if missing:
        out.append(f"operations not exercised: {', '.join(sorted(missing))}")
    undocumented = found.undocumented()
    if undocumented:
        shown = ", ".join(f"{op} {status}x{n}" for op, status, n in undocumented)
        out.append(f"recorded statuses the contract does not document: {shown}")
    if found.broken:
        shown = ", ".join(f"{op} x{n}" for op, n in sorted(found.broken.items()))
        out.append(f"recorded exchanges the server broke off (no status to count): {shown}")
    return out


def not_exercised(found: Coverage, vendor: bool) -> str:
    """The pairs not exercised, by status: ``429 x66`` for the overlay's, each pair for the vendor's."""
    missed = [(op, status) for op, status, hit, by_vendor in found.pairs() if not hit and by_vendor == vendor]
    if vendor:
        return ", ".join(f"{op} {status}" for op, status in missed)
    return ", ".join(f"{status} x{n}" for status, n in sorted(Counter(status for _, status in missed).items()))


def summary_lines(found: Coverage) -> list[str]:
    """The target first: the pairs the vendor documents; then those the overlay adds, and all."""
    totals = found.totals()
    vendor, added, every = totals["vendorPairs"], totals["overlayPairs"], totals["pairs"]
    out = [f"operation/status pairs the vendor documents, exercised: {share(vendor)}"]
    if vendor["exercised"] < vendor["documented"]:
        out.append(f"  not exercised: {not_exercised(found, vendor=True)}")
    out.append(f"operation/status pairs the overlay adds, exercised: {share(added)}")
    if added["exercised"] < added["documented"]:
        out.append(f"  not exercised, by status: {not_exercised(found, vendor=False)}")
    out.append(f"all documented pairs: {share(every)}")
    return out


def share(counts: dict[str, Any]) -> str:
    return f"{counts['exercised']}/{counts['documented']} ({counts['percent']}%)"


def markdown(found: Coverage, folder: Path) -> str:
    totals = found.totals()
    rows = ["| operation | statuses exercised | statuses not exercised |", "|---|---|---|"]
    by_op: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for op_id, status, hit, vendor in found.pairs():
        by_op[op_id][0 if hit else 1].append(status + ("" if vendor else "\\*"))
    for op_id, (exercised, missed) in by_op.items():
        rows.append(f"| {op_id} | {' '.join(exercised) or '—'} | {' '.join(missed) or '—'} |")
    head = [
        f"## Coverage of {folder}",
        "",
        f"- operations exercised: **{totals['operations']['exercised']}/{totals['operations']['total']}**",
        # Indented lines are details of the line above: nested items.
        *(f"{'  ' if line.startswith(' ') else ''}- {line.strip()}" for line in summary_lines(found)),
        "",
        "Statuses marked \\* are ones the overlay adds to the vendor's documentation.",
        "",
    ]
    undocumented = found.undocumented()
    tail = (
        [
            "",
            "Recorded statuses the contract does not document: "
            + ", ".join(f"{op} {s} ({n})" for op, s, n in undocumented),
        ]
        if undocumented
        else []
    )
    return "\n".join([*head, *rows, *tail]) + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cassette-dir", type=Path, default=PROJECT / "cassettes", metavar="DIR",
                        help="the recordings to measure (default: the shipped cassettes/)")  # fmt: skip
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the matrix as JSON")
    parser.add_argument("--markdown", type=Path, metavar="PATH", help="also write it as Markdown (a CI job summary)")
    parser.add_argument(
        "--min", type=float, default=None, metavar="PERCENT",
        help="exit 1 when fewer of the pairs the vendor documents than this are exercised",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    try:
        found = measure(args.cassette_dir)
        for target in (args.json, args.markdown):
            if target is not None and target.is_dir():
                raise CoverageError(f"{target} is a folder: give a file name to write")
    except CoverageError as error:
        print(f"coverage: error: {error}", file=sys.stderr)
        return 2
    for line in lines(found, args.cassette_dir):
        print(line)
    reports: list[Report] = [
        (args.json, lambda: json.dumps(found.as_json(), indent=2)),
        (args.markdown, lambda: markdown(found, args.cassette_dir)),
    ]
    if not write_reports("coverage", reports, make_folders=True):
        return 2
    vendor = found.totals()["vendorPairs"]["percent"]
    if args.min is not None and vendor < args.min:
        print(f"coverage: {vendor}% of the pairs the vendor documents is below --min {args.min}%")
        return 1
    return 0
