"""Case-insensitive header dicts (vcrpy's and requests', both the same design), read and filled in one pass.

Both keep a store of the lower-cased name mapped to ``(name as first given, value)``. Filling one
key by key through the mapping interface was a visible share of a replayed exchange's cost, so
these read and write that store directly (``vcr_adapter.header_store``), and fall back to the
mapping interface for anything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from vcr.request import HeadersDict

from conformance.cassettes.vcr_adapter import header_store


def header_items(headers: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The ``(name, value)`` pairs of a header mapping, names as given."""
    store = header_store(headers)
    if store is not None:
        return list(store.values())
    return list(headers.items())


def headers_dict(items: Iterable[tuple[str, Any]]) -> HeadersDict:
    """What ``HeadersDict(dict(items))`` holds: a list value stands for its first element, and a name
    given twice keeps its first spelling and its last value."""
    built = HeadersDict()
    store = header_store(built)
    if store is None:
        for name, value in items:
            built[name] = value
        return built
    for name, value in items:
        if isinstance(value, tuple | list):
            value = value[0]
        lower = name.lower()
        old = store.get(lower)
        store[lower] = (old[0] if old else name, value)
    return built
