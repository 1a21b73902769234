"""Invalid requests derived from the schemas, each paired with the documented error it must get.

Every group starts from valid bodies (one per shape, for a discriminated body) and breaks one
thing at a time: a required field left out, a field of the wrong JSON type, a length or size one
past its bound, a value outside an enum, a string that breaks its pattern. A derived body is kept
only if the contract's own validator rejects it, so no "invalid" variant is secretly valid.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from conformance.contract.schemas import Contract, shipped
from conformance.model import Expect, RawBody, Variant
from conformance.variants.strategies import hex_id, not_of_type, safe_text, types_of

BAD_REQUEST = "bad_request"
Breaker = Callable[[str, dict[str, Any], Contract], Iterator[tuple[str, Any]]]


@dataclass(frozen=True)
class Broken:
    """One way to break a body: what was done (for the label) and the broken body."""

    label: str
    body: Any


def _without(body: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != name}


def _shape(body: dict[str, Any], discriminator: str | None) -> str:
    if discriminator and isinstance(body.get(discriminator), str):
        return f"{body[discriminator]} body"
    return "body"


def missing_required(ref: str, body: dict[str, Any], contract: Contract) -> Iterator[tuple[str, Any]]:
    for name in contract.applicable_required(ref, body):
        yield f"without {name}", _without(body, name)


def _wrong_value(schema: dict[str, Any]) -> st.SearchStrategy[Any] | None:
    kinds = types_of(schema)
    return not_of_type(*kinds) if kinds else None


def _bounds(schema: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    kinds = types_of(schema)
    if "string" in kinds:
        if "maxLength" in schema:
            yield (
                f"of {schema['maxLength'] + 1} characters (maxLength {schema['maxLength']})",
                "a" * (int(schema["maxLength"]) + 1),
            )
        if int(schema.get("minLength", 0)) > 0:
            yield (
                f"of {schema['minLength'] - 1} characters (minLength {schema['minLength']})",
                "a" * (int(schema["minLength"]) - 1),
            )
    if "integer" in kinds or "number" in kinds:
        if "maximum" in schema:
            yield f"of {schema['maximum'] + 1} (maximum {schema['maximum']})", schema["maximum"] + 1
        if "minimum" in schema:
            yield f"of {schema['minimum'] - 1} (minimum {schema['minimum']})", schema["minimum"] - 1
    if "array" in kinds:
        if "maxItems" in schema:
            yield (
                f"of {schema['maxItems'] + 1} items (maxItems {schema['maxItems']})",
                ["a"] * (int(schema["maxItems"]) + 1),
            )
        if int(schema.get("minItems", 0)) > 0:
            yield (
                f"of {schema['minItems'] - 1} items (minItems {schema['minItems']})",
                ["a"] * (int(schema["minItems"]) - 1),
            )


def _properties(contract: Contract, ref: str, body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: schema
        for name, schema in contract.applicable_properties(ref, body).items()
        if not schema.get("readOnly") and not schema.get("deprecated")
    }


def out_of_bounds(ref: str, body: dict[str, Any], contract: Contract) -> Iterator[tuple[str, Any]]:
    for name, schema in _properties(contract, ref, body).items():
        for label, value in _bounds(schema):
            yield f"{name} {label}", {**body, name: value}


def outside_enum(ref: str, body: dict[str, Any], contract: Contract) -> Iterator[tuple[str, Any]]:
    for name, schema in _properties(contract, ref, body).items():
        values = [v for v in schema.get("enum") or [] if isinstance(v, str)]
        if values:
            yield f"{name} outside its enum", {**body, name: "not-" + values[0]}


def broken_pattern(ref: str, body: dict[str, Any], contract: Contract) -> Iterator[tuple[str, Any]]:
    for name, schema in _properties(contract, ref, body).items():
        if isinstance(schema.get("pattern"), str) and "string" in types_of(schema):
            yield f"{name} breaking its pattern", {**body, name: "not matching!"}
        items = schema.get("items")
        if isinstance(items, dict) and isinstance(items.get("pattern"), str):
            yield f"{name} with an item breaking its pattern", {**body, name: ["not matching!"]}


def invalid(
    ref: str,
    bodies: list[Any],
    breaker: Breaker,
    code: str,
    *,
    limit: int,
    discriminator: str | None,
    contract: Contract | None = None,
) -> list[Variant]:
    """Up to ``limit`` variants, spread over the bases, each rejected by the contract's validator."""
    contract = contract or shipped()
    validator = contract.validator(ref, "request")
    per_base: list[list[Variant]] = []
    done: set[str] = set()
    for base in bodies:
        if not isinstance(base, dict):
            continue
        group = []
        for label, broken in breaker(ref, base, contract):
            # Breaking the discriminator itself is the same test whatever the shape: once is enough.
            about_discriminator = discriminator is not None and (
                label == f"without {discriminator}" or label.startswith(f"{discriminator} ")
            )
            if about_discriminator and label in done:
                continue
            if not validator.is_valid(broken):
                done.add(label)
                group.append(Variant(f"{_shape(base, discriminator)} {label}", broken, Expect(400, code)))
        per_base.append(group)
    # Round-robin over the bases, so a cap keeps every shape represented.
    out: list[Variant] = []
    while len(out) < limit and any(per_base):
        for group in per_base:
            if group and len(out) < limit:
                out.append(group.pop(0))
    return out


