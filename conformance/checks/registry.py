"""Checks as a registry, in the style of schemathesis: each check one named function of one signature,
registered with the condition it runs under.

A check is ``check(ctx, subject) -> Iterable[ConformanceFailure]``: ``subject`` is what is checked
(an exchange), ``ctx`` what the test says about it (the expected outcome, the variant). It is
registered with ``@registry.check(name, applies=condition, after=names)``: it runs when its
condition holds for ``(ctx, subject)`` and each check it comes ``after`` ran and found nothing (no
schema check on a body whose media type was already wrong). Checks run in the order they were
registered, so one module declares the order in which failures are reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from conformance.failures import ConformanceFailure

Ctx = TypeVar("Ctx")
Subject = TypeVar("Subject")

CheckFunction = Callable[[Ctx, Subject], Iterable[ConformanceFailure]]
Condition = Callable[[Ctx, Subject], bool]


def always(ctx: Any, subject: Any) -> bool:
    """always"""
    return True


def _said(function: Callable[..., Any]) -> str:
    """The first line of a function's docstring: what a check checks, or when a condition holds."""
    return (function.__doc__ or "").strip().splitlines()[0] if function.__doc__ else ""


@dataclass(frozen=True)
class Check(Generic[Ctx, Subject]):
    """One registered check: its name, what it runs, when it applies, and what must pass before it."""

    name: str
    run: CheckFunction[Ctx, Subject]
    applies: Condition[Ctx, Subject]
    after: tuple[str, ...] = ()

    @property
    def checks(self) -> str:
        return _said(self.run)

    @property
    def when(self) -> str:
        """The condition in words (``when …``, or ``always``), the checks it comes after included."""
        passed = f", once {' and '.join(self.after)} passed" if self.after else ""
        return _said(self.applies) + passed


class Registry(Generic[Ctx, Subject]):
    """The checks one kind of subject goes through, in the order they were registered."""

    def __init__(self, subject: str) -> None:
        self.subject = subject
        self._checks: list[Check[Ctx, Subject]] = []
        self._plan: list[tuple[str, Condition[Ctx, Subject], CheckFunction[Ctx, Subject], tuple[str, ...]]] = []

    def check(
        self, name: str, *, applies: Condition[Ctx, Subject] = always, after: Sequence[str] = ()
    ) -> Callable[[CheckFunction[Ctx, Subject]], CheckFunction[Ctx, Subject]]:
        """Register the decorated function as the check ``name``; it is returned unchanged."""

        def register(function: CheckFunction[Ctx, Subject]) -> CheckFunction[Ctx, Subject]:
            known = self.names()
            if not name or name in known:
                raise ValueError(f"a check needs a name of its own: {name!r} is {'taken' if name else 'empty'}")
            # Only an earlier check can have passed by the time this one runs.
            unknown = [earlier for earlier in after if earlier not in known]
            if unknown:
                raise ValueError(f"check {name!r} comes after {', '.join(unknown)}, which no earlier check is called")
            if not _said(function) or not _said(applies):
                raise ValueError(f"check {name!r}: a docstring says what it checks, and one on its condition when")
            self._checks.append(Check(name, function, applies, tuple(after)))
            self._plan.append((name, applies, function, tuple(after)))
            return function

        return register

    def __iter__(self) -> Iterator[Check[Ctx, Subject]]:
        return iter(self._checks)

    def __len__(self) -> int:
        return len(self._checks)

    def names(self) -> list[str]:
        return [registered.name for registered in self._checks]

    def get(self, name: str) -> Check[Ctx, Subject]:
        for registered in self._checks:
            if registered.name == name:
                return registered
        raise KeyError(f"no {self.subject} check {name!r}; the checks are: {', '.join(self.names())}")

    def run(
        self, ctx: Ctx, subject: Subject, results: dict[str, list[ConformanceFailure]] | None = None
    ) -> list[ConformanceFailure]:
        """Every failure of the checks that apply, in the declared order; ``results`` (when given)
        gets what each check that ran found."""
        failures: list[ConformanceFailure] = []
        passed: set[str] = set()
        # Runs for every exchange of a replay: one loop over plain tuples.
        for name, applies, check, after in self._plan:
            if after and not passed.issuperset(after):
                continue
            if not applies(ctx, subject):
                continue
            found = list(check(ctx, subject))
            if results is not None:
                results[name] = found
            if found:
                failures += found
            else:
                passed.add(name)
        return failures

    def results(self, ctx: Ctx, subject: Subject) -> dict[str, list[ConformanceFailure]]:
        """What each check that ran found (an empty list: it passed), in the declared order."""
        found: dict[str, list[ConformanceFailure]] = {}
        self.run(ctx, subject, found)
        return found

    def listing(self) -> list[str]:
        """One line per check: its name, what it checks, and when."""
        return [f"{entry.name}: {entry.checks}; runs {entry.when}" for entry in self._checks]
