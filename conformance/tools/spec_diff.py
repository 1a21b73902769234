"""``python -m conformance spec-diff``: what changed between two versions of the vendor contract, for a client.

``spec-diff OLD.yaml NEW.yaml`` imports both and compares them; ``spec-diff NEW.yaml --against
schemas/`` compares an import of NEW (with the project's overlay, minus the actions that no longer
apply, which are reported) with what the project imported. Exit status: 0 when nothing breaking
changed, 1 when something did, 2 for a usage or input error (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from conformance.spec import overlay as overlays
from conformance.spec.diff import CLASSES, Change, SpecDiff, compare, import_document, side_of_folder, side_of_import
from conformance.spec.openapi import SpecError, load
from conformance.tools.reports import Report, write_reports

NAME = "spec-diff"
DEFAULT_OVERLAY = "overlay.yaml"
FORMS = "give OLD.yaml NEW.yaml, or NEW.yaml --against DIR"


class UsageError(Exception):
    pass


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("specs", nargs="+", type=Path, metavar="SPEC", help="OLD.yaml NEW.yaml, or NEW.yaml")
    parser.add_argument(
        "--against", type=Path, metavar="DIR", help="compare NEW.yaml with this imported folder (e.g. schemas/)"
    )
    parser.add_argument(
        "--overlay",
        metavar="PATH",
        default=None,
        help=f"corrections to import the spec(s) with (default: DIR/{DEFAULT_OVERLAY} with --against, "
        "else none); 'none' applies none",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the changes as JSON")
    parser.add_argument("--markdown", type=Path, metavar="PATH", help="also write the changes as Markdown")


def _overlay(args: argparse.Namespace) -> overlays.Overlay | None:
    chosen = args.overlay
    if chosen is None and args.against is not None and (args.against / DEFAULT_OVERLAY).is_file():
        chosen = args.against / DEFAULT_OVERLAY
    if chosen is None or str(chosen) == "none":
        return None
    return overlays.load(chosen)


def diff(args: argparse.Namespace) -> SpecDiff:
    count = len(args.specs)
    if (args.against is None and count != 2) or (args.against is not None and count != 1):
        against = " with --against" if args.against is not None else ""
        raise UsageError(f"{FORMS}; got {count} spec file(s){against}")
    overlay = _overlay(args)
    if args.against is not None:
        old = side_of_folder(args.against)
        imported, findings = import_document(load(args.specs[0]), overlay)
        return compare(old, side_of_import(imported, str(args.specs[0])), findings)
    old_import, _ = import_document(load(args.specs[0]), overlay)
    new_import, findings = import_document(load(args.specs[1]), overlay)
    old, new = side_of_import(old_import, str(args.specs[0])), side_of_import(new_import, str(args.specs[1]))
    return compare(old, new, findings)


def value(found: Any) -> str:
    return "(none)" if found is None else json.dumps(found, ensure_ascii=False, separators=(", ", ": "))


def _count(result: SpecDiff) -> str:
    counts = result.counts()
    if not result.changes:
        return "no changes"
    total = len(result.changes)
    return f"{total} change{'s' if total != 1 else ''}: " + ", ".join(f"{counts[k]} {k}" for k in CLASSES)


def _title(result: SpecDiff) -> str:
    old, new = result.old, result.new
    return f"{old.label} ({old.version or 'no version'}) -> {new.label} ({new.version or 'no version'})"


def _where(change: Change) -> str:
    return change.where + (f" {change.pointer}" if change.pointer else "")


def terminal(result: SpecDiff) -> str:
    lines = [f"{NAME}: {_title(result)}"]
    for operation, changes in result.by_operation().items():
        lines += ["", operation]
        width = max(len(change.kind) for change in changes)
        lines += [
            f"  {c.klass:<9} {c.kind:<{width}}  {_where(c)}: {value(c.before)} -> {value(c.after)}" for c in changes
        ]
    if result.findings:
        lines += ["", "overlay actions that no longer apply to the new spec:"]
        lines += [f"  {finding}" for finding in result.findings]
    lines += ["", _count(result)]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(result: SpecDiff) -> str:
    lines = [f"# Contract changes: {_cell(_title(result))}", "", _count(result) + ".", ""]
    for operation, changes in result.by_operation().items():
        lines += [f"## {operation}", "", "| class | change | where | pointer | before | after |"]
        lines.append("|---|---|---|---|---|---|")
        for c in changes:
            klass = "**breaking**" if c.klass == "breaking" else c.klass
            pointer = f"`{_cell(c.pointer)}`" if c.pointer else ""
            before, after = _cell(value(c.before)), _cell(value(c.after))
            lines.append(f"| {klass} | {c.kind} | {_cell(c.where)} | {pointer} | `{before}` | `{after}` |")
        lines.append("")
    if result.findings:
        lines += ["## Overlay actions that no longer apply", ""]
        lines += [f"- {_cell(finding)}" for finding in result.findings]
        lines.append("")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        result = diff(args)
    except (SpecError, UsageError) as error:
        print(f"{NAME}: error: {error}", file=sys.stderr)
        return 2
    reports: list[Report] = [
        (args.json, lambda: json.dumps(result.as_json(), indent=2, ensure_ascii=False) + "\n"),
        (args.markdown, lambda: markdown(result)),
    ]
    if not write_reports(NAME, reports):
        return 2
    sys.stdout.write(terminal(result))
    return 1 if result.breaking else 0
