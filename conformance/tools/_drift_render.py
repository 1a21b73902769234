"""Drift's output: the terminal listing, the Markdown table (the JSON is the report's own ``as_json``)."""

from __future__ import annotations

from typing import Any

from conformance.tools._drift_compare import CLASSES, DriftReport, show

NAME = "drift"


def _summary(report: DriftReport) -> str:
    counts = report.counts()
    shown = ", ".join(f"{counts[k]} {k}" for k in CLASSES)
    return (
        f"{len(report.changes)} change(s) ({shown}) in {report.compared} paired exchange(s), "
        f"{report.volatile.total()} volatile value(s) compared by shape only, "
        f"{report.retried} retried answer(s) left out, {len(report.not_comparable)} not comparable"
    )


def _volatile_fields(report: DriftReport) -> str:
    """The server-chosen fields that differed, most frequent first: ``createdAt 67, id 37``."""
    return ", ".join(f"{name} {count}" for name, count in report.volatile.most_common())


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
    if report.volatile:
        lines.append(f"volatile (values the server chose, same shape; not drift): {_volatile_fields(report)}")
    lines.append(f"{NAME}: {_summary(report)}")
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    return show(value).replace("|", "\\|")


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
    if report.volatile:
        lines += [
            "## Volatile values",
            "",
            "Values the server chose, with the same shape in both recordings (not drift):",
            "",
        ]
        lines += ["| field | values that differed |", "|---|---|"]
        lines += [f"| `{name}` | {count} |" for name, count in report.volatile.most_common()] + [""]
    return "\n".join(lines)
