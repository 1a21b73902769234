"""Hypothesis strategies read off the JSON Schemas.

Valid values stay inside a plain alphabet: a live API also checks values the schema cannot
express (URLs, colours, e-mail domains), and a conformance run must not fail on noise it sent.
Invalid values come from hypothesis-jsonschema, which is good at "anything but this type".
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from conformance.spec.schemas import deref, resolve, schema_uri

SAFE_ALPHABET = string.ascii_letters + string.digits + "-_."
Hints = Mapping[str, st.SearchStrategy[Any]]


def safe_text(min_size: int = 1, max_size: int = 24) -> st.SearchStrategy[str]:
    return st.text(alphabet=SAFE_ALPHABET, min_size=min_size, max_size=max(min_size, max_size))


def hex_id() -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789abcdef", min_size=24, max_size=24)


JSON_TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")


def not_of_type(*types: str) -> st.SearchStrategy[Any]:
    """Any JSON value whose type is none of ``types``."""
    # hypothesis-jsonschema 0.23 cannot draw objects under Hypothesis >= 6.1xx (its object
    # generator uses a removed internal), so objects are drawn here and the rest by it.
    others = [kind for kind in JSON_TYPES if kind not in types and not (kind == "number" and "integer" in types)]
    choices = [
        st.dictionaries(safe_text(1, 8), from_schema({"type": ["integer", "string", "boolean"]}), max_size=2)
        if kind == "object"
        else from_schema(
            {"type": kind, "maxItems": 2, "items": {"type": ["integer", "string", "boolean", "null"]}}
            if kind == "array"
            else {"type": kind}
        )
        for kind in others
    ]
    # An integer is also a number, so "not a number" must not draw integral floats.
    return st.one_of(choices).filter(lambda value: not _has_type(value, types))


def _has_type(value: Any, types: tuple[str, ...]) -> bool:
    checks = {
        "null": value is None,
        "boolean": isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        "string": isinstance(value, str),
        "array": isinstance(value, list),
        "object": isinstance(value, dict),
    }
    return any(checks[kind] for kind in types)


def valid_value(
    schema: dict[str, Any],
    *,
    name: str = "",
    base: str = "",
    hints: Hints | None = None,
) -> st.SearchStrategy[Any]:
    """A strategy for values that satisfy ``schema`` (never null, never read-only parts)."""
    hints = hints or {}
    if name in hints:
        return hints[name]
    schema, base = deref(schema, base)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from([value for value in schema["enum"] if value is not None])
    types = schema.get("type", "string")
    kind = next((t for t in ([types] if isinstance(types, str) else types) if t != "null"), "string")
    if kind == "string":
        return safe_text(schema.get("minLength", 1), min(schema.get("maxLength", 24), 24))
    if kind == "boolean":
        return st.booleans()
    if kind in ("integer", "number"):
        return st.integers(schema.get("minimum", 0), schema.get("maximum", 1000))
    if kind == "array":
        items = valid_value(schema.get("items", {}), base=base, hints=hints)
        low = schema.get("minItems", 0)
        return st.lists(items, min_size=low, max_size=max(low, min(schema.get("maxItems", 2), 2)))
    if kind == "object":
        return object_of(schema, base=base, hints=hints)
    return from_schema(schema)


def object_of(schema: dict[str, Any], *, base: str, hints: Hints | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """An object holding just the required, writable properties of ``schema``."""
    properties = schema.get("properties", {})
    required = {
        name: valid_value(properties.get(name, {}), name=name, base=base, hints=hints)
        for name in schema.get("required", [])
        if not properties.get(name, {}).get("readOnly")
    }
    return st.fixed_dictionaries(required)


def branch_for(ref: str, discriminator: str, value: str) -> dict[str, Any]:
    """The ``then`` of the ``allOf`` entry whose ``if`` pins ``discriminator`` to ``value``."""
    for entry in resolve(ref).get("allOf", []):
        condition = entry.get("if", {}).get("properties", {}).get(discriminator, {})
        if condition.get("const") == value:
            then: dict[str, Any] = entry.get("then", {})
            return then
    return {}


def required_fields(ref: str, discriminator: str, value: str, resource_defs: str) -> dict[str, dict[str, Any]]:
    """Required fields of one discriminated variant, each with its merged property schema."""
    then = branch_for(ref, discriminator, value)
    own = resolve(f"{resource_defs}/{value}").get("properties", {})
    return {
        name: {**own.get(name, {}), **then.get("properties", {}).get(name, {})} for name in then.get("required", [])
    }


def base_of(ref: str) -> str:
    return schema_uri(ref).split("#")[0]
