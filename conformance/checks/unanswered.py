"""Failures with no exchange to check: a request replay cannot match, a host that does not answer,
and recorded exchanges that replay never asked for (the test did less than it recorded)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from vcr.request import Request

from conformance.cassettes.explain import nearest
from conformance.contract.schemas import Contract, Operation
from conformance.failures import (
    ConformanceFailure,
    UnmatchedRequest,
    UnplayedInteractions,
    Unreachable,
    cause_chain,
)
from conformance.transport.client import recorded_outcome

F = TypeVar("F", bound=ConformanceFailure)


def _without_exchange(kind: type[F], op: Operation, cassette_path: str, *, title: str, **details: Any) -> F:
    """A failure with no exchange to check: the request never got a (recorded) answer."""
    return kind(
        operation=op.operation_id,
        method=op.method,
        path=op.path,
        title=f"{op.label} {title}",
        cassette=cassette_path,
        **details,
    )


def unmatched(cassette: Any, cassette_path: str, op: Operation, sent: Request, record_command: str) -> UnmatchedRequest:
    """Replay met a request (``sent``, scrubbed) that the cassette does not hold: name the nearest one."""
    found = nearest([request for request, _ in getattr(cassette, "data", [])], sent)
    return _without_exchange(
        UnmatchedRequest,
        op,
        cassette_path,
        title=f"sent a request that {cassette_path} does not hold.",
        rule="replay answers only requests recorded in the cassette (method, path, query, JSON body)",
        expected="a recorded request with the same method, path, query and body",
        actual=f"{sent.method} {sent.uri}",
        notes=[found.describe()] if found else ["the cassette holds no requests at all"],
        next_step=f"re-record this test: {record_command}",
    )


def unreachable(
    api_url: str, cassette_path: str, op: Operation, error: BaseException, scrub: Callable[[str], str]
) -> Unreachable:
    return _without_exchange(
        Unreachable,
        op,
        cassette_path,
        title=f"got no answer from {api_url}.",
        rule="the API answers every request",
        expected="an HTTP response",
        actual=scrub(f"{type(error).__name__}: {error}"),
        notes=[f"cause: {scrub(line)}" for line in cause_chain(error)],
        next_step="check SUNCO_API_URL and that the host is reachable from here (SUNCO_TIMEOUT sets how long "
        "to wait), then record again",
    )


MAX_SHOWN = 10


def unplayed(cassette: Any, cassette_path: str, record_command: str, contract: Contract) -> list[ConformanceFailure]:
    """One failure naming the recorded exchanges (retried attempts included) that replay never asked for."""
    data = getattr(cassette, "data", [])
    counts = getattr(cassette, "play_counts", {})
    left = [index for index in range(len(data)) if not counts.get(index)]
    if not left:
        return []
    first = data[left[0]][0]
    op = operation_of(contract, first.method, first.path)
    shown = [f"#{i + 1} {data[i][0].method} {data[i][0].path} -> {recorded_outcome(data[i][1])}" for i in left]
    more = [f"... and {len(shown) - MAX_SHOWN} more"] if len(shown) > MAX_SHOWN else []
    return [
        UnplayedInteractions(
            operation=op.operation_id if op else "(unknown)",
            method=first.method,
            path=op.path if op else first.path,
            title=f"{op.label if op else first.method + ' ' + first.path} was recorded but never replayed: "
            f"{len(left)} of {len(data)} recorded exchanges were left unplayed.",
            rule="replay plays every recorded exchange; a test that stops early or sends less fails",
            expected=f"all {len(data)} recorded exchanges played",
            actual=f"{len(data) - len(left)} played",
            notes=shown[:MAX_SHOWN] + more,
            cassette=cassette_path,
            next_step=f"if the test changed on purpose, re-record: {record_command}",
        )
    ]


def operation_of(contract: Contract, method: str, path: str) -> Operation | None:
    """The index's operation whose path template ends the request's path (a base URL may add a prefix)."""
    for op in contract.operations.values():
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(op.path))
        if op.method == method.upper() and re.search(pattern + "$", path):
            return op
    return None
