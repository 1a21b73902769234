"""Which fields a schema lets a record have, so handlers keep what the API keeps and no more."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from conformance import pointer as pointers
from conformance.spec.schemas import annotated_pointers, declared_fields, read_only_fields, write_only_fields


def writable(ref: str, body: Mapping[str, Any], *, also_drop: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The part of a request body a record stores: declared, neither writeOnly nor readOnly."""
    keep = declared_fields(ref) - write_only_fields(ref) - read_only_fields(ref) - also_drop
    return {name: value for name, value in body.items() if name in keep}


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        yield from value
        for item in value.values():
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def strip_write_only(ref: str, body: Any) -> list[str]:
    """Remove, in place, every writeOnly field of ``body`` judged by the schema ``ref``; return their pointers."""
    # The exact check is slow on long lists; most bodies have no key that could be write-only.
    if not isinstance(body, (dict, list)) or write_only_fields(ref).isdisjoint(_keys(body)):
        return []
    found = sorted(annotated_pointers(ref, body), reverse=True)
    for pointer in found:
        pointers.remove(body, pointer)
    return found
