"""Hypothesis strategies for values that satisfy a JSON Schema of the contract.

Valid values stay plain: strings from a safe alphabet unless a pattern or format says otherwise,
short arrays, objects with their required fields and, where asked, the optional ones. A live API
also checks what no schema can say (that a URL resolves, a colour is a colour), so definitions
add value hints by field name; every generated body is finally held to the request schema, so a
"valid" variant is valid by the contract's own judgement.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from hypothesis import strategies as st

from conformance.contract.schemas import Contract, schema_uri, shipped

SAFE_ALPHABET = string.ascii_letters + string.digits + "-_."
JSON_TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")
MAX_DEPTH = 6


@dataclass(frozen=True)
class Hints:
    """What a definition knows that a schema does not: plausible values, and fields to leave alone."""

    values: Mapping[str, st.SearchStrategy[Any]] = field(default_factory=dict)
    # optional fields never generated (they must name things that exist elsewhere, say)
    skip: frozenset[str] = frozenset()
    # optional fields always generated (a rule only prose states needs them)
    always: frozenset[str] = frozenset()
    # generate optional fields too (a create that sets everything), not only the required ones
    optional: bool = True
    # a last touch for rules across fields that no schema keyword generates (an address at a domain)
    fix: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def merged(self, other: Hints) -> Hints:
        fixes = [f for f in (self.fix, other.fix) if f is not None]

        def both(body: dict[str, Any]) -> dict[str, Any]:
            for fix in fixes:
                body = fix(body)
            return body

        return Hints(
            {**self.values, **other.values},
            self.skip | other.skip,
            self.always | other.always,
            self.optional and other.optional,
            both if fixes else None,
        )


NO_HINTS = Hints()


def safe_text(min_size: int = 1, max_size: int = 24) -> st.SearchStrategy[str]:
    return st.text(alphabet=SAFE_ALPHABET, min_size=min_size, max_size=max(min_size, max_size))


def hex_id() -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789abcdef", min_size=24, max_size=24)


def types_of(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    return list(kind) if isinstance(kind, list) else []


def has_type(value: Any, kinds: list[str] | tuple[str, ...]) -> bool:
    checks = {
        "null": value is None,
        "boolean": isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        "string": isinstance(value, str),
        "array": isinstance(value, list),
        "object": isinstance(value, dict),
    }
    return any(checks[kind] for kind in kinds)


def not_of_type(*kinds: str) -> st.SearchStrategy[Any]:
    """Any JSON value whose type is none of ``kinds``."""
    samples: dict[str, st.SearchStrategy[Any]] = {
        "null": st.none(),
        "boolean": st.booleans(),
        "integer": st.integers(-1000, 1000),
        "number": st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False).filter(lambda x: not x.is_integer()),
        "string": safe_text(1, 12),
        "array": st.lists(st.one_of(st.integers(0, 9), safe_text(1, 4)), max_size=2),
        "object": st.dictionaries(safe_text(1, 6), st.integers(0, 9), max_size=2),
    }
    others = [kind for kind in JSON_TYPES if kind not in kinds and not (kind == "number" and "integer" in kinds)]
    return st.one_of([samples[kind] for kind in others]).filter(lambda value: not has_type(value, kinds))


def _string(schema: Mapping[str, Any]) -> st.SearchStrategy[str]:
    low = int(schema.get("minLength", 1))
    high = int(schema.get("maxLength", max(low, 24)))
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True).filter(lambda text: low <= len(text) <= high)
    fmt = schema.get("format")
    if fmt == "email":
        return safe_text(1, 12).map(lambda name: f"{name.strip('.') or 'user'}@example.com")
    if fmt in ("uri", "url"):
        return safe_text(1, 12).map(lambda slug: f"https://example.com/{slug}")
    if fmt == "date-time":
        # The vendor's documented form (UTC, milliseconds), which the live service also sends.
        moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1))
        return moments.map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z")
    return safe_text(low, min(high, max(low, 24)))


class Generator:
    """Strategies for the schemas of one contract, with a definition's hints."""

    def __init__(self, hints: Hints = NO_HINTS, *, contract: Contract | None = None) -> None:
        self.hints = hints
        self.contract = contract or shipped()

    def for_ref(self, ref: str) -> st.SearchStrategy[Any]:
        uri = schema_uri(ref)
        return self.value(self.contract.resolve(uri), uri.split("#")[0])

    def value(self, schema: Any, base: str, name: str = "", depth: int = 0) -> st.SearchStrategy[Any]:
        if name and name in self.hints.values:
            return self.hints.values[name]
        if not isinstance(schema, dict) or depth > MAX_DEPTH:
            return st.just("x")
        schema, base = self.flatten(schema, base)
        if "const" in schema:
            return st.just(schema["const"])
        if "enum" in schema:
            return st.sampled_from([value for value in schema["enum"] if value is not None])
        if self._is_object(schema):
            return self.object(schema, base, depth)
        for keyword in ("anyOf", "oneOf"):
            branches = [b for b in schema.get(keyword, []) if not (isinstance(b, dict) and b.get("type") == "null")]
            if branches:
                return st.one_of([self.value(branch, base, name, depth + 1) for branch in branches])
        kinds = [kind for kind in types_of(schema) if kind != "null"] or ["string"]
        kind = kinds[0]
        if kind == "string":
            return _string(schema)
        if kind == "boolean":
            return st.booleans()
        if kind in ("integer", "number"):
            return st.integers(int(schema.get("minimum", 0)), int(schema.get("maximum", 1000)))
        if kind == "array":
            low = int(schema.get("minItems", 0))
            high = max(low, min(int(schema.get("maxItems", 2)), 2))
            items = self.value(schema.get("items") or {}, base, "", depth + 1)
            unique = bool(schema.get("uniqueItems"))
            return st.lists(items, min_size=low, max_size=high, unique_by=(repr if unique else None))
        return st.just({})

    def flatten(self, schema: Any, base: str) -> tuple[Any, str]:
        """Follow ``$ref`` and a lone ``allOf`` member until the schema that says something itself."""
        while True:
            schema, base = self.contract.deref(schema, base)
            members = schema.get("allOf") if isinstance(schema, dict) else None
            own = (
                set(schema) - {"allOf", "title", "readOnly", "writeOnly", "deprecated", "default"}
                if isinstance(schema, dict)
                else set()
            )
            if not (isinstance(members, list) and len(members) == 1 and not own):
                return schema, base
            schema = members[0]

    @staticmethod
    def _is_object(schema: Mapping[str, Any]) -> bool:
        return "object" in types_of(schema) or "properties" in schema or "allOf" in schema

    def object(self, schema: dict[str, Any], base: str, depth: int) -> st.SearchStrategy[dict[str, Any]]:
        """An object of this schema: a discriminator value first, when there is one, then its branch's fields."""
        choices = self._discriminator_choices(schema, base)
        if choices:
            prop, values = choices
            chosen = self.hints.values.get(prop, st.sampled_from(values))
            return chosen.flatmap(lambda v: self._fields(schema, base, depth, {prop: v}))
        return self._fields(schema, base, depth, {})

    def _discriminator_choices(self, schema: dict[str, Any], base: str) -> tuple[str, list[Any]] | None:
        for entry in schema.get("allOf", []):
            condition = (entry.get("if") or {}).get("properties") or {} if isinstance(entry, dict) else {}
            if len(condition) == 1:
                prop = next(iter(condition))
                enum = ((schema.get("properties") or {}).get(prop) or {}).get("enum")
                if enum:
                    return prop, list(enum)
        return None

    def _fields(
        self, schema: dict[str, Any], base: str, depth: int, fixed: dict[str, Any]
    ) -> st.SearchStrategy[dict[str, Any]]:
        props, required = self.contract.applicable(schema, base, fixed, "request")
        wanted = [*required, *(name for name in sorted(self.hints.always) if name in props and depth == 0)]
        drawn = {name: self.value(props.get(name) or {}, base, name, depth + 1) for name in wanted if name not in fixed}
        optional: dict[str, st.SearchStrategy[Any]] = {}
        if self.hints.optional and depth <= 2:
            for name, sub in props.items():
                if name in fixed or name in drawn or name in self.hints.skip:
                    continue
                if sub.get("readOnly") or sub.get("deprecated"):
                    continue
                optional[name] = self.value(sub, base, name, depth + 1)
        made = st.fixed_dictionaries({**{k: st.just(v) for k, v in fixed.items()}, **drawn}, optional=optional)
        return made.map(self.hints.fix) if self.hints.fix is not None and depth == 0 else made


def branch_ref(ref: str, stored_value: str, contract: Contract | None = None) -> str | None:
    """For a body decided by a stored value (``x-conformance-decidedBy``), the branch for that value."""
    rule = (contract or shipped()).resolve(ref).get("x-conformance-decidedBy")
    if not isinstance(rule, dict):
        return None
    target = (rule.get("mapping") or {}).get(stored_value)
    return urljoin(schema_uri(ref), target) if target else None
