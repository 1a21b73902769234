"""Server faults and rate limits: answers that say the server failed, not that the API broke its contract.

The client retries what is safe to retry (see transport/client.py). What is left once it stops:

* a 5xx that no variant expected: a server fault (POST and PATCH are never retried, since
  repeating them could act twice; GET, PUT and DELETE are, within the retry bounds);
* an exchange the server broke off (a reset connection, a cut-off answer): a server fault;
* a PUT or DELETE whose retry after a broken-off attempt answered a 4xx: the first attempt may
  have acted (a deleted record answers 404 the second time), so the answer cannot be judged;
* a 429 still there when the retries ran out: rate limited.

Each is its own failure kind, counted apart from conformance failures and never held to a schema,
and it ends the test: what follows would be judged against a state the fault left unknown.
"""

from __future__ import annotations

from typing import Any

import requests
from vcr.request import Request as VcrRequest

from conformance.failures import ConformanceFailure, RateLimited, ServerFault, shorten
from conformance.model import Exchange, Expect
from conformance.transport.client import IDEMPOTENT, Broken, BrokenExchange

# After a broken-off attempt, a retry of these may meet the first attempt's effect.
ACTING = ("PUT", "DELETE")


def next_step(*, recording: bool, record_command: str, rate_limited: bool = False) -> str:
    if not recording:
        return f"the recording holds this from when it was made; re-record the test: {record_command}"
    if rate_limited:
        return (
            "wait for the rate limit to reset (or record fewer tests at a time), then record the test again: "
            f"{record_command}"
        )
    return (
        f"the server failed, not the contract: record the test again later ({record_command}); if it keeps "
        "failing, report the request and the answer to whoever runs the API"
    )


def _retries(method: str, retried: list[str], safe: bool) -> list[str]:
    if retried:
        return [f"attempt {number}: {what}" for number, what in enumerate(retried, 1)]
    if not safe:
        return [f"{method} is never retried: repeating it could act twice"]
    return []


def classify(
    exchange: Exchange, expected: Expect | None, variant: str | None, *, recording: bool, record_command: str
) -> ConformanceFailure | None:
    """The fault an answer is, or None when the checks should judge it. An expected status is never a fault."""
    status = exchange.status
    if expected is not None and expected.status == status:
        return None
    op = exchange.operation
    common = {
        "operation": op.operation_id,
        "method": op.method,
        "path": op.path,
        "status": status,
        "variant": variant,
        "expected": f"{expected.status}" if expected is not None else "a documented status",
    }
    answer = (
        f"{status} {exchange.error_codes[0]}" if exchange.error_codes else f"{status}: {shorten(exchange.text, 80)}"
    )
    attempts = _retries(op.method, exchange.retried, op.method in IDEMPOTENT)
    if status == 429:
        return RateLimited(
            title=f"{op.label} was still rate limited (429) after {exchange.attempts} attempt(s).",
            rule="a 429 is retried after Retry-After, else with backoff, within the retry bounds",
            actual=answer,
            notes=attempts,
            next_step=next_step(recording=recording, record_command=record_command, rate_limited=True),
            **common,
        )
    if status >= 500:
        return ServerFault(
            title=f"{op.label} answered {status}: a server fault, not a verdict on the contract.",
            rule="a 5xx says the server failed; only GET, PUT and DELETE are retried after one",
            actual=answer,
            notes=attempts,
            next_step=next_step(recording=recording, record_command=record_command),
            **common,
        )
    if exchange.broken_attempts and op.method in ACTING and 400 <= status < 500:
        return ServerFault(
            title=f"{op.label} answered {status} to a retry after the server broke an earlier attempt off: "
            "that attempt may have acted, so the answer cannot be judged.",
            rule="an answer to a retry after a broken-off attempt is judged only when it shows no effect of it",
            actual=answer,
            notes=attempts,
            next_step=next_step(recording=recording, record_command=record_command),
            **common,
        )
    return None


def broken(error: BrokenExchange, variant: str | None, *, recording: bool, record_command: str) -> ServerFault:
    """The server fault of an exchange that got no whole answer."""
    op = error.operation
    notes = _retries(op.method, error.retried, op.method in IDEMPOTENT)
    if error.broken.kind == "truncated" and op.method not in ("GET", "HEAD"):
        notes.append(
            "the request may have taken effect before its answer was cut off; teardown looks for what it created "
            "by its run tag where the resource carries one"
        )
    return ServerFault(
        operation=op.operation_id,
        method=op.method,
        path=op.path,
        variant=variant,
        title=f"{op.label} got no whole answer: {error.broken.what}.",
        rule="a broken-off exchange is a server fault; only GET, PUT and DELETE are retried after one",
        expected="a whole HTTP answer",
        actual=error.broken.what,
        notes=notes,
        next_step=next_step(recording=recording, record_command=record_command),
    )


def record_broken(cassette: Any, sent: requests.PreparedRequest, broken: Broken) -> None:
    """A broken-off attempt leaves vcrpy nothing to record: keep a stand-in, in order, for replay to break."""
    if sent.method and sent.url:
        body = sent.body.encode() if isinstance(sent.body, str) else sent.body
        cassette.append(VcrRequest(sent.method, sent.url, body, dict(sent.headers)), broken.marker())
