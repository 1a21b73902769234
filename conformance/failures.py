"""Failures as structured objects.

Every conformance failure is an :class:`AssertionError` subclass, so pytest reports it as a failed
test, and it keeps its parts (operation, title, JSON pointer, rule, expected, actual, cassette,
next step) as attributes, so a report or another tool can read them without parsing text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

MAX_SHOWN = 160


def shorten(value: Any, limit: int = MAX_SHOWN) -> str:
    """A one-line rendering of a value (prose as it is, JSON as JSON), cut to ``limit`` characters."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cause_chain(error: BaseException) -> list[str]:
    """Each exception of the chain (``raise ... from``, or raised while handling), outermost first."""
    out: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        kind = type(current)
        name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
        out.append(f"{name}: {current}" if str(current) else name)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return out


def brief_cause(error: BaseException, limit: int = 200) -> str:
    """The innermost cause first (what the operating system said), then the outermost error's type."""
    chain = cause_chain(error)
    root = chain[-1] if len(chain) > 1 else chain[0]
    if len(root) > limit:
        root = root[: limit - 1] + "…"
    outer = chain[0].split(": ", 1)[0]
    return root if len(chain) == 1 else f"{root} ({outer})"


class ConfigError(Exception):
    """A missing or malformed setting; its message is one line naming the setting."""


class ConformanceFailure(AssertionError):
    """One broken rule in one exchange."""

    kind = "conformance"

    def __init__(
        self,
        *,
        operation: str,
        method: str,
        path: str,
        title: str,
        rule: str,
        expected: Any = None,
        actual: Any = None,
        pointer: str | None = None,
        status: int | None = None,
        variant: str | None = None,
        cassette: str | None = None,
        next_step: str | None = None,
        notes: Sequence[str] = (),
    ) -> None:
        self.operation = operation
        self.method = method
        self.path = path
        self.title = title
        self.rule = rule
        self.expected = expected
        self.actual = actual
        self.pointer = pointer
        self.status = status
        self.variant = variant
        self.cassette = cassette
        self.next_step = next_step
        self.notes = list(notes)
        super().__init__(self.render())

    @property
    def detail(self) -> str:
        rows: list[tuple[str, str]] = []
        if self.variant:
            rows.append(("variant", self.variant))
        if self.status is not None:
            rows.append(("status", str(self.status)))
        if self.pointer is not None:
            rows.append(("pointer", self.pointer or "/ (the whole body)"))
        rows.append(("rule", self.rule))
        if self.expected is not None:
            rows.append(("expected", shorten(self.expected)))
        if self.actual is not None:
            rows.append(("actual", shorten(self.actual)))
        rows.extend(("note", note) for note in self.notes)
        if self.cassette:
            rows.append(("cassette", self.cassette))
        if self.next_step:
            rows.append(("next step", self.next_step))
        width = max(len(label) for label, _ in rows)
        return "\n".join(f"  {label.ljust(width)} : {text}" for label, text in rows)

    def render(self) -> str:
        return f"{self.title}\n{self.detail}"

    def with_context(self, *, cassette: str | None, next_step: str | None) -> ConformanceFailure:
        """Fill in where the exchange was recorded and what to do, once the session knows."""
        self.cassette = self.cassette or cassette
        self.next_step = self.next_step or next_step
        self.args = (self.render(),)
        return self

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "operation": self.operation,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "title": self.title,
            "pointer": self.pointer,
            "rule": self.rule,
            "expected": self.expected,
            "actual": self.actual,
            "variant": self.variant,
            "cassette": self.cassette,
            "next_step": self.next_step,
            "notes": self.notes,
        }


class UnexpectedStatus(ConformanceFailure):
    kind = "unexpected-status"


class UndocumentedStatus(ConformanceFailure):
    kind = "undocumented-status"


class SchemaViolation(ConformanceFailure):
    kind = "schema"


class ContentTypeMismatch(ConformanceFailure):
    kind = "content-type"


class BrokenRedirect(ConformanceFailure):
    kind = "redirect"


class WriteOnlyLeak(ConformanceFailure):
    kind = "write-only-leak"


class StateMismatch(ConformanceFailure):
    kind = "state"


class UnmatchedRequest(ConformanceFailure):
    """Replay met a request the cassette does not hold."""

    kind = "unmatched-request"


class Unreachable(ConformanceFailure):
    """Recording met no server at all."""

    kind = "unreachable"


class MissingRecording(ConformanceFailure):
    kind = "missing-recording"


class OutdatedRequest(ConformanceFailure):
    """A recorded request lacks a parameter the contract now requires (a newer release's): re-record it."""

    kind = "outdated-request"


class UnplayedInteractions(ConformanceFailure):
    """Replay ended with recorded exchanges nobody asked for: the test did less than it recorded."""

    kind = "unplayed"


class CannotContinue(ConformanceFailure):
    """An answer lacked what the rest of the test needs (say, the id of what it created)."""

    kind = "cannot-continue"


class RecordingDoesNotReplay(ConformanceFailure):
    """A new recording, replayed in-process before it replaced the old one, gave other verdicts."""

    kind = "recording-does-not-replay"


class StaleRecording(ConformanceFailure):
    """A cassette older than ``--max-cassette-age`` (or of unknown age)."""

    kind = "stale-recording"


class ServerFault(ConformanceFailure):
    """The server failed (a 5xx, a reset connection, a cut-off answer): not a verdict on the contract."""

    kind = "server-fault"


class RateLimited(ConformanceFailure):
    """Still 429 once the retries ran out: the account's rate limit, not a verdict on the contract."""

    kind = "rate-limited"


# Failures that say the server or its limits failed the test, counted apart from conformance failures.
FAULT_KINDS = (ServerFault.kind, RateLimited.kind)


class FailureGroup(AssertionError):
    """Several failures from one test, shown together so one run reveals them all."""

    def __init__(self, failures: Sequence[ConformanceFailure]) -> None:
        self.failures = list(failures)
        head = f"{len(self.failures)} conformance failures"
        body = "\n\n".join(f"[{number}] {failure.render()}" for number, failure in enumerate(self.failures, 1))
        super().__init__(f"{head}\n\n{body}")


def fault_outcome(error: BaseException | None) -> str | None:
    """``server-fault`` or ``rate-limited`` when every failure ``error`` holds is one; None otherwise."""
    if isinstance(error, FailureGroup):
        kinds = {failure.kind for failure in error.failures}
    elif isinstance(error, ConformanceFailure):
        kinds = {error.kind}
    else:
        return None
    if not kinds or not kinds <= set(FAULT_KINDS):
        return None
    return ServerFault.kind if ServerFault.kind in kinds else RateLimited.kind


def raise_if_any(failures: Sequence[ConformanceFailure]) -> None:
    if len(failures) == 1:
        raise failures[0]
    if failures:
        raise FailureGroup(failures)
