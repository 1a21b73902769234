"""Small concrete instances of OpenAPI 3.0 schemas, for evidence a reader can paste into a validator.

Hand-made rather than hypothesis-jsonschema's ``from_schema``: that one crashes drawing objects
under recent Hypothesis, and lint wants the plainest value (required fields only, simple values),
not a random one. A built value is a candidate, never trusted: lint validates it against the
converted schema before using it, so a keyword this builder does not honour only costs coverage.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance import pointer as pointers
from conformance.contract.convert import COMPONENT_PREFIX, component_name, discriminator_values
from conformance.contract.openapi import Document
from conformance.pointer import MISSING

MAX_DEPTH = 12
FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "hostname": "example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
}


@dataclass
class ObjectView:
    """An object schema with its ``allOf`` members merged: each field's definitions, and what is fixed."""

    properties: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)  # name -> [(pointer, schema)]
    required: dict[str, list[str]] = field(default_factory=dict)  # name -> pointers of the required lists
    fixed: dict[str, str] = field(default_factory=dict)  # discriminator property -> this type's value


def ref_pointer(ref: str) -> str:
    return ref[1:] if ref.startswith("#") else ref


class Builder:
    def __init__(self, document: Document) -> None:
        self.document = document

    def target(self, node: Any, where: str) -> tuple[Any, str, str | None]:
        """``node`` with its ``$ref``s followed: (schema, its pointer, the component it is, if any)."""
        name = None
        for _ in range(MAX_DEPTH):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                break
            ref = node["$ref"]
            name = component_name(ref) or name
            where = ref_pointer(ref)
            node = self.document.resolve(ref, where)
        return node, where, name

    def view(self, node: Any, where: str, seen: frozenset[str] = frozenset(), name: str | None = None) -> ObjectView:
        """The merged fields of an object schema, following ``$ref`` and ``allOf``; ``name``: the component it is."""
        node, where, own = self.target(node, where)
        name = own or name
        out = ObjectView()
        if not isinstance(node, dict) or where in seen:
            return out
        seen = seen | {where}
        for index, member in enumerate(node.get("allOf") or []):
            inner = self.view(member, f"{where}/allOf/{index}", seen)
            for key, found in inner.properties.items():
                out.properties.setdefault(key, []).extend(found)
            for key, lists in inner.required.items():
                out.required.setdefault(key, []).extend(lists)
            out.fixed.update(inner.fixed)
            base, _, _ = self.target(member, where)
            if name is not None and isinstance(base, dict) and isinstance(base.get("discriminator"), dict):
                for value, ref in discriminator_values(base, []).items():
                    if ref == COMPONENT_PREFIX + name:
                        out.fixed[str(base["discriminator"].get("propertyName"))] = value
        for key, schema in (node.get("properties") or {}).items():
            out.properties.setdefault(str(key), []).append((pointers.child(f"{where}/properties", key), schema))
        required = node.get("required")
        if isinstance(required, list):
            for key in required:
                out.required.setdefault(str(key), []).append(f"{where}/required")
        return out

    def value(self, node: Any, where: str = "", *, extra: Iterable[str] = (), depth: int = 0) -> Any:
        """A small valid-looking value: required fields (plus ``extra`` ones), simple scalars; MISSING if stuck."""
        if depth > MAX_DEPTH:
            return MISSING
        node, where, name = self.target(node, where)
        if node is True or node == {}:
            return "x"
        if not isinstance(node, dict):
            return MISSING
        if "const" in node:
            return node["const"]
        if isinstance(node.get("enum"), list) and node["enum"]:
            return next((v for v in node["enum"] if v is not None), node["enum"][0])
        for keyword in ("oneOf", "anyOf"):
            if isinstance(node.get(keyword), list):
                return self._choice(node, keyword, where, depth)
        kind = node.get("type")
        if kind == "object" or "properties" in node or "allOf" in node or "required" in node:
            return self._object(node, where, extra, depth, name)
        if kind == "array":
            item = self.value(node.get("items", {}), f"{where}/items", depth=depth + 1)
            count = int(node.get("minItems") or 0)
            return MISSING if item is MISSING or (count > 1 and node.get("uniqueItems")) else [item] * count
        if kind == "string" or kind is None:
            return self._string(node)
        if kind in ("integer", "number"):
            return self._number(node)
        if kind == "boolean":
            return True
        return None if kind == "null" else MISSING

    def _choice(self, node: dict[str, Any], keyword: str, where: str, depth: int) -> Any:
        discriminator = node.get("discriminator")
        branches = node[keyword]
        if isinstance(discriminator, dict) and discriminator.get("propertyName"):
            refs = [b.get("$ref", "") for b in branches if isinstance(b, dict)]
            for value, ref in discriminator_values(node, refs).items():
                built = self.value({"$ref": ref}, where, depth=depth + 1)
                if isinstance(built, dict):
                    return {**built, str(discriminator["propertyName"]): value}
        for index, branch in enumerate(branches):
            built = self.value(branch, f"{where}/{keyword}/{index}", depth=depth + 1)
            if built is not MISSING:
                return built
        return MISSING

    def _object(self, node: dict[str, Any], where: str, extra: Iterable[str], depth: int, name: str | None) -> Any:
        discriminator = node.get("discriminator")
        if isinstance(discriminator, dict) and discriminator.get("propertyName"):
            # A polymorphic base: its dispatcher accepts only a mapped subtype.
            for value, ref in discriminator_values(node, []).items():
                if ref != COMPONENT_PREFIX + str(name):
                    built = self.value({"$ref": ref}, where, extra=extra, depth=depth + 1)
                    return {**built, str(discriminator["propertyName"]): value} if isinstance(built, dict) else MISSING
        view = self.view(node, where, name=name)
        out: dict[str, Any] = {}
        for key in [*view.required, *extra]:
            if key in out:
                continue
            if key in view.fixed:
                out[key] = view.fixed[key]
                continue
            definitions = view.properties.get(key) or [(where, {})]
            # The most specific definition (an enum, else the last one) is the best bet.
            pointer, schema = next((d for d in definitions if _has_enum(d[1])), definitions[-1])
            built = self.value(schema, pointer, depth=depth + 1)
            if built is MISSING:
                return MISSING
            out[key] = built
        return out

    @staticmethod
    def _string(node: Mapping[str, Any]) -> Any:
        low, high = int(node.get("minLength") or 0), node.get("maxLength")
        text = FORMATS.get(str(node.get("format")), "x")
        if len(text) < low:
            text = text + "x" * (low - len(text))
        if isinstance(high, int) and len(text) > high:
            text = text[:high]
        pattern = node.get("pattern")
        if isinstance(pattern, str) and not _search(pattern, text):
            return MISSING  # no regex inversion here; the branch just goes without evidence
        return text

    @staticmethod
    def _number(node: Mapping[str, Any]) -> Any:
        low, high, step = _num(node.get("minimum")), _num(node.get("maximum")), _num(node.get("multipleOf"))
        above, below = node.get("exclusiveMinimum"), node.get("exclusiveMaximum")
        value: float = 0
        if low is not None:
            value = low + (1 if above is True else 0)
        elif high is not None and high < 0:
            value = high - (1 if below is True else 0)
        bound = _num(above)
        if bound is not None and value <= bound:
            value = bound + 1
        if step is not None and step > 0 and value % step:
            value = (value // step + 1) * step
        if node.get("type") == "integer":
            value = int(value)
        if high is not None and (value > high or (below is True and value >= high)):
            return MISSING
        return value


def _num(value: Any) -> float | None:
    """A number keyword's value (booleans are the OpenAPI 3.0 exclusive flags, not numbers)."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _has_enum(schema: Any) -> bool:
    return isinstance(schema, dict) and ("enum" in schema or "const" in schema)


def _search(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False
