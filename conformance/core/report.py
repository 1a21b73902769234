"""The end-of-run summary: what each operation answered, and what failed.

Verdicts travel on ``report.user_properties``, so the summary is complete under pytest-xdist too.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance.core.scrub import Scrubber
from conformance.spec.schemas import contract

MAX_LISTED = 12


class Summary:
    """Registered as a plugin object; collects verdicts as test reports arrive."""

    def __init__(
        self,
        config: pytest.Config,
        *,
        recording: bool,
        cassette_root: Path,
        kept: bool = True,
        scrub: Callable[[Any], Any] = lambda value: value,
        notes: list[str] | None = None,
    ) -> None:
        self.config = config
        # Applied to the JSON report as a whole before it is written.
        self.scrub = scrub
        # What happened to cassette files (kept, removed, left over), one line each.
        self.notes: list[str] = list(notes or [])
        self.recording = recording
        self.kept = kept
        self.cassette_root = cassette_root
        self.tests: dict[str, str] = {}
        self.verdicts: list[dict[str, Any]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if "conformance" not in report.keywords:
            return
        # A teardown error must not hide a failed call.
        if (report.when == "call" or report.outcome != "passed") and self.tests.get(report.nodeid) != "failed":
            self.tests[report.nodeid] = "failed" if report.outcome == "failed" else report.outcome
        if report.when == "teardown":
            for name, value in report.user_properties:
                if name == "conformance":
                    verdicts: list[dict[str, Any]] = value  # type: ignore[assignment]
                    self.verdicts.extend({**verdict, "test": report.nodeid} for verdict in verdicts)
                elif name == "conformance-note":
                    self.notes.append(str(value))

    def by_operation(self) -> dict[str, dict[str, Any]]:
        table: dict[str, dict[str, Any]] = defaultdict(lambda: {"exchanges": 0, "failed": 0, "statuses": Counter()})
        for verdict in self.verdicts:
            row = table[verdict["operation"]]
            row["exchanges"] += 1
            row["failed"] += 0 if verdict["ok"] else 1
            row["statuses"][verdict["status"]] += 1
        return dict(sorted(table.items()))

    def lines(self) -> list[str]:
        if not self.kept:
            out = ["ran live, nothing recorded (--disable-recording)"]
        else:
            mode = "recorded live into" if self.recording else "replayed offline from"
            out = [f"{mode} {self.cassette_root}"]
        header = f"{'operation':<24}{'exchanges':>10}{'passed':>8}{'failed':>8}  statuses"
        out.append(header)
        total = failed = 0
        for name, row in self.by_operation().items():
            statuses = ", ".join(f"{status}x{count}" for status, count in sorted(row["statuses"].items()))
            passed = row["exchanges"] - row["failed"]
            out.append(f"{name:<24}{row['exchanges']:>10}{passed:>8}{row['failed']:>8}  {statuses}")
            total += row["exchanges"]
            failed += row["failed"]
        out.append(f"{'all operations':<24}{total:>10}{total - failed:>8}{failed:>8}")
        undocumented = [v for v in self.verdicts if not v.get("documented", True)]
        for wanted, label in ((True, "expected by the test"), (False, "that nothing expected")):
            counts = Counter((v["operation"], v["status"]) for v in undocumented if v.get("expected", False) == wanted)
            if counts:
                shown = ", ".join(f"{op} {status}x{count}" for (op, status), count in sorted(counts.items()))
                out.append(f"statuses the documentation does not list, {label}: {shown}")
        out.extend(f"cassettes: {note}" for note in self.notes)
        out.extend(self.not_exercised())
        outcomes = Counter(self.tests.values())
        out.append(
            f"conformance tests: {outcomes.get('passed', 0)} passed, {outcomes.get('failed', 0)} failed"
            + (f", {outcomes['skipped']} skipped" if outcomes.get("skipped") else "")
        )
        return out

    def not_exercised(self) -> list[str]:
        """The contract's operations no exchange of this run called (all but a few on a partial run)."""
        called = {verdict["operation"] for verdict in self.verdicts}
        missing = sorted(set(contract().operations) - called)
        if not missing:
            return [f"every one of the contract's {len(contract().operations)} operations was exercised"]
        shown = ", ".join(missing[:MAX_LISTED]) + (
            f", … {len(missing) - MAX_LISTED} more" if len(missing) > MAX_LISTED else ""
        )
        return [f"operations this run did not exercise ({len(missing)} of {len(contract().operations)}): {shown}"]

    def as_json(self) -> dict[str, Any]:
        return {
            "mode": ("record" if self.kept else "live") if self.recording else "replay",
            "cassettes": str(self.cassette_root),
            "tests": self.tests,
            "operations": {
                name: {**row, "statuses": {str(k): v for k, v in row["statuses"].items()}}
                for name, row in self.by_operation().items()
            },
            "verdicts": self.verdicts,
            "notes": self.notes,
        }

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.tests or self.notes:
            terminalreporter.write_sep("=", "conformance summary")
            for line in self.lines():
                terminalreporter.write_line(line)
        path = self.config.getoption("--conformance-report")
        if path:
            Path(path).write_text(json.dumps(self.scrub(self.as_json()), indent=2, sort_keys=True), encoding="utf-8")
            terminalreporter.write_line(f"conformance report written to {path}")


class ReportScrubber:
    """Scrubs each report before the terminal, JUnit, the summary or an xdist controller sees it."""

    def __init__(self, scrubber: Scrubber) -> None:
        self.scrubber = scrubber

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        scrub_report(report, self.scrubber)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        scrub_report(report, self.scrubber)


def scrub_report(report: pytest.TestReport | pytest.CollectReport, scrubber: Scrubber) -> None:
    """Failure text, tracebacks, captured output and properties lose every known secret."""
    if not scrubber.values:
        return
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # a skip: (path, line, reason)
        report.longrepr = (longrepr[0], longrepr[1], scrubber.text(longrepr[2]))
    elif longrepr is not None:
        text = str(longrepr)
        cleaned = scrubber.text(text)
        # Kept as pytest made it (colours and all) unless it held a secret.
        if cleaned != text:
            report.longrepr = cleaned
    report.sections = [(title, scrubber.text(content)) for title, content in report.sections]
    if isinstance(report, pytest.TestReport):
        report.user_properties = [(name, scrubber.report_value(value)) for name, value in report.user_properties]
