"""``python -m conformance drift``: compare two recordings of the same variants, field by field.

Record a baseline, then record again later (after an API upgrade, say) with the same variants
(``--variants-from BASELINE``), then compare. Exchanges are paired by what they are: the pinned
variant and operation each belongs to (kept in the cassette's metadata), and their order among
exchanges of that same variant and operation; an attempt the client retried (a 429, a 5xx or a
broken-off idempotent request) is left out. Cassettes
recorded before that metadata existed are paired by request instead. Values that differ between
any two recordings by nature (record ids, hosts, query order) are normalised in requests first.
Values the server chooses (ids, timestamps, secrets, cursors: see ``_drift_volatile``) are compared
by shape, not by value, and counted apart as volatile.

Each change is classed for a client: ``breaking`` (a status, a media type, a field's value or type,
a field or an exchange gone), ``additive`` (a field or an exchange that appeared) or ``cosmetic``
(prose such as an error title, a media type parameter).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from conformance.tools._drift_compare import CLASSES, Change, DriftReport, compare
from conformance.tools._drift_pairing import DriftError, final_attempts, load_cassette
from conformance.tools._drift_render import NAME, markdown, terminal
from conformance.tools.reports import Report, write_reports

# Pairing lives in _drift_pairing, comparing in _drift_compare, output in _drift_render.
__all__ = [
    "CLASSES",
    "NAME",
    "Change",
    "DriftError",
    "DriftReport",
    "add_arguments",
    "check_inputs",
    "compare",
    "final_attempts",
    "load_cassette",
    "markdown",
    "run",
    "terminal",
]


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


def run(args: argparse.Namespace) -> int:
    try:
        check_inputs(args.baseline, args.candidate)
        report = compare(args.baseline, args.candidate)
    except DriftError as error:
        print(f"{NAME}: error: {error}", file=sys.stderr)
        return 2
    reports: list[Report] = [
        (args.json, lambda: json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n"),
        (args.markdown, lambda: markdown(report)),
    ]
    if not write_reports(NAME, reports):
        return 2
    sys.stdout.write(terminal(report))
    return 1 if report.changes or report.not_comparable else 0
