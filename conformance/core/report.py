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

# How a test says it was skipped for want of a setting ("not run live: needs SUNCO_…").
NOT_RUN = "not run live"


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
    ) -> None:
        self.config = config
        # Applied to the JSON report as a whole before it is written.
        self.scrub = scrub
        self.recording = recording
        self.kept = kept
        self.cassette_root = cassette_root
        self.tests: dict[str, str] = {}
        self.verdicts: list[dict[str, Any]] = []
        # Tests skipped for want of a setting, by node id: what would let them run.
        self.not_run: dict[str, str] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if "conformance" not in report.keywords:
            return
        # A teardown error must not hide a failed call.
        if (report.when == "call" or report.outcome != "passed") and self.tests.get(report.nodeid) != "failed":
            self.tests[report.nodeid] = "failed" if report.outcome == "failed" else report.outcome
        if report.skipped and isinstance(report.longrepr, tuple):
            reason = str(report.longrepr[2]).removeprefix("Skipped: ")
            if reason.startswith(NOT_RUN):
                self.not_run[report.nodeid] = reason.removeprefix(NOT_RUN).lstrip(": ")
        if report.when == "teardown":
            for name, value in report.user_properties:
                if name == "conformance":
                    verdicts: list[dict[str, Any]] = value  # type: ignore[assignment]
                    self.verdicts.extend({**verdict, "test": report.nodeid} for verdict in verdicts)

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
        undocumented = Counter((v["operation"], v["status"]) for v in self.verdicts if not v.get("documented", True))
        if undocumented:
            shown = ", ".join(f"{op} {status}x{count}" for (op, status), count in sorted(undocumented.items()))
            out.append(f"statuses the documentation does not list (expected by a variant): {shown}")
        by_reason: dict[str, list[str]] = defaultdict(list)
        for nodeid, reason in sorted(self.not_run.items()):
            by_reason[reason].append(nodeid.rsplit("::", 1)[-1])
        for reason, names in sorted(by_reason.items()):
            out.append(f"{NOT_RUN} ({len(names)}), {reason}: {', '.join(names)}")
        outcomes = Counter(self.tests.values())
        out.append(
            f"conformance tests: {outcomes.get('passed', 0)} passed, {outcomes.get('failed', 0)} failed"
            + (f", {outcomes['skipped']} skipped" if outcomes.get("skipped") else "")
        )
        return out

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
            "notRun": self.not_run,
        }

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.tests:
            terminalreporter.write_sep("=", "conformance summary")
            for line in self.lines():
                terminalreporter.write_line(line)
        path = self.config.getoption("--conformance-report")
        if path:
            Path(path).write_text(json.dumps(self.scrub(self.as_json()), indent=2, sort_keys=True), encoding="utf-8")
            terminalreporter.write_line(f"conformance report written to {path}")
