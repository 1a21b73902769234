"""Placeholders that satisfy a field's schema, and the words the API's own schemas and paths use.

This is the one place the scrubber reads schemas (:func:`_catalogue`), so a new schema layout
changes one function. A placeholder depends only on the field, never on the value it replaces:
scrubbing a placeholder yields the same placeholder, and a replayed request still matches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from functools import cache
from typing import Any

import jsonschema
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample, Unsatisfiable

from conformance.contract.schemas import Contract, shipped

PLACEHOLDER = "<scrubbed>"
SECRET_PLACEHOLDER = "<scrubbed-secret>"  # noqa: S105 - the placeholder, not a secret
# A readable stand-in per string format, so a scrubbed URL still reads (and validates) as a URL.
FORMAT_PLACEHOLDERS = {
    "uri": "https://scrubbed.invalid/",
    "uri-reference": "https://scrubbed.invalid/",
    "iri": "https://scrubbed.invalid/",
    "email": "scrubbed@scrubbed.invalid",
    "idn-email": "scrubbed@scrubbed.invalid",
    "hostname": "scrubbed.invalid",
}
Declaration = tuple[dict[str, Any], str]  # a property's schema and the base URI its references use


@cache
def _catalogue(contract: Contract) -> tuple[dict[str, tuple[Declaration, ...]], frozenset[str]]:
    """Every property declaration by name (references followed), and the API's vocabulary.

    The vocabulary is every property name, enum and const string, and literal path segment: a
    secret that is one of them cannot be told from structure, so it is never scrubbed by value.
    """
    found: dict[str, list[Declaration]] = defaultdict(list)
    words: set[str] = set()

    def walk(node: Any, base: str) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, base)
            return
        if not isinstance(node, dict):
            return
        for name, sub in (node.get("properties") or {}).items():
            words.add(name)
            if isinstance(sub, dict):
                found[name].append(contract.deref(sub, base))
        words.update(value for value in node.get("enum", []) if isinstance(value, str))
        if isinstance(node.get("const"), str):
            words.add(node["const"])
        for key, value in node.items():
            if key not in ("enum", "const", "default", "examples"):
                walk(value, base)

    for path, contents in contract.view_documents("request").items():
        walk(contents, str(contents.get("$id", path)))
    for op in contract.operations.values():
        words.update(part for part in op.path.split("/") if part and not part.startswith("{"))
    return {name: tuple(decls) for name, decls in found.items()}, frozenset(words)


def vocabulary(contract: Contract | None = None) -> frozenset[str]:
    return _catalogue(contract or shipped())[1]


def _declarations(contract: Contract, name: str | None, item: bool) -> Iterator[Declaration]:
    for schema, base in _catalogue(contract)[0].get(name or "", ()):
        items = schema.get("items")
        if not item:
            yield schema, base
        elif isinstance(items, dict):
            yield contract.deref(items, base)


def _allows(schema: dict[str, Any], kind: str) -> bool:
    declared = schema.get("type")
    if declared is None:
        return True
    names = declared if isinstance(declared, list) else [declared]
    return kind in names or (kind == "number" and "integer" in names)


def _valid(contract: Contract, value: Any, declarations: list[Declaration]) -> bool:
    cls = jsonschema.Draft202012Validator
    for schema, base in declarations:
        checker = cls({**schema, "$id": base}, registry=contract.registry, format_checker=cls.FORMAT_CHECKER)
        if not checker.is_valid(value):
            return False
    return True


def _fitted(text: str, low: int, high: int | None) -> str:
    """``text`` padded inside its closing character to ``low``, or cut to ``high``."""
    if len(text) < low:
        text = text[:-1] + "-" * (low - len(text)) + text[-1]
    return text if high is None else text[:high]


def _from_pattern(contract: Contract, declarations: list[Declaration], low: int, high: int | None) -> str | None:
    """The simplest string every pattern (and length) accepts: Hypothesis shrinks to it."""
    patterns = [schema["pattern"] for schema, _ in declarations if isinstance(schema.get("pattern"), str)]
    strategy = st.from_regex(patterns[0], fullmatch=True).filter(lambda s: low <= len(s) <= (high or len(s)))
    try:
        return str(
            find(
                strategy,
                lambda value: _valid(contract, value, declarations),
                settings=settings(
                    database=None, phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck)
                ),
            )
        )
    except (NoSuchExample, Unsatisfiable):
        return None


def fits(name: str | None, value: Any, item: bool = False, *, contract: Contract | None = None) -> bool:
    """Whether every declaration of the field ``name`` accepts ``value`` (``item``: as one of its array's items)."""
    chosen = contract or shipped()
    return _valid(chosen, value, list(_declarations(chosen, name, item)))


def placeholder(name: str | None, kind: str = "string", item: bool = False, *, contract: Contract | None = None) -> Any:
    """The stand-in for a scrubbed ``kind`` ("string" or "number") value of the field ``name``.

    ``item`` means the value is an element of that field's array.
    """
    return _placeholder(contract or shipped(), name, kind, item)


@cache
def _placeholder(contract: Contract, name: str | None, kind: str, item: bool) -> Any:
    return fitting(list(_declarations(contract, name, item)), kind, contract=contract)


def fitting(declarations: list[Declaration], kind: str = "string", *, contract: Contract | None = None) -> Any:
    """A placeholder that every declaration allowing ``kind`` accepts, or the plain one if none can be found."""
    declarations = [decl for decl in declarations if _allows(decl[0], kind)]
    if kind == "number":
        low = max((s["minimum"] for s, _ in declarations if isinstance(s.get("minimum"), int | float)), default=0)
        high = min((s["maximum"] for s, _ in declarations if isinstance(s.get("maximum"), int | float)), default=0)
        return low if low > 0 else min(high, 0)
    low = max((s["minLength"] for s, _ in declarations if isinstance(s.get("minLength"), int)), default=0)
    highs = [s["maxLength"] for s, _ in declarations if isinstance(s.get("maxLength"), int)]
    high = min(highs) if highs else None
    formats = [s["format"] for s, _ in declarations if s.get("format") in FORMAT_PLACEHOLDERS]
    candidate = _fitted(FORMAT_PLACEHOLDERS[formats[0]] if formats else PLACEHOLDER, low, high)
    chosen = contract or shipped()
    if _valid(chosen, candidate, declarations):
        return candidate
    for schema, _ in declarations[:1]:
        # A closed set of values: the first one every declaration accepts.
        for value in schema.get("enum", [schema["const"]] if "const" in schema else []):
            if _valid(chosen, value, declarations):
                return value
    if any("pattern" in schema for schema, _ in declarations):
        return _from_pattern(chosen, declarations, low, high) or candidate
    return candidate
