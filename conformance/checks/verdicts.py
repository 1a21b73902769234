"""What a session keeps of each exchange (its verdict) and the failure of a test that cannot go on.

Part of :class:`conformance.session.session.ConformanceSession`, kept apart to keep that module small.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from conformance.checks.undocumented import Field, in_exchange
from conformance.failures import FAULT_KINDS, CannotContinue, ConformanceFailure
from conformance.model import Exchange, Expect, Variant

if TYPE_CHECKING:
    from conformance.session.session import ConformanceSession

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


def next_step(session: ConformanceSession, alien: str | None) -> str:
    """What to do about a failure: check the URL when the answer was not the API's (``alien`` says how)."""
    if alien is None:
        return session._next_step()
    return f"the answer ({alien}) does not look like the API's: check SUNCO_API_URL (the API's root, without /v2)"


def keep(
    session: ConformanceSession,
    exchange: Exchange,
    variant: str | None,
    found: list[ConformanceFailure],
    expected: Expect | None,
) -> None:
    """Keep the verdict of one exchange, and its failures (with the cassette and the next step)."""
    documented = exchange.status in exchange.operation.documented_statuses
    wanted = expected is not None and expected.status == exchange.status
    # A 404 the test asked for, with the code it asked for, is the API's own answer.
    asked = wanted and expected is not None and expected.error_code in exchange.error_codes
    alien = None if asked else foreign(exchange)
    for failure in found:
        failure.with_context(cassette=session.cassette_path, next_step=next_step(session, alien))
    session.failures.extend(found)
    session.exchanges += 1
    if not wanted and refused(exchange):
        session.refusals += 1
    if alien is not None:
        session.foreign += 1
    fault = next((failure.kind for failure in found if failure.kind in FAULT_KINDS), None)
    session.verdicts.append(
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


def cannot_continue(
    session: ConformanceSession, needed: str, variant: Variant | None, exchange: Exchange | None, pointer: str
) -> CannotContinue:
    """The failure of a test that needs ``needed`` to go on, which ``exchange`` (or no exchange) did not give."""
    if exchange is None:
        return CannotContinue(
            operation="(none)",
            method="-",
            path="-",
            title=f"The test cannot go on: it needs {needed}, and no exchange provided it.",
            rule="a test that cannot continue fails; it does not pass",
            expected=needed,
            cassette=session.cassette_path,
            next_step=session._next_step(),
        )
    return CannotContinue(
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
        cassette=session.cassette_path,
        next_step=next_step(session, foreign(exchange)),
    )
