"""The end-of-run summary: what each operation answered, what failed, and how old the recordings are.

Verdicts and each cassette's provenance travel on ``report.user_properties`` as JSON text, so the
summary is complete under pytest-xdist too, and JUnit readers get JSON. Everything written (the
terminal, ``--conformance-report`` JSON, ``--conformance-markdown``) is scrubbed first.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance.cassettes.provenance import Provenance
from conformance.checks.undocumented import shown
from conformance.contract.schemas import Contract, shipped
from conformance.report.markdown import markdown

VERDICTS = "conformance"
RECORDING = "conformance-recording"
MAX_REASONS = 8
MAX_LISTED = 12
# Outcomes of tests that the server or its rate limit stopped, rather than the API's conformance.
FAULTED = ("server-fault", "rate-limited")
# The heading of the summary's list of fields the contract does not declare (checks/undocumented.py).
UNDOCUMENTED_FIELDS = "fields the contract does not declare"


def _parse(value: object) -> Any:
    """A property as the fixture wrote it (JSON text), or as older code did (a structure)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def shown_path(path: str) -> str:
    """A path under the working folder relative to it (as a user would type it), any other as it is."""
    try:
        return Path(path).resolve().relative_to(Path.cwd()).as_posix()
    except (ValueError, OSError):
        return path


def _why_outdated(recorded: Provenance, contract: Contract) -> str:
    """Which of its operations changed; for a cassette without schema hashes, the import it was made under."""
    changed = recorded.changed(contract)
    if changed is None:
        return f"import {recorded.import_hash[:12]}, spec {recorded.spec_version or '?'}"
    more = f", … {len(changed) - MAX_LISTED} more" if len(changed) > MAX_LISTED else ""
    return f"changed: {', '.join(changed[:MAX_LISTED])}{more}"


