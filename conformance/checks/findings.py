"""What a test found: the verdict of each exchange, and its failures with the cassette and the next step.

The summary, the JSON report and the re-record guard read the verdicts; the test fails with the failures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.checks.undocumented import Field, in_exchange
from conformance.failures import FAULT_KINDS, CannotContinue, ConformanceFailure, FailureGroup
from conformance.model import Exchange, Expect, Variant

# Answers that say the key or app is wrong, not that the API broke a rule.
REFUSED_STATUSES = (401, 403)
REFUSED_CODES = ("app_not_found",)


@dataclass
class Verdict:
    """What the summary and the JSON report keep of one exchange."""

    operation: str
    status: int
    variant: str | None
    ok: bool
    documented: bool = True
    failures: list[dict[str, Any]] = field(default_factory=list)
    # The test (a variant, or an explicit expect) asked for exactly this status.
    expected: bool = False
    # "server-fault" or "rate-limited" when the answer was a fault rather than a verdict (status 0: none came).
    fault: str | None = None
    # What earlier attempts of the exchange got, each retried.
    retried: list[str] = field(default_factory=list)
    # Fields the body carries that the contract does not declare (never a failure): checks/undocumented.py.
    undocumented_fields: list[Field] = field(default_factory=list)


def refused(exchange: Exchange) -> bool:
    """An answer that says the key or app is wrong, not that the API broke a rule."""
    return exchange.status in REFUSED_STATUSES or any(code in REFUSED_CODES for code in exchange.error_codes)


def foreign(exchange: Exchange) -> str | None:
    """How an answer shows it did not come from the API (a wrong URL, a proxy, a static server), or None.

    A 404 whose code the operation does not document is a route the server does not know; a body that
    is not JSON where the operation answers JSON, or an undocumented redirect, is another server's page.
    """
    status = exchange.status
    if status == 404:
        documented = exchange.operation.error_codes(404)
        if not set(exchange.error_codes) & set(documented):
            return "a 404 with no code the operation documents"
    if 300 <= status < 400 and not exchange.operation.documents(status):
        return "an undocumented redirect"
    media = exchange.operation.response_media(status) or ("application/json",)
    if exchange.text.strip() and not exchange.body_is_json and all("json" in kind for kind in media):
        return f"a body that is not JSON ({exchange.media_type or 'no Content-Type'})"
    return None


class Findings:
    """One test's verdicts and failures, each failure told its cassette and what to do next."""

    def __init__(self, cassette: str, next_step: str) -> None:
        self.cassette = cassette
        # What to do about a failure of the API's own answer (re-record, or compare with the reference).
        self.next_step = next_step
        self.failures: list[ConformanceFailure] = []
        self.verdicts: list[Verdict] = []
        # Exchanges answered, and how many of them refused the key or app when no one expected it.
        self.exchanges = 0
        self.refusals = 0
        # Answers that did not come from the API (route-level 404s, other servers' pages) nobody expected.
        self.foreign = 0

    @property
    def refused_everything(self) -> bool:
        """Every exchange was a 401, 403 or app_not_found that nothing expected: wrong key or app."""
        return self.exchanges > 0 and self.refusals == self.exchanges

    def _step(self, alien: str | None) -> str:
        """What to do about a failure: check the URL when the answer was not the API's (``alien`` says how)."""
        if alien is None:
            return self.next_step
        return f"the answer ({alien}) does not look like the API's: check SUNCO_API_URL (the API's root, without /v2)"

    def keep(
        self, exchange: Exchange, variant: str | None, found: list[ConformanceFailure], expected: Expect | None
    ) -> None:
        """Keep the verdict of one exchange, and its failures."""
        documented = exchange.status in exchange.operation.documented_statuses
        wanted = expected is not None and expected.status == exchange.status
        # A 404 the test asked for, with the code it asked for, is the API's own answer.
        asked = wanted and expected is not None and expected.error_code in exchange.error_codes
        alien = None if asked else foreign(exchange)
        for failure in found:
            failure.with_context(cassette=self.cassette, next_step=self._step(alien))
        self.failures.extend(found)
        self.exchanges += 1
        if not wanted and refused(exchange):
            self.refusals += 1
        if alien is not None:
            self.foreign += 1
        fault = next((failure.kind for failure in found if failure.kind in FAULT_KINDS), None)
        self.verdicts.append(
            Verdict(
                exchange.operation.operation_id,
                exchange.status,
                variant,
                not found,
                documented,
                [failure.as_dict() for failure in found],
                wanted,
                fault,
                list(exchange.retried),
                # Another server's answer (a proxy's 404, say) says nothing of what the API's documentation lacks.
                [] if fault or alien else in_exchange(exchange),
            )
        )

    def keep_broken(
        self, failure: ConformanceFailure, operation_id: str, variant: str | None, retried: list[str]
    ) -> None:
        """Keep an exchange that got no whole answer: a fault, whose failure already says what to do."""
        failure.with_context(cassette=self.cassette, next_step=None)
        self.failures.append(failure)
        self.exchanges += 1
        verdict = Verdict(operation_id, 0, variant, False, failures=[failure.as_dict()])
        verdict.fault, verdict.retried = failure.kind, list(retried)
        self.verdicts.append(verdict)

    def keep_result(
        self, operation_id: str, status: int, found: list[ConformanceFailure], undocumented: list[Field] | None = None
    ) -> None:
        """The verdict of something checked outside an exchange (a webhook delivery)."""
        for failure in found:
            failure.with_context(cassette=self.cassette, next_step=self.next_step)
        self.failures.extend(found)
        verdict = Verdict(operation_id, status, None, not found, True, [f.as_dict() for f in found])
        verdict.undocumented_fields = list(undocumented or [])
        self.verdicts.append(verdict)

    def fail(self, failure: ConformanceFailure, *, verdict: bool = False) -> None:
        """Keep a failure found outside an exchange; ``verdict`` marks the last verdict failed with it."""
        self.failures.append(failure.with_context(cassette=self.cassette, next_step=self.next_step))
        if verdict and self.verdicts:
            self._fail_last(failure)

    def add(self, *failures: ConformanceFailure) -> None:
        """Keep failures that already say their cassette and next step."""
        self.failures.extend(failures)

    def _fail_last(self, failure: ConformanceFailure) -> None:
        self.verdicts[-1].ok = False
        self.verdicts[-1].failures.append(failure.as_dict())

    def stop(self) -> AssertionError:
        """What ends the test: everything it found so far."""
        return FailureGroup(self.failures) if len(self.failures) > 1 else self.failures[0]

    def cannot_continue(
        self, needed: str, variant: Variant | None, exchange: Exchange | None, pointer: str
    ) -> AssertionError:
        """What ends a test that needs ``needed`` to go on, which ``exchange`` (or no exchange) did not give."""
        if exchange is None:
            return CannotContinue(
                operation="(none)",
                method="-",
                path="-",
                title=f"The test cannot go on: it needs {needed}, and no exchange provided it.",
                rule="a test that cannot continue fails; it does not pass",
                expected=needed,
                cassette=self.cassette,
                next_step=self.next_step,
            )
        failure = CannotContinue(
            operation=exchange.operation.operation_id,
            method=exchange.method,
            path=exchange.operation.path,
            status=exchange.status,
            title=f"{exchange.operation.label} answered {exchange.status} without {needed}, so the test cannot go on.",
            pointer=pointer or None,
            rule="a test that cannot continue fails; it does not pass",
            expected=needed,
            actual=exchange.body if exchange.body_is_json else exchange.text[:200],
            variant=variant.id if variant else None,
            cassette=self.cassette,
            next_step=self._step(foreign(exchange)),
        )
        self.failures.append(failure)
        if self.verdicts and self.verdicts[-1].operation == exchange.operation.operation_id:
            self._fail_last(failure)
        return self.stop()
