"""What one operation's exchanges depend on in a contract, as a short hash.

An operation (or a webhook) depends on its index entry (method, path, parameters, bodies, statuses,
error codes, security), the security schemes that entry names, and every schema document its
entry's schemas reach through ``$ref`` (and discriminator mappings): its ``operations/<id>.json``
and the ``components/`` it uses, however deep. A cassette keeps one such hash per operation it
called, so a contract change marks only the cassettes whose operations it reaches.

The walk is by document: a change anywhere in a reached document counts, which errs on the side of
re-recording. Hashes are of canonical JSON (sorted keys), so formatting never counts.
"""

from __future__ import annotations

import hashlib
import json
import weakref
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from conformance.contract._schemas_contract import Contract, urljoin
from conformance.contract.importer import BASE_URI

# Hex digits kept of each hash: a change to be noticed, not a signature; short enough to read in YAML.
LENGTH = 16
# What a recording's operation hashes to under a contract that lacks the operation.
ABSENT = "absent"

_cache: weakref.WeakKeyDictionary[Contract, dict[str, str]] = weakref.WeakKeyDictionary()


def entry(contract: Contract, operation_id: str) -> Mapping[str, Any] | None:
    """The index entry of an operation or of a webhook (``EventWebhooks``); None when the contract lacks it."""
    for section in ("operations", "webhooks"):
        found = (contract.index.get(section) or {}).get(operation_id)
        if isinstance(found, Mapping):
            return found
    return None


def _entry_refs(found: Mapping[str, Any]) -> Iterator[str]:
    """The schemas an index entry names: parameter objects, request bodies and answers by media type."""
    yield from (ref for ref in (found.get("params") or {}).values() if isinstance(ref, str))
    yield from (ref for ref in ((found.get("request") or {}).get("content") or {}).values() if isinstance(ref, str))
    for answer in (found.get("responses") or {}).values():
        if isinstance(answer, Mapping):
            yield from (ref for ref in (answer.get("content") or {}).values() if isinstance(ref, str))


def _refs(schema: Any) -> Iterator[str]:
    """Every reference a schema document makes: ``$ref`` values and discriminator mapping targets."""
    if isinstance(schema, list):
        for item in schema:
            yield from _refs(item)
    elif isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            elif key == "discriminator" and isinstance(value, dict):
                yield from (ref for ref in (value.get("mapping") or {}).values() if isinstance(ref, str))
            else:
                yield from _refs(value)


def _document(uri: str) -> str:
    """``https://…/components/x.json#/a`` -> ``components/x.json`` (a URI outside the contract stays whole)."""
    bare = uri.split("#", 1)[0]
    return bare.removeprefix(BASE_URI)


def closure(contract: Contract, operation_id: str) -> tuple[str, ...]:
    """The schema documents an operation's entry reaches, sorted (a reference to no document is kept as named)."""
    found = entry(contract, operation_id)
    if found is None:
        return ()
    todo = [_document(urljoin(BASE_URI, ref)) for ref in _entry_refs(found)]
    seen: set[str] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        document = contract.documents.get(path)
        if document is None:
            continue
        base = str(document.get("$id") or BASE_URI + path)
        todo += [_document(urljoin(base, ref)) for ref in _refs(document)]
    return tuple(sorted(seen))


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def operation_hash(contract: Contract, operation_id: str) -> str:
    """The hash of what ``operation_id`` depends on in ``contract`` (:data:`ABSENT` when it lacks it).

    Computed once per operation and contract: recording notes it at every exchange.
    """
    known = _cache.setdefault(contract, {})
    cached = known.get(operation_id)
    if cached is not None:
        return cached
    found = entry(contract, operation_id)
    if found is None:
        known[operation_id] = ABSENT
        return ABSENT
    schemes = contract.index.get("securitySchemes") or {}
    named = sorted({name for item in found.get("security") or [] for name in item})
    depends = {
        "operation": operation_id,
        "entry": found,
        "securitySchemes": {name: schemes.get(name) for name in named},
        "documents": {path: contract.documents.get(path) for path in closure(contract, operation_id)},
    }
    digest = hashlib.sha256(_canonical(depends)).hexdigest()[:LENGTH]
    known[operation_id] = digest
    return digest


def hashes(contract: Contract, operation_ids: Iterable[str]) -> dict[str, str]:
    """operationId -> its hash in ``contract``, sorted by operation."""
    return {op: operation_hash(contract, op) for op in sorted(set(operation_ids))}


def changed(contract: Contract, recorded: Mapping[str, str]) -> list[str]:
    """The operations whose recorded hash is not the one ``contract`` gives them, sorted."""
    return sorted(op for op, digest in recorded.items() if operation_hash(contract, op) != digest)


def reaching(contract: Contract, document: str) -> list[str]:
    """The operations and webhooks whose schemas reach ``document`` (``components/x.json``), sorted."""
    ids = [*(contract.index.get("operations") or {}), *(contract.index.get("webhooks") or {})]
    return sorted(op for op in ids if document in closure(contract, op))