def wrong_types(
    bases: st.SearchStrategy[list[Any]],
    ref: str,
    code: str,
    *,
    limit: int,
    discriminator: str | None,
    contract: Contract | None = None,
) -> st.SearchStrategy[list[Variant]]:
    """For each base, one field at a time set to a value of another JSON type."""
    chosen = contract or shipped()

    def build(drawn: list[Any]) -> st.SearchStrategy[list[Variant]]:
        parts: list[st.SearchStrategy[Variant | None]] = []
        validator = chosen.validator(ref, "request")
        for base in drawn:
            if not isinstance(base, dict):
                continue
            for name, schema in _properties(chosen, ref, base).items():
                wrong = _wrong_value(schema)
                if wrong is None:
                    continue
                label = f"{_shape(base, discriminator)} with {name} of a wrong JSON type"
                parts.append(wrong.map(_breaking(validator, base, name, label, code)))
        spread = _spread(parts, limit)
        return st.tuples(*spread).map(lambda found: [v for v in found if v is not None])

    return bases.flatmap(build)


def _breaking(
    validator: Any, base: dict[str, Any], name: str, label: str, code: str
) -> Callable[[Any], Variant | None]:
    def make(value: Any) -> Variant | None:
        body = {**base, name: value}
        if validator.is_valid(body):
            return None
        return Variant(f"{label} ({type(value).__name__})", body, Expect(400, code))

    return make


def _spread(parts: list[Any], limit: int) -> list[Any]:
    if len(parts) <= limit:
        return parts
    step = len(parts) / limit
    return [parts[int(i * step)] for i in range(limit)]


def not_json(code: str = BAD_REQUEST) -> st.SearchStrategy[Variant]:
    broken = st.sampled_from(
        ['{"type": "web"', "type=web&displayName=x", "{'type': 'web'}", '<body type="web"/>', "[1, 2,]"]
    )
    return broken.filter(_not_json).map(
        lambda text: Variant(f"body that is not JSON: {text[:30]!r}", RawBody(text), Expect(400, code))
    )


def _not_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return True
    return False


def unknown_ids(id_param: str, code: str) -> st.SearchStrategy[Variant]:
    return hex_id().map(
        lambda value: Variant(f"unknown {id_param}", None, Expect(404, code), params={"path": {id_param: value}})
    )


def bad_page_sizes(code: str = BAD_REQUEST) -> st.SearchStrategy[Variant]:
    sizes = st.one_of(st.integers(-5, 0), st.integers(101, 1000)).map(str) | st.sampled_from(["many", "2.5"])
    return sizes.map(
        lambda size: Variant(f"page[size]={size}", None, Expect(400, code), params={"query": {"page[size]": size}})
    )


def both_cursors(code: str = BAD_REQUEST) -> st.SearchStrategy[Variant]:
    return st.tuples(hex_id(), hex_id()).map(
        lambda ids: Variant(
            "page[after] and page[before] together",
            None,
            Expect(400, code),
            params={"query": {"page[after]": ids[0], "page[before]": ids[1]}},
        )
    )


__all__ = [
    "BAD_REQUEST",
    "Broken",
    "bad_page_sizes",
    "both_cursors",
    "broken_pattern",
    "invalid",
    "missing_required",
    "not_json",
    "out_of_bounds",
    "outside_enum",
    "safe_text",
    "unknown_ids",
    "wrong_types",
]
