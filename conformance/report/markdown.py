"""The summary as Markdown (a CI job summary), rendered from the scrubbed JSON report."""

from __future__ import annotations

import json
from typing import Any


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return " ".join(str(text).split()).replace("|", "\\|")


def markdown(data: dict[str, Any], outcome: str) -> str:
    """The summary as Markdown, from the (scrubbed) JSON report: a CI job summary."""
    mode = {"record": "recorded live into", "live": "ran live against", "replay": "replayed offline from"}[data["mode"]]
    lines = ["# Conformance summary", "", f"{outcome}; {mode} `{data['cassettes']}`.", ""]
    lines += ["| operation | exchanges | passed | failed | faults | statuses |", "|---|---:|---:|---:|---:|---|"]
    for name, row in data["operations"].items():
        statuses = ", ".join(f"{status}x{count}" for status, count in sorted(row["statuses"].items()))
        faults = row.get("faults", 0)
        passed = row["exchanges"] - row["failed"] - faults
        lines.append(f"| {name} | {row['exchanges']} | {passed} | {row['failed']} | {faults} | {statuses} |")
    said = [*data.get("undocumentedStatuses", []), *data.get("exercised", [])]
    if said:
        lines += [""] + [f"- {_cell(line)}" for line in said]
    failures = [(v, f) for v in data["verdicts"] if not v["ok"] for f in v.get("failures") or []]
    if failures:
        lines += ["", "## Failures", ""]
        lines.append("| test | operation | status | pointer | rule | expected | actual | cassette | next step |")
        lines.append("|---|---|---:|---|---|---|---|---|---|")
        for verdict, failure in failures:
            lines.append(
                f"| `{_cell(verdict['test'])}` | {_cell(failure['operation'])} | {failure.get('status') or ''} | "
                f"`{_cell(failure.get('pointer') or '')}` | {_cell(failure['rule'])} | "
                f"{_cell(failure.get('expected'))} | {_cell(failure.get('actual'))} | "
                f"`{_cell(failure.get('cassette') or '')}` | {_cell(failure.get('next_step') or '')} |"
            )
    faults = data.get("faults") or {}
    if faults.get("exchanges"):
        lines += ["", "## Faults (not verdicts on the contract)", ""]
        lines += [f"- {_cell(what)}: {count}" for what, count in faults["exchanges"].items()]
    fields = data.get("undocumentedFields") or []
    if fields:
        lines += ["", "## Fields the contract does not declare (never a failure)", ""]
        lines += ["| operation or event | field | example pointer | exchanges |", "|---|---|---|---:|"]
        lines += [
            f"| {_cell(row['in'])} | `{_cell(row['field'])}` | `{_cell(row['example'])}` | {row['exchanges']} |"
            for row in fields
        ]
    if data.get("notRun"):
        lines += ["", "## Skipped", "", "| test | why |", "|---|---|"]
        lines += [f"| `{_cell(test)}` | {_cell(reason)} |" for test, reason in sorted(data["notRun"].items())]
    recordings = data["recordings"]
    if recordings["notConforming"]:
        lines += ["", "## Recordings that no longer conform", ""]
        for cassette, reasons in recordings["notConforming"].items():
            lines.append(f"- `{cassette}`")
            lines += [f"  - {_cell(reason)}" for reason in reasons]
    notes = []
    if recordings["oldest"]:
        oldest = recordings["oldest"]
        notes.append(f"Oldest cassette: `{oldest['cassette']}`, recorded {oldest['recordedAt']} at {oldest['host']}.")
    if recordings["undated"]:
        notes.append(f"{len(recordings['undated'])} cassette(s) do not say when they were recorded.")
    if recordings["otherImport"]:
        shown = ", ".join(
            f"`{p['cassette']}`" + (f" ({', '.join(p['changed'])})" if p.get("changed") else "")
            for p in recordings["otherImport"]
        )
        notes.append(f"Recorded under earlier schemas of the operations they call: {shown}.")
    if recordings["stale"]:
        shown = ", ".join(f"`{c}`" for c in recordings["stale"])
        notes.append(f"Older than --max-cassette-age {recordings['maxAgeDays']:g} days: {shown}.")
    if notes:
        lines += ["", "## Recordings", ""] + [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"
