"""Which fields a schema lets a record have, so handlers keep what the API keeps and no more."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any
from urllib.parse import urljoin

from conformance.schemas import read_only_fields, resolve, schema_uri, write_only_fields


@cache
def declared_fields(ref: str) -> frozenset[str]:
    """Top-level property names of a schema, through ``$ref`` and ``allOf`` (not nested objects)."""
    uri = schema_uri(ref)
    return frozenset(_declared(resolve(uri), uri.split("#")[0], set()))


def _declared(schema: Any, base: str, seen: set[str]) -> Iterator[str]:
    if not isinstance(schema, dict):
        return
    yield from (schema.get("properties") or {})
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target = urljoin(base, ref)
        if target not in seen:
            seen.add(target)
            yield from _declared(resolve(target), target.split("#")[0], seen)
    for sub in schema.get("allOf", []):
        yield from _declared(sub, base, seen)


def writable(ref: str, body: Mapping[str, Any], *, also_drop: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The part of a request body a record stores: declared, neither writeOnly nor readOnly."""
    keep = declared_fields(ref) - write_only_fields(ref) - read_only_fields(ref) - also_drop
    return {name: value for name, value in body.items() if name in keep}