TESTED_NOTHING = (
    "a live run where every conformance test was skipped tested nothing, so it fails: give the settings the "
    "skip reasons above name, or select tests the target can run"
)


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
        scrub_text: Callable[[str], str] = lambda text: text,
        max_age: float | None = None,
        notes: list[str] | None = None,
        contract: Contract | None = None,
    ) -> None:
        self.config = config
        # The contract the run checked against (the plugin's --schema-dir, else the shipped one).
        self.contract = contract or shipped()
        # Applied to the JSON report as a whole before it is written, and to text.
        self.scrub = scrub
        # What happened to cassette files (kept, removed, left over), one line each.
        self.notes: list[str] = list(notes or [])
        self.scrub_text = scrub_text
        self.recording = recording
        self.kept = kept
        self.cassette_root = cassette_root
        self.max_age = max_age
        self.tests: dict[str, str] = {}
        self.verdicts: list[dict[str, Any]] = []
        self.recordings: dict[str, Provenance] = {}  # test -> what its cassette says of its recording
        self.headlines: dict[str, str] = {}  # failed test -> the first line of its failure
        # Tests skipped for want of a setting, by node id: what would let them run.
        self.not_run: dict[str, str] = {}

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
        if report.outcome == "failed" and report.nodeid not in self.headlines:
            # A raw exception's own line (KeyError: ...), not the first line of its traceback.
            crash = getattr(report.longrepr, "reprcrash", None)
            text = str(crash.message) if crash is not None else report.longreprtext
            self.headlines[report.nodeid] = (text.strip().splitlines() or [""])[0][:200]
        if report.skipped and isinstance(report.longrepr, tuple):
            self.not_run[report.nodeid] = str(report.longrepr[2]).removeprefix("Skipped: ")
        if report.when == "teardown":
            for name, value in report.user_properties:
                parsed = _parse(value)
                if name == VERDICTS and isinstance(parsed, list):
                    self.verdicts.extend({**verdict, "test": report.nodeid} for verdict in parsed)
                elif name == RECORDING and isinstance(parsed, dict):
                    self.recordings[report.nodeid] = Provenance.from_json(parsed)
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

    def undocumented_fields(self) -> list[dict[str, Any]]:
        """Per operation or webhook event type, each field the contract does not declare: one example
        pointer, the test it is from, and how many exchanges (or deliveries) showed it."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for verdict in self.verdicts:
            for entry in verdict.get("undocumented_fields") or []:
                key = (str(entry["in"]), str(entry["field"]))
                row = found.setdefault(key, {**entry, "test": verdict.get("test"), "exchanges": 0})
                row["exchanges"] += 1
        return [found[key] for key in sorted(found)]

    def undocumented_lines(self) -> list[str]:
        fields = self.undocumented_fields()
        if not fields:
            return []
        places = len({row["in"] for row in fields})
        out = [f"{UNDOCUMENTED_FIELDS} ({len(fields)} in {places} operation(s) or event type(s)), never a failure:"]
        for row in fields:
            times = f"{row['exchanges']} exchange{'s' if row['exchanges'] != 1 else ''}"
            out.append(f"  {shown(row)} ({times})")
        return out

    def faults(self) -> dict[str, Any]:
        """Faults that failed exchanges, by kind and what happened; retried attempts, by what they got."""
        kinds: Counter[str] = Counter(v["fault"] for v in self.verdicts if v.get("fault"))
        what: Counter[str] = Counter(
            f"{v['operation']} {v['status'] or 'broken off'}" for v in self.verdicts if v.get("fault")
        )
        retried: Counter[str] = Counter(got.split(" (")[0] for v in self.verdicts for got in v.get("retried", []))
        return {"kinds": dict(kinds), "exchanges": dict(sorted(what.items())), "retried": dict(sorted(retried.items()))}

    # -- recordings --------------------------------------------------------------------------

    @property
    def schema_dir(self) -> Path | str:
        """Where the run's contract was read from, as reports name it."""
        return self.contract.directory or "(a contract built in memory)"

    @property
    def current_import(self) -> str:
        return str(self.contract.index.get("importHash", ""))

    def not_conforming(self) -> dict[str, list[str]]:
        """Replayed recordings whose test failed: cassette -> why (each broken rule, or the failure)."""
        if self.recording:
            return {}
        found: dict[str, list[str]] = {}
        for test, outcome in sorted(self.tests.items()):
            if outcome != "failed":
                continue
            cassette = self.recordings[test].cassette if test in self.recordings else test
            # One line per broken rule, however many exchanges broke it.
            reasons = Counter(
                " ".join(
                    str(part)
                    for part in (failure["operation"], failure.get("status"), failure.get("pointer"), failure["rule"])
                    if part
                )
                for verdict in self.verdicts
                if verdict["test"] == test and not verdict["ok"]
                for failure in verdict.get("failures") or []
            )
            shown = [reason + (f" ({count} exchanges)" if count > 1 else "") for reason, count in reasons.items()]
            found[shown_path(cassette)] = shown or [self.headlines.get(test, "the test failed")]
        return found

    def oldest(self) -> Provenance | None:
        dated = [p for p in self.recordings.values() if p.recorded_at is not None]
        return min(dated, key=lambda p: (p.recorded_at, p.cassette)) if dated else None

    def undated(self) -> list[Provenance]:
        return sorted((p for p in self.recordings.values() if p.recorded_at is None), key=lambda p: p.cassette)

    def other_import(self) -> list[Provenance]:
        """Cassettes recorded under other schemas than the contract checked against now gives the
        operations they call (a cassette without schema hashes: under another import of it)."""
        current = self.contract
        return sorted((p for p in self.recordings.values() if p.outdated(current)), key=lambda p: p.cassette)

    def stale(self) -> list[Provenance]:
        if self.max_age is None:
            return []
        days = self.max_age
        return sorted(
            (p for p in self.recordings.values() if (p.age_days() is None or (p.age_days() or 0) > days)),
            key=lambda p: p.cassette,
        )

    def recording_lines(self) -> list[str]:
        out: list[str] = []
        oldest = self.oldest()
        if oldest is not None and oldest.recorded_at is not None:
            out.append(
                f"oldest cassette: {shown_path(oldest.cassette)}, recorded {oldest.recorded_at:%Y-%m-%d %H:%M} UTC "
                f"({oldest.age_days() or 0:.0f} days ago) against {oldest.host or '?'}, "
                f"spec {oldest.spec_version or '?'}"
            )
        undated = self.undated()
        if undated:
            out.append(
                f"{len(undated)} cassette(s) do not say when or under which import they were recorded "
                f"(recorded before cassettes kept it), e.g. {shown_path(undated[0].cassette)}"
            )
        other = self.other_import()
        if other:
            out.append(
                f"recorded under earlier schemas of the operations they call than {shown_path(str(self.schema_dir))} "
                f"(import {self.current_import[:12]}): re-record them"
            )
            out += [f"  {shown_path(p.cassette)} ({_why_outdated(p, self.contract)})" for p in other]
        stale = self.stale()
        if stale and self.max_age is not None:
            out.append(f"cassettes older than --max-cassette-age {self.max_age:g} days: {len(stale)}")
            out += [f"  {shown_path(p.cassette)}" for p in stale]
        conforming = self.not_conforming()
        if conforming:
            against = shown_path(str(self.schema_dir))
            out.append(f"recordings that no longer conform ({len(conforming)}), checked against {against}:")
            for cassette, reasons in conforming.items():
                out.append(f"  {cassette}")
                out += [f"    {reason}" for reason in reasons[:MAX_REASONS]]
                if len(reasons) > MAX_REASONS:
                    out.append(f"    … {len(reasons) - MAX_REASONS} more")
        return out

    # -- output ------------------------------------------------------------------------------

    def lines(self) -> list[str]:
        if not self.kept:
            out = ["ran live, nothing recorded (--disable-recording)"]
        else:
            mode = "recorded live into" if self.recording else "replayed offline from"
            out = [f"{mode} {self.cassette_root}"]
        table = self.by_operation()
        # Wide enough for the longest operation id (DeleteUserPersonalInformation).
        width = max([24, *(len(name) + 1 for name in table)])
        header = f"{'operation':<{width}}{'exchanges':>10}{'passed':>8}{'failed':>8}{'faults':>8}  statuses"
        out.append(header)
        total = failed = faulted = 0
        for name, row in table.items():
            counted = sorted(row["statuses"].items(), key=lambda item: str(item[0]))
            statuses = ", ".join(f"{status}x{count}" for status, count in counted)
            passed = row["exchanges"] - row["failed"] - row["faults"]
            numbers = f"{row['exchanges']:>10}{passed:>8}{row['failed']:>8}{row['faults']:>8}"
            out.append(f"{name:<{width}}{numbers}  {statuses}")
            total += row["exchanges"]
            failed += row["failed"]
            faulted += row["faults"]
        out.append(f"{'all operations':<{width}}{total:>10}{total - failed - faulted:>8}{failed:>8}{faulted:>8}")
        out.extend(self.fault_lines())
        out.extend(self.undocumented_status_lines())
        out += self.undocumented_lines()
        out.extend(f"cassettes: {note}" for note in self.notes)
        out += self.recording_lines()
        out.extend(self.not_exercised())
        out.append(self.outcome_line())
        out += [f"{reason} ({len(names)}): {', '.join(names)}" for reason, names in self.not_run_by_reason().items()]
        if self.tested_nothing():
            out.append(TESTED_NOTHING)
        return out

    def undocumented_status_lines(self) -> list[str]:
        """Statuses the contract does not list: those a test asked for, and those nothing expected."""
        undocumented = [v for v in self.verdicts if not v.get("documented", True)]
        out = []
        for wanted, label in ((True, "expected by the test"), (False, "that nothing expected")):
            counts = Counter((v["operation"], v["status"]) for v in undocumented if v.get("expected", False) == wanted)
            if counts:
                shown = ", ".join(f"{op} {status}x{count}" for (op, status), count in sorted(counts.items()))
                out.append(f"statuses the documentation does not list, {label}: {shown}")
        return out

    def tested_nothing(self) -> bool:
        """A live run whose every conformance test was skipped: it proved nothing about the API."""
        return self.recording and bool(self.tests) and set(self.tests.values()) == {"skipped"}

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        # A CI job must not go green on a live run that tested nothing.
        if self.tested_nothing() and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def outcome_line(self) -> str:
        outcomes = Counter(self.tests.values())
        return (
            f"conformance tests: {outcomes.get('passed', 0)} passed, {outcomes.get('failed', 0)} failed"
            + (f", {outcomes['server-fault']} stopped by a server fault" if outcomes.get("server-fault") else "")
            + (f", {outcomes['rate-limited']} stopped by the rate limit" if outcomes.get("rate-limited") else "")
            + (f", {outcomes['skipped']} skipped" if outcomes.get("skipped") else "")
        )

    def not_run_by_reason(self) -> dict[str, list[str]]:
        """Tests skipped for want of a setting, by the reason they gave."""
        by_reason: dict[str, list[str]] = defaultdict(list)
        for nodeid, reason in sorted(self.not_run.items()):
            by_reason[reason].append(nodeid.rsplit("::", 1)[-1])
        return dict(sorted(by_reason.items()))

    def undocumented(self) -> Counter[tuple[str, int]]:
        return Counter((v["operation"], v["status"]) for v in self.verdicts if not v.get("documented", True))

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
        missing = sorted(set(self.contract.operations) - called)
        if not missing:
            return [f"every one of the contract's {len(self.contract.operations)} operations was exercised"]
        more = f", … {len(missing) - MAX_LISTED} more" if len(missing) > MAX_LISTED else ""
        shown = ", ".join(missing[:MAX_LISTED]) + more
        return [f"operations this run did not exercise ({len(missing)} of {len(self.contract.operations)}): {shown}"]

    def as_json(self) -> dict[str, Any]:
        oldest = self.oldest()
        return {
            "mode": ("record" if self.kept else "live") if self.recording else "replay",
            "cassettes": str(self.cassette_root),
            "contract": {"schemaDir": str(self.schema_dir), "importHash": self.current_import},
            "tests": self.tests,
            "notRun": self.not_run,
            "operations": {
                name: {**row, "statuses": {str(k): v for k, v in row["statuses"].items()}}
                for name, row in self.by_operation().items()
            },
            "verdicts": self.verdicts,
            "faults": self.faults(),
            "undocumentedFields": self.undocumented_fields(),
            # The terminal's lines, word for word, for the Markdown summary.
            "undocumentedStatuses": self.undocumented_status_lines(),
            "exercised": self.not_exercised(),
            "notes": self.notes,
            "recordings": {
                "oldest": oldest.as_json() if oldest else None,
                "undated": [p.cassette for p in self.undated()],
                "otherImport": [{**p.as_json(), "changed": p.changed(self.contract)} for p in self.other_import()],
                "maxAgeDays": self.max_age,
                "stale": [p.cassette for p in self.stale()],
                "notConforming": self.not_conforming(),
            },
        }

    def markdown(self) -> str:
        data: dict[str, Any] = self.scrub(self.as_json())
        return markdown(data, self.outcome_line())

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.tests or self.notes:
            terminalreporter.write_sep("=", "conformance summary")
            for line in self.lines():
                terminalreporter.write_line(self.scrub_text(line))
        for option in ("--conformance-report", "--conformance-markdown"):
            path = self.config.getoption(option)
            if not path:
                continue
            if option == "--conformance-report":
                text = json.dumps(self.scrub(self.as_json()), indent=2, sort_keys=True)
            else:
                text = self.scrub_text(self.markdown())
            Path(path).write_text(text, encoding="utf-8")
            terminalreporter.write_line(f"conformance report written to {path}")
