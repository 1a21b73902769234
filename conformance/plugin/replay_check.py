"""When a re-recording may replace a cassette, and the in-process replay that must agree with it first.

The plugin writes a re-recording beside the cassette (see :mod:`conformance.cassettes.files`).
After the test, :func:`keep_reason` says why the previous cassette must stay (the test never
talked to the API, crashed, or met only refusals of the key or app), and :func:`verify` replays
the new file in-process, through the same matcher and scrubber a CI replay uses, and compares
its verdicts with the recording's. Only a recording that passes both replaces the old file.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from vcr import VCR

from conformance.cassettes.files import CorruptCassette
from conformance.cassettes.recording import configure_vcr, vcr_options
from conformance.contract.schemas import Contract
from conformance.failures import (
    ConformanceFailure,
    FailureGroup,
    RecordingDoesNotReplay,
    Unreachable,
    cause_chain,
    raise_if_any,
)
from conformance.scrubbing.scrubber import Scrubber
from conformance.session.session import ConformanceSession, Verdict

# Failures that mean replay could not reproduce the recording, whatever the verdicts say.
REPLAY_KINDS = ("unmatched-request", "missing-recording", "unplayed")


@dataclass(frozen=True)
class Outcome:
    """How a test's call phase ended: passed, failed, unreachable, crashed, skipped or not run."""

    kind: str
    detail: str = ""


def outcome_of(error: BaseException | None, skipped: bool) -> Outcome:
    if skipped:
        return Outcome("skipped")
    if error is None:
        return Outcome("passed")
    if isinstance(error, Unreachable):
        return Outcome("unreachable", error.title)
    if isinstance(error, AssertionError):
        return Outcome("failed")
    return Outcome("crashed", " <- ".join(cause_chain(error)))


def keep_reason(outcome: Outcome, session: ConformanceSession | None, *, previous: bool = False) -> str | None:
    """Why the previous cassette must stay, or None when the new recording may replace it.

    A recording that met a server fault or a rate limit is kept only where no cassette was: it
    replays as it happened, but a good cassette is worth more than a record of a bad day.
    """
    if outcome.kind == "not run":
        return "the test did not run to its end"
    if outcome.kind == "skipped" and session is not None and session.skips.reason and not previous:
        return None  # the cassette says why the live run skipped, so replay skips for the same reason
    if outcome.kind == "skipped":
        return "the test was skipped"
    if outcome.kind == "unreachable":
        return "the API could not be reached"
    if outcome.kind == "crashed":
        return f"the test crashed: {outcome.detail}"
    if session is None or session.findings.exchanges == 0:
        return "the test recorded no exchange"
    found = session.findings
    faulted = next((verdict for verdict in found.verdicts if verdict.fault), None)
    if faulted is not None and previous:
        answer = f"answered {faulted.status}" if faulted.status else "got no whole answer"
        return (
            f"{faulted.operation} {answer} (a {str(faulted.fault).replace('-', ' ')}), and a recording with a fault "
            "never replaces a cassette; record the test again when the server is well"
        )
    if found.foreign and found.foreign + found.refusals >= found.exchanges:
        return (
            f"all {found.exchanges} exchanges got answers that do not look like the API's (route-level 404s or "
            "pages of another server): the target looks wrong, not the schema; check SUNCO_API_URL"
        )
    if found.refused_everything:
        return (
            f"all {found.exchanges} exchanges were refused (401, 403 or app_not_found) and no variant expected "
            "that; check SUNCO_KEY_ID, SUNCO_KEY_SECRET and SUNCO_APP_ID"
        )
    return None


def _verdict_key(verdict: Verdict) -> tuple[str, int, str | None, bool]:
    return verdict.operation, verdict.status, verdict.variant, verdict.ok


def _shown(verdict: Verdict | None) -> str:
    if verdict is None:
        return "nothing (replay stopped before it)"
    text = f"{verdict.operation} {verdict.status} {'passed' if verdict.ok else 'failed'}"
    if verdict.failures:
        first = verdict.failures[0]
        text += f" ({first.get('pointer') or '/'}: {first.get('rule')})"
    return text


@dataclass
class Replayed:
    verdicts: list[Verdict]
    failures: list[ConformanceFailure]
    crash: str | None = None
    skipped: bool = False


