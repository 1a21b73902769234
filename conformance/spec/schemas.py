"""The JSON Schemas under ``schemas/`` and the operation index that ties them to the API.

Every schema file carries an ``$id`` under :data:`BASE_URI`; all of them are loaded into one
``referencing`` registry, so ``$ref`` between files resolves offline and nothing is fetched.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import jsonschema
import referencing
import referencing.jsonschema

from conformance import pointer as pointers

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
BASE_URI = "https://schemas.sunco-conformance.test/"
INDEX_FILE = "index.json"


@dataclass(frozen=True)
class Operation:
    """One API operation as the index describes it."""

    operation_id: str
    resource: str
    method: str
    path: str
    request: str | None = None
    query: str | None = None
    responses: dict[int, str | None] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """How failures name it: ``CreateIntegration (POST /v2/apps/{appId}/integrations)``."""
        return f"{self.operation_id} ({self.method} {self.path})"

    @property
    def documented_statuses(self) -> tuple[int, ...]:
        return tuple(sorted(self.responses))

    def response_schema(self, status: int) -> str | None:
        return self.responses.get(status)


def iter_schema_files(directory: Path = SCHEMA_DIR) -> Iterator[Path]:
    """Every schema file (the index is data, not a schema)."""
    for path in sorted(directory.glob("*.json")):
        if path.name != INDEX_FILE:
            yield path


@cache
def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


@cache
def load_index(directory: Path = SCHEMA_DIR) -> dict[str, Operation]:
    raw = _load(directory / INDEX_FILE)["operations"]
    return {
        operation_id: Operation(
            operation_id=operation_id,
            resource=entry["resource"],
            method=entry["method"].upper(),
            path=entry["path"],
            request=entry.get("request"),
            query=entry.get("query"),
            responses={int(status): ref for status, ref in entry["responses"].items()},
        )
        for operation_id, entry in raw.items()
    }


def operation(operation_id: str) -> Operation:
    index = load_index()
    try:
        return index[operation_id]
    except KeyError:
        allowed = ", ".join(sorted(index))
        raise KeyError(f"unknown operation {operation_id!r}; known operations: {allowed}") from None


@cache
def registry(directory: Path = SCHEMA_DIR) -> referencing.Registry[Any]:
    resources = []
    for path in iter_schema_files(directory):
        contents = _load(path)
        resources.append((contents["$id"], referencing.jsonschema.DRAFT202012.create_resource(contents)))
    return referencing.Registry().with_resources(resources)


def schema_uri(ref: str) -> str:
    """``integration.json#/$defs/web`` -> its absolute URI under :data:`BASE_URI`."""
    return ref if ref.startswith(("http://", "https://")) else BASE_URI + ref


@cache
def validator(ref: str) -> jsonschema.protocols.Validator:
    """A validator for a schema file, or a ``$defs`` entry within one (``file.json#/$defs/x``)."""
    cls = jsonschema.Draft202012Validator
    return cls({"$ref": schema_uri(ref)}, registry=registry(), format_checker=cls.FORMAT_CHECKER)


def resolve(ref: str) -> dict[str, Any]:
    """The schema a reference points to, with its own references still in place."""
    resolved: dict[str, Any] = registry().resolver().lookup(schema_uri(ref)).contents
    return resolved


def _walk(schema: Any, base: str, seen: set[str], flag: str) -> Iterator[str]:
    """Property names that carry ``flag`` (readOnly/writeOnly) anywhere below ``schema``."""
    if isinstance(schema, list):
        for item in schema:
            yield from _walk(item, base, seen, flag)
        return
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target = urljoin(base, ref)
        if target not in seen:
            seen.add(target)
            yield from _walk(resolve(target), target.split("#")[0], seen, flag)
    for name, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, dict) and sub.get(flag) is True:
            yield name
    for key, value in schema.items():
        if key not in ("$ref", "const", "enum", "default", "examples"):
            yield from _walk(value, base, seen, flag)


@cache
def write_only_fields(ref: str) -> frozenset[str]:
    """Names of the properties a request may send but a response must never return."""
    return frozenset(_walk(resolve(ref), schema_uri(ref).split("#")[0], set(), "writeOnly"))


@cache
def read_only_fields(ref: str) -> frozenset[str]:
    return frozenset(_walk(resolve(ref), schema_uri(ref).split("#")[0], set(), "readOnly"))


