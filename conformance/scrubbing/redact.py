"""Every pytest report loses the known secrets before the terminal, JUnit or an xdist controller sees it."""

from __future__ import annotations

import pytest

from conformance.scrubbing.scrubber import Scrubber


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