def replay(path: Path, make_session: Callable[[Any], ConformanceSession], test: Callable[[Any], object]) -> Replayed:
    """Run ``test`` against the cassette at ``path`` as an offline replay would, knowing no secrets."""
    scrubber = Scrubber()
    vcr = VCR(record_mode="none")
    configure_vcr(vcr, scrubber)
    with vcr.use_cassette(str(path), **vcr_options(scrubber)) as cassette:
        session = make_session(cassette)
        result = Replayed(session.findings.verdicts, [])
        try:
            try:
                session.replay_not_run()  # as a CI replay does, before the test's body
                test(session)
                if not session.finished:
                    session.finish()
            finally:
                # Cleanup was recorded at teardown, failing test or not: replay it too.
                session.close()
            raise_if_any(session.findings.failures)
        except FailureGroup as group:
            result.failures = group.failures
        except ConformanceFailure as failure:
            result.failures = [failure]
        except AssertionError:
            pass  # a plain assert: the verdicts say whether recording and replay agree
        except pytest.skip.Exception:
            result.skipped = True  # a recording that says why it did not run replays as a skip
        except Exception as error:  # any crash of the replay is a finding, not ours to hide
            result.crash = " <- ".join(cause_chain(error))
    return result


def differences(recorded: Sequence[Verdict], replayed: Replayed) -> tuple[list[str], str | None]:
    """What differs, and the operation of the first difference."""
    found: list[str] = []
    operation: str | None = None
    if replayed.crash:
        found.append(f"replay crashed: {replayed.crash}")
    for failure in replayed.failures:
        if failure.kind in REPLAY_KINDS:
            operation = operation or failure.operation
            found.append(failure.title)
            found.extend(f"    {line}" for note in failure.notes for line in note.splitlines())
    if replayed.skipped and not found:
        return found, operation  # skipped for the reason the recording kept: nothing to compare
    old = [_verdict_key(v) for v in recorded]
    new = [_verdict_key(v) for v in replayed.verdicts]
    if old != new:
        index = next(i for i in range(max(len(old), len(new))) if i >= len(old) or i >= len(new) or old[i] != new[i])
        before = recorded[index] if index < len(recorded) else None
        after = replayed.verdicts[index] if index < len(replayed.verdicts) else None
        operation = operation or (before or after or Verdict("", 0, None, True)).operation
        found.append(f"exchange {index + 1}: recorded {_shown(before)}; replayed {_shown(after)}")
    return found, operation


def verify(
    path: Path,
    cassette: Path,
    recorded: Sequence[Verdict],
    make_session: Callable[[Any], ConformanceSession],
    test: Callable[[Any], object],
) -> tuple[list[str], str | None]:
    """What keeps the recording at ``path`` from replaying as recorded (nothing: it may replace ``cassette``)."""
    try:
        replayed = replay(path, make_session, test)
    except CorruptCassette as error:
        return [f"{cassette.name}: the new recording cannot be read back: {error.reason}"], None
    return differences(recorded, replayed)


def does_not_replay(
    found: Sequence[str],
    operation_id: str | None,
    cassette: Path,
    kept_at: Path,
    record_command: str,
    contract: Contract,
) -> RecordingDoesNotReplay:
    op = contract.operations.get(operation_id or "")
    return RecordingDoesNotReplay(
        operation=op.operation_id if op else "(none)",
        method=op.method if op else "-",
        path=op.path if op else "-",
        title=f"{op.label if op else 'The test'}: the new recording of {cassette.name} does not replay "
        "as it was recorded, so it did not replace the previous cassette.",
        rule="a recording that reports success must replay offline with the same verdicts",
        expected="every recorded exchange replayed, with the recorded verdicts",
        actual=found[0],
        notes=list(found[1:]),
        cassette=str(cassette),
        next_step=f"the scrubber or the persister changed what was recorded: compare {kept_at} with what "
        f"the test sends, fix it, then re-record: {record_command}",
    )


def test_call(item: Any, fixture: str) -> Callable[[ConformanceSession], object]:
    """The test function again, with a replay session in place of the recording one."""
    function: Any = getattr(item, "obj", None)
    funcargs: dict[str, Any] = dict(getattr(item, "funcargs", {}) or {})
    parameters = inspect.signature(function).parameters if function else {}
    # As pytest does, an argument with a default is not a fixture: it keeps its default.
    names = [n for n, p in parameters.items() if n == fixture or n in funcargs or p.default is inspect.Parameter.empty]

    def call(session: ConformanceSession) -> object:
        if function is None:
            raise TypeError(f"{item.nodeid} is not a test function, so it cannot be replayed in-process")
        return function(**{name: session if name == fixture else funcargs[name] for name in names})

    return call
