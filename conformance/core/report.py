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
# Outcomes of tests that the server or its rate limit stopped, rather than the API's conformance.
FAULTED = ("server-fault", "rate-limited")


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
        # A teardown error must not hide a failed call; a test the API failed outranks one the server failed.
        if (report.when == "call" or report.outcome != "passed") and self.tests.get(report.nodeid) != "failed":
            outcome: str = report.outcome
            if outcome == "failed":
                outcome = next((str(v) for n, v in report.user_properties if n == "conformance-outcome"), "failed")
            if self.tests.get(report.nodeid) not in FAULTED or outcome == "failed":
                self.tests[report.nodeid] = outcome
        if report.when == "teardown":
            for name, value in report.user_properties:
                if name == "conformance":
                    verdicts: list[dict[str, Any]] = value  # type: ignore[assignment]
                    self.verdicts.extend({**verdict, "test": report.nodeid} for verdict in verdicts)
                elif name == "conformance-note":
                    self.notes.append(str(value))

    def by_operation(self) -> dict[str, dict[str, Any]]:
        """Per operation: exchanges, conformance failures, faults (server or rate limit), statuses."""
        table: dict[str, dict[str, Any]] = defaultdict(
            lambda: {"exchanges": 0, "failed": 0, "faults": 0, "statuses": Counter()}
        )
        for verdict in self.verdicts:
            row = table[verdict["operation"]]
            row["exchanges"] += 1
            if verdict.get("fault"):
                row["faults"] += 1
            elif not verdict["ok"]:
                row["failed"] += 1
            row["statuses"][verdict["status"] or "broken"] += 1
        return dict(sorted(table.items()))

    def faults(self) -> dict[str, Any]:
        """Faults that failed exchanges, by kind and what happened; retried attempts, by what they got."""
        kinds: Counter[str] = Counter(v["fault"] for v in self.verdicts if v.get("fault"))
        what: Counter[str] = Counter(
            f"{v['operation']} {v['status'] or 'broken off'}" for v in self.verdicts if v.get("fault")
        )
        retried: Counter[str] = Counter(got.split(" (")[0] for v in self.verdicts for got in v.get("retried", []))
        return {"kinds": dict(kinds), "exchanges": dict(sorted(what.items())), "retried": dict(sorted(retried.items()))}

    def lines(self) -> list[str]:
        if not self.kept:
            out = ["ran live, nothing recorded (--disable-recording)"]
        else:
            mode = "recorded live into" if self.recording else "replayed offline from"
            out = [f"{mode} {self.cassette_root}"]
        header = f"{'operation':<24}{'exchanges':>10}{'passed':>8}{'failed':>8}{'faults':>8}  statuses"
        out.append(header)
        total = failed = faulted = 0
        for name, row in self.by_operation().items():
            counted = sorted(row["statuses"].items(), key=lambda item: str(item[0]))
            statuses = ", ".join(f"{status}x{count}" for status, count in counted)
            passed = row["exchanges"] - row["failed"] - row["faults"]
            out.append(f"{name:<24}{row['exchanges']:>10}{passed:>8}{row['failed']:>8}{row['faults']:>8}  {statuses}")
            total += row["exchanges"]
            failed += row["failed"]
            faulted += row["faults"]
        out.append(f"{'all operations':<24}{total:>10}{total - failed - faulted:>8}{failed:>8}{faulted:>8}")
        out.extend(self.fault_lines())
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
            + (f", {outcomes['server-fault']} stopped by a server fault" if outcomes.get("server-fault") else "")
            + (f", {outcomes['rate-limited']} stopped by the rate limit" if outcomes.get("rate-limited") else "")
            + (f", {outcomes['skipped']} skipped" if outcomes.get("skipped") else "")
        )
        return out

    def fault_lines(self) -> list[str]:
        found = self.faults()
        out = []
        if found["exchanges"]:
            shown = ", ".join(f"{what}x{count}" for what, count in found["exchanges"].items())
            kinds = found["kinds"]
            out.append(
                f"faults, not verdicts on the contract: {kinds.get('server-fault', 0)} server fault(s), "
                f"{kinds.get('rate-limited', 0)} rate limited: {shown}"
            )
        if found["retried"]:
            shown = ", ".join(f"{what} x{count}" for what, count in found["retried"].items())
            out.append(f"retried attempts (kept in the recordings): {shown}")
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
            "faults": self.faults(),
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
