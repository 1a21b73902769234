"""Fields a body carries that the contract does not declare: shown beside the verdicts, never a failure.

The live service sends fields that neither the vendor's spec nor the overlay declares: that is where
the documentation lags the service, so a QA engineer wants to see them, but they break no rule.
Each one found is ``{"in": where, "field": field, "example": pointer}``: ``where`` is the operation,
or a webhook event's type for a field inside that event (``EventWebhooks`` for the envelope);
``field`` is the pointer with array indexes as ``*`` (inside an event, from the event), so the same
field in every item of a list is one entry; ``example`` is one pointer where it was seen.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterable
from typing import Any

from conformance import pointer as pointers
from conformance.checks.exchange import schema_for
from conformance.contract.schemas import Contract
from conformance.model import Exchange

WEBHOOK_OPERATION = "EventWebhooks"
DELIVERY_SCHEMA = "operations/EventWebhooks.json#/$defs/request-json"
# One event of a delivery: the item schema that dispatches by the event's type.
EVENT_SCHEMA = DELIVERY_SCHEMA + "/properties/events/items"
EVENTS = "events"
ANY_INDEX = "*"

Field = dict[str, str]


class _Known:
    """Bodies already walked, by schema and JSON text: a run meets the same error envelope or empty
    list many times, and the walk would find the same fields each time."""

    LIMIT = 20_000

    def __init__(self) -> None:
        # Per contract: what one finds undeclared, another (another release) may declare.
        self._found: weakref.WeakKeyDictionary[Contract, dict[tuple[str, str], tuple[str, ...]]] = (
            weakref.WeakKeyDictionary()
        )

    def undeclared(self, contract: Contract, ref: str, body: Any) -> tuple[str, ...]:
        known = self._found.setdefault(contract, {})
        key = (ref, json.dumps(body, ensure_ascii=False, sort_keys=True))
        found = known.get(key)
        if found is None:
            if len(known) >= self.LIMIT:
                known.clear()
            found = known[key] = tuple(contract.undeclared(ref, body))
        return found


_known = _Known()


def general(document: Any, pointer: str, start: int = 0) -> str:
    """``pointer`` from its ``start``-th token on, with each index into an array as ``*``."""
    parts: list[str] = []
    current = document
    for number, token in enumerate(pointers.tokens(pointer)):
        is_index = isinstance(current, list)
        if number >= start:
            parts.append(ANY_INDEX if is_index else token)
        if isinstance(current, dict):
            current = current.get(token)
        elif is_index and token.isdigit() and int(token) < len(current):
            current = current[int(token)]
        else:
            current = None
    return pointers.join(parts)


def _unique(found: Iterable[Field]) -> list[Field]:
    """One entry per place and field, the first example kept."""
    kept: dict[tuple[str, str], Field] = {}
    for entry in found:
        kept.setdefault((entry["in"], entry["field"]), entry)
    return sorted(kept.values(), key=lambda entry: (entry["in"], entry["field"]))


def in_body(contract: Contract, ref: str, body: Any, where: str) -> list[Field]:
    """The fields of ``body`` that ``ref`` does not declare, all under ``where``."""
    return _unique(
        {"in": where, "field": general(body, pointer), "example": pointer}
        for pointer in _known.undeclared(contract, ref, body)
    )


def in_exchange(exchange: Exchange) -> list[Field]:
    """The fields of a response body that its documented schema does not declare."""
    ref = schema_for(exchange)
    if ref is None or not exchange.body_is_json:
        return []
    return in_body(exchange.contract, ref, exchange.body, exchange.operation.operation_id)


def event_type(body: Any, index: int) -> str | None:
    events = body.get(EVENTS) if isinstance(body, dict) else None
    event = events[index] if isinstance(events, list) and index < len(events) else None
    kind = event.get("type") if isinstance(event, dict) else None
    return kind if isinstance(kind, str) else None


def event_types(contract: Contract) -> list[str]:
    """The event types the contract's webhook deliveries may carry."""
    schema = contract.resolve(EVENT_SCHEMA)
    kinds = ((schema.get("properties") or {}).get("type") or {}).get("enum") or []
    return [str(kind) for kind in kinds]


def in_delivery(contract: Contract, body: Any) -> list[Field]:
    """The fields of a webhook delivery the contract does not declare: the envelope's under
    ``EventWebhooks``, an event's under its type, its field counted from the event.

    An event of a type the contract does not know fails its schema; which fields it should have
    is unknown, so none of them is reported.
    """
    found: list[Field] = []
    known = set(event_types(contract))
    for pointer in _known.undeclared(contract, DELIVERY_SCHEMA, body):
        tokens = pointers.tokens(pointer)
        inside = len(tokens) > 2 and tokens[0] == EVENTS and tokens[1].isdigit()
        kind = event_type(body, int(tokens[1])) if inside else None
        if not inside:
            found.append({"in": WEBHOOK_OPERATION, "field": general(body, pointer), "example": pointer})
        elif kind in known:
            found.append({"in": str(kind), "field": general(body, pointer, start=2), "example": pointer})
    return _unique(found)


def in_event(contract: Contract, event: Any, kind: str) -> list[Field]:
    """The fields of one webhook event (not in its delivery) the contract does not declare, as
    an event of type ``kind``."""
    return in_body(contract, EVENT_SCHEMA, {**event, "type": kind} if isinstance(event, dict) else event, kind)


def shown(entry: Field) -> str:
    """``where field``, and the example pointer when it says more (an index, an event's place)."""
    example = f", e.g. {entry['example']}" if entry["example"] != entry["field"] else ""
    return f"{entry['in']} {entry['field']}{example}"
