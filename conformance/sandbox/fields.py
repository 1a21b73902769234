"""Write-only fields out of what a record keeps: handlers never store or answer a credential."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from conformance import pointer as pointers
from conformance.contract.schemas import Contract


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        yield from value
        for item in value.values():
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def strip_write_only(contract: Contract, ref: str, body: Any) -> list[str]:
    """Remove, in place, every writeOnly field of ``body`` judged by the schema ``ref``; return their pointers."""
    # The exact check is slow on long lists; most bodies have no key that could be write-only.
    if not isinstance(body, (dict, list)) or contract.write_only_fields(ref).isdisjoint(_keys(body)):
        return []
    found = sorted(contract.annotated_pointers(ref, body), reverse=True)
    for pointer in found:
        pointers.remove(body, pointer)
    return found
