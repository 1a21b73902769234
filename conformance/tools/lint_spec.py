"""``python -m conformance lint-spec SPEC.yaml``: the vendor contract's defects, each with evidence.

Exit status: 0 when there are none, 1 when there are some, 2 when the file cannot be read as an
OpenAPI 3.x document (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from conformance.contract.lint import KINDS, Defect, lint
from conformance.contract.openapi import Document, SpecError, load
from conformance.tools.reports import Report, write_reports


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", type=Path, help="the vendor's OpenAPI 3.x document (one file, local $refs)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the defects as JSON")
    parser.add_argument("--markdown", type=Path, metavar="PATH", help="also write the defects as Markdown")


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _count(defects: list[Defect]) -> str:
    counts = Counter(defect.kind for defect in defects)
    if not defects:
        return "no defects found"
    return f"{len(defects)} defect{'s' if len(defects) != 1 else ''}: " + ", ".join(
        f"{counts[kind]} {kind}" for kind in KINDS if counts[kind]
    )


def _groups(defects: list[Defect]) -> list[tuple[str, str, list[Defect]]]:
    return [
        (kind, heading, [d for d in defects if d.kind == kind])
        for kind, heading in KINDS.items()
        if any(d.kind == kind for d in defects)
    ]


def terminal(defects: list[Defect]) -> str:
    lines: list[str] = []
    for kind, heading, group in _groups(defects):
        lines.append(f"{kind}: {heading} ({len(group)})")
        for defect in group:
            lines.append(f"  {defect.title}")
            lines.append(f"      at {defect.location}")
            lines += [f"      {key}: {_value(value)}" for key, value in defect.evidence.items()]
        lines.append("")
    lines.append(_count(defects))
    return "\n".join(lines) + "\n"


def as_json(document: Document, defects: list[Defect]) -> dict[str, Any]:
    counts = Counter(defect.kind for defect in defects)
    return {
        "spec": {"file": document.name, "version": document.version, "sha256": document.sha256},
        "counts": {kind: counts[kind] for kind in KINDS},
        "defects": [defect.as_json() for defect in defects],
    }


def markdown(document: Document, defects: list[Defect]) -> str:
    lines = [f"# Contract defects in {document.name} ({document.version})", "", _count(defects) + ".", ""]
    for kind, heading, group in _groups(defects):
        lines += [f"## {heading} ({len(group)})", "", f"Kind `{kind}`.", ""]
        for defect in group:
            lines += [f"- {defect.title}", f"  - at `{defect.location}`"]
            lines += [f"  - {key}: `{_value(value)}`" for key, value in defect.evidence.items()]
        lines.append("")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        document = load(args.spec)
        defects = lint(document)
    except SpecError as error:
        print(f"lint-spec: error: {error}", file=sys.stderr)
        return 2
    reports: list[Report] = [
        (args.json, lambda: json.dumps(as_json(document, defects), indent=2, ensure_ascii=False) + "\n"),
        (args.markdown, lambda: markdown(document, defects)),
    ]
    if not write_reports("lint-spec", reports):
        return 2
    sys.stdout.write(terminal(defects))
    return 1 if defects else 0