def annotated_pointers(ref: str, instance: Any, flag: str = "writeOnly") -> list[str]:
    """JSON pointers of the instance's properties whose applicable schema carries ``flag``.

    Only the subschemas that apply to this instance count (an ``if`` that holds, an ``anyOf``
    branch that matches), so a field that is write-only for one integration type and not for
    another is judged by the type the instance has.
    """
    found: list[str] = []
    _annotate(resolve(ref), schema_uri(ref).split("#")[0], instance, "", flag, found, 0)
    return sorted(set(found))


_SUBSCHEMA_VALIDATORS: dict[tuple[int, str], tuple[Any, jsonschema.protocols.Validator]] = {}


def _is_valid(schema: Any, base: str, instance: Any) -> bool:
    # Subschemas come from the cached registry, so their identity is stable; building a validator
    # per call would cost more than the validation itself.
    key = (id(schema), base)
    cached = _SUBSCHEMA_VALIDATORS.get(key)
    if cached is None or cached[0] is not schema:
        cls = jsonschema.Draft202012Validator
        wrapped = schema if isinstance(schema, bool) or "$id" in schema else {**schema, "$id": base}
        cached = (schema, cls(wrapped, registry=registry()))
        _SUBSCHEMA_VALIDATORS[key] = cached
    return bool(cached[1].is_valid(instance))


def _annotate(schema: Any, base: str, instance: Any, pointer: str, flag: str, found: list[str], depth: int) -> None:
    if not isinstance(schema, dict) or depth > 64:
        return
    if isinstance(schema.get("$ref"), str):
        target = urljoin(base, schema["$ref"])
        _annotate(resolve(target), target.split("#")[0], instance, pointer, flag, found, depth + 1)
    for key in ("allOf",):
        for sub in schema.get(key, []):
            _annotate(sub, base, instance, pointer, flag, found, depth + 1)
    for key in ("anyOf", "oneOf"):
        for sub in schema.get(key, []):
            if _is_valid(sub, base, instance):
                _annotate(sub, base, instance, pointer, flag, found, depth + 1)
    if "if" in schema and _is_valid(schema["if"], base, instance) and "then" in schema:
        _annotate(schema["then"], base, instance, pointer, flag, found, depth + 1)
    if isinstance(instance, dict):
        for name, sub in (schema.get("properties") or {}).items():
            if name in instance and isinstance(sub, dict):
                here = pointers.child(pointer, name)
                if sub.get(flag) is True:
                    found.append(here)
                _annotate(sub, base, instance[name], here, flag, found, depth + 1)
    if isinstance(instance, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(instance):
            _annotate(schema["items"], base, item, pointers.child(pointer, index), flag, found, depth + 1)


def deref(schema: dict[str, Any], base: str) -> tuple[dict[str, Any], str]:
    """Follow ``$ref`` until a schema with content, and the base URI its own references use."""
    while isinstance(schema.get("$ref"), str):
        target = urljoin(base, schema["$ref"])
        schema, base = resolve(target), target.split("#")[0]
    return schema, base


def _top_properties(schema: Any, base: str, seen: set[str]) -> Iterator[tuple[str, Any, str]]:
    """(name, schema, base) of each top-level property, through ``$ref`` and ``allOf``."""
    if not isinstance(schema, dict):
        return
    for name, sub in (schema.get("properties") or {}).items():
        yield name, sub, base
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target = urljoin(base, ref)
        if target not in seen:
            seen.add(target)
            yield from _top_properties(resolve(target), target.split("#")[0], seen)
    for sub in schema.get("allOf", []):
        yield from _top_properties(sub, base, seen)


def _top_properties_of(ref: str) -> Iterator[tuple[str, Any, str]]:
    uri = schema_uri(ref)
    return _top_properties(resolve(uri), uri.split("#")[0], set())


@cache
def declared_fields(ref: str) -> frozenset[str]:
    """Top-level property names of a schema, through ``$ref`` and ``allOf`` (not nested objects)."""
    return frozenset(name for name, _, _ in _top_properties_of(ref))


def property_schema(ref: str, name: str) -> dict[str, Any]:
    """The schema of one top-level property (the first declaration found), references followed."""
    for found, sub, base in _top_properties_of(ref):
        if found == name and isinstance(sub, dict):
            return deref(sub, base)[0]
    return {}
