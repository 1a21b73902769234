"""``python -m conformance spec-diff``: what changed between two versions of the vendor contract, for a client.

``spec-diff OLD.yaml NEW.yaml`` imports both and compares them; ``spec-diff NEW.yaml --against
schemas/`` compares an import of NEW (with the project's overlay, minus the actions that no longer
apply, which are reported) with what the project imported. Exit status: 0 when nothing breaking
changed, 1 when something did, 2 for a usage or input error (one line on stderr).

Each change names the operations it reaches and, from the cassettes' notes (``--cassettes``, by
default ``cassettes/``), the cassettes that call them; the report ends with the cassettes to
re-record and the command that does it.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from conformance.contract import overlay as overlays
from conformance.contract.diff import (
    CLASSES,
    WEBHOOK,
    Change,
    SpecDiff,
    compare,
    import_document,
    side_of_folder,
    side_of_import,
)
from conformance.contract.openapi import SpecError, load
from conformance.tools import exercised
from conformance.tools.reports import Report, write_reports

NAME = "spec-diff"
DEFAULT_OVERLAY = "overlay.yaml"
DEFAULT_CASSETTES = Path("cassettes")
FORMS = "give OLD.yaml NEW.yaml, or NEW.yaml --against DIR"
SECRETS = "SUNCO_API_URL=… SUNCO_APP_ID=… SUNCO_KEY_ID=… SUNCO_KEY_SECRET=…"


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
    parser.add_argument(
        "--cassettes",
        type=Path,
        metavar="DIR",
        default=None,
        help=f"the cassettes whose exchanges say which tests call which operations (default: {DEFAULT_CASSETTES}/ "
        "when it exists); 'none' names none",
    )
    parser.add_argument(
        "--suite",
        metavar="DIR",
        default=exercised.SUITES,
        help=f"the folder of the suite modules, for the re-record command (default: {exercised.SUITES})",
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
        imported, skipped = import_document(load(args.specs[0]), overlay)
        findings = [item.message for item in skipped]
        result = compare(old, side_of_import(imported, str(args.specs[0])), findings, skipped_new=skipped)
    else:
        old_import, skipped_old = import_document(load(args.specs[0]), overlay)
        new_import, skipped_new = import_document(load(args.specs[1]), overlay)
        old, new = side_of_import(old_import, str(args.specs[0])), side_of_import(new_import, str(args.specs[1]))
        findings = [f"old spec: {item.message}" for item in skipped_old]
        findings += [f"new spec: {item.message}" for item in skipped_new]
        result = compare(old, new, findings, skipped_old=skipped_old, skipped_new=skipped_new)
    folder = _cassettes(args)
    if folder is not None:
        found = exercised.by_operation(folder)
        # A cassette that checked deliveries depends on the webhook's payload, which changes name "webhook <id>".
        hooks = {*(result.old.contract.index.get("webhooks") or {}), *(result.new.contract.index.get("webhooks") or {})}
        result.exercised = {**found, **{WEBHOOK + op: paths for op, paths in found.items() if op in hooks}}
    return result


def _cassettes(args: argparse.Namespace) -> Path | None:
    chosen = args.cassettes
    if chosen is not None and str(chosen) == "none":
        return None
    if chosen is None:
        return DEFAULT_CASSETTES if DEFAULT_CASSETTES.is_dir() else None
    if not chosen.is_dir():
        raise UsageError(f"--cassettes {chosen} is not a folder: give the cassettes folder, or none")
    return Path(chosen)


def record_command(result: SpecDiff, suites: str = exercised.SUITES) -> str:
    """The command that re-records the tests of the cassettes to re-record, against the upgraded API."""
    tests = sorted({exercised.node_id(cassette, suites) for cassette in result.to_record()})
    return f"{SECRETS} " + shlex.join(
        [
            "pytest",
            *tests,
            "--schema-dir",
            "schemas-next",
            "--record-mode=rewrite",
            "--cassette-dir",
            "recordings/after",
            "--variants-from",
            "cassettes",
        ]
    )


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


def _reach(result: SpecDiff, change: Change) -> list[str]:
    """What a change reaches, beyond its subject: operations, cassettes, the overlay action it comes from."""
    notes = []
    others = [op for op in change.operations if op != change.operation]
    if others:
        notes.append("reaches " + ", ".join(others))
    cassettes = result.cassettes_of(change)
    if cassettes:
        notes.append(f"{len(cassettes)} cassette{'s' if len(cassettes) != 1 else ''}")
    notes += [f"from {note}" for note in change.overlay]
    return notes


def terminal(result: SpecDiff, suites: str = exercised.SUITES) -> str:
    lines = [f"{NAME}: {_title(result)}"]
    for operation, changes in result.by_operation().items():
        lines += ["", operation]
        width = max(len(change.kind) for change in changes)
        for c in changes:
            lines.append(f"  {c.klass:<9} {c.kind:<{width}}  {_where(c)}: {value(c.before)} -> {value(c.after)}")
            lines += [f"  {'':<9} {'':<{width}}  ({note})" for note in _reach(result, c)]
    if result.findings:
        lines += ["", "overlay actions that no longer apply (compared without them):"]
        lines += [f"  {finding}" for finding in result.findings]
    lines += ["", _count(result)]
    lines += _record_lines(result, suites)
    return "\n".join(lines) + "\n"


def _record_lines(result: SpecDiff, suites: str) -> list[str]:
    cassettes = result.to_record()
    if not result.exercised:
        return ["no cassettes read (--cassettes): the tests to re-record are not named"] if result.changes else []
    if not cassettes:
        return ["no cassette calls an operation a breaking change reaches: nothing to re-record"]
    lines = ["", f"cassettes to re-record ({len(cassettes)}):"]
    lines += [f"  {cassette}" for cassette in cassettes]
    lines += ["re-record them against the upgraded API with:", f"  {record_command(result, suites)}"]
    return lines


def as_json(result: SpecDiff, suites: str = exercised.SUITES) -> dict[str, Any]:
    """The JSON report: the diff, each change's tests, and the command that re-records what must be."""
    data = result.as_json()
    for change in data["changes"]:
        change["tests"] = sorted({exercised.node_id(cassette, suites) for cassette in change["cassettes"]})
    data["reRecordCommand"] = record_command(result, suites) if data["reRecord"] else None
    return data


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(result: SpecDiff, suites: str = exercised.SUITES) -> str:
    lines = [f"# Contract changes: {_cell(_title(result))}", "", _count(result) + ".", ""]
    for operation, changes in result.by_operation().items():
        lines += [f"## {operation}", "", "| class | change | where | pointer | before | after | reaches |"]
        lines.append("|---|---|---|---|---|---|---|")
        for c in changes:
            klass = "**breaking**" if c.klass == "breaking" else c.klass
            pointer = f"`{_cell(c.pointer)}`" if c.pointer else ""
            before, after = _cell(value(c.before)), _cell(value(c.after))
            reach = _cell("; ".join(_reach(result, c)))
            lines.append(f"| {klass} | {c.kind} | {_cell(c.where)} | {pointer} | `{before}` | `{after}` | {reach} |")
        lines.append("")
    if result.findings:
        lines += ["## Overlay actions that no longer apply", ""]
        lines += [f"- {_cell(finding)}" for finding in result.findings]
        lines.append("")
    cassettes = result.to_record()
    if cassettes:
        lines += [f"## Cassettes to re-record ({len(cassettes)})", ""]
        lines += [f"- `{cassette}`" for cassette in cassettes]
        lines += ["", "```sh", record_command(result, suites), "```", ""]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        result = diff(args)
    except (SpecError, UsageError) as error:
        print(f"{NAME}: error: {error}", file=sys.stderr)
        return 2
    reports: list[Report] = [
        (args.json, lambda: json.dumps(as_json(result, args.suite), indent=2, ensure_ascii=False) + "\n"),
        (args.markdown, lambda: markdown(result, args.suite)),
    ]
    if not write_reports(NAME, reports):
        return 2
    sys.stdout.write(terminal(result, args.suite))
    return 1 if result.breaking else 0
