"""What a create or an update of a resource's record must answer: its status, and the fields it
must reflect (echoes) and complete with documented defaults."""

from __future__ import annotations

from typing import Any

from conformance import pointer as pointers
from conformance.contract.resources import Resource
from conformance.model import Expect, Variant

CREATED = 201
UPDATED = 200


def echo_pairs(item: Resource, body: Any) -> tuple[tuple[str, str], ...]:
    """Request fields a response must reflect: sent, kept by the record, and not rewritten by the server."""
    if not isinstance(body, dict):
        return ()
    record = item.record_schema
    declared = item.against.applicable_properties(record, body, "response") if record else {}
    pairs = []
    for name, value in body.items():
        schema = declared.get(name)
        if schema is None or schema.get("writeOnly") or name in item.server_fields or value is None:
            continue
        if isinstance(value, list) and any(isinstance(v, dict) for v in value):
            continue  # items the server completes (ids, secrets) are not echoes
        if name in item.completed and isinstance(value, dict) and record:
            hidden = set(item.against.annotated_pointers(record, {name: value}, "writeOnly"))
            pairs.extend(_member_pairs(f"/{name}", value, item.record_pointer, hidden))
            continue
        pairs.append((f"/{name}", f"{item.record_pointer}/{name}"))
    return tuple(pairs)


def _member_pairs(at: str, value: dict[str, Any], record_at: str, hidden: set[str]) -> list[tuple[str, str]]:
    """An object the server completes is echoed member by member; write-only members are not echoes."""
    pairs: list[tuple[str, str]] = []
    for name, member in value.items():
        here = pointers.child(at, name)
        if here in hidden or member is None or (isinstance(member, list) and any(isinstance(v, dict) for v in member)):
            continue
        if isinstance(member, dict) and member:
            pairs.extend(_member_pairs(here, member, record_at, hidden))
        else:
            pairs.append((here, record_at + here))
    return pairs


def created(item: Resource, body: Any, label: str) -> Variant:
    """A create the API accepts: 201, what was sent reflected, documented defaults filled in."""
    return Variant(label, body, Expect(CREATED, echo=echo_pairs(item, body), defaults_at=item.record_pointer))


def updated(item: Resource, body: Any, label: str) -> Variant:
    """An update the API accepts: 200, the changes reflected."""
    return Variant(label, body, Expect(UPDATED, echo=echo_pairs(item, body)))
