"""OpenAPI 3.0 schema objects to JSON Schema 2020-12, keeping facts and dropping prose.

Rules, each a difference between the two dialects or a choice of ours:

* ``nullable: true`` becomes a type union (and ``null`` joins an ``enum``); on a schema without a
  ``type`` it becomes ``anyOf: [schema, {type: null}]``.
* Boolean ``exclusiveMinimum``/``exclusiveMaximum`` become the 2020-12 numeric forms.
* A ``required`` that is not a list (``required: true`` on a property) is invalid in both
  dialects and is dropped; ``lint-spec`` reports it.
* ``description``, ``summary``, ``example(s)``, ``externalDocs``, ``xml`` and vendor ``x-`` keys are
  dropped; ``x-conformance-*`` keys (the overlay's) are kept; ``x-dependentRequired`` becomes
  ``dependentRequired``.
* A ``discriminator`` on a ``oneOf``/``anyOf`` becomes an ``if``/``then`` dispatch on the property,
  whose value must be one of the mapping's: a body is judged by the one branch its value names,
  which is what the vendor means and gives errors that point at the right field.
* A ``discriminator`` on a base that its subtypes extend through ``allOf`` (polymorphism) becomes a
  dispatcher; the base's own constraints move to ``$defs/base``, and a subtype's ``allOf`` entry that
  points at the base points at ``$defs/base`` instead, so validation never loops.
* A ``oneOf`` with ``x-conformance-decidedBy`` (decided by a stored value, not by the body) becomes
  an ``anyOf``: the body must fit some branch; whoever knows the stored value picks the branch.
* ``x-conformance-request`` / ``x-conformance-response`` (a directed overlay correction) are partial
  schemas, converted like any other; a nullable field keeps ``null`` in their ``enum``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

DIALECT = "https://json-schema.org/draft/2020-12/schema"
COMPONENT_PREFIX = "#/components/schemas/"
DROPPED = frozenset({"description", "summary", "example", "examples", "externalDocs", "xml", "discriminator"})
KEPT_EXTENSIONS = ("x-conformance-",)
RENAMED = {"x-dependentRequired": "dependentRequired"}
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
SCHEMA_VALUES = ("items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames")
# A directed overlay correction: a partial schema only one view of the contract applies.
VIEW_ONLY = ("x-conformance-request", "x-conformance-response")

RefRewriter = Callable[[str], str]


def component_name(ref: str) -> str | None:
    return ref[len(COMPONENT_PREFIX) :] if ref.startswith(COMPONENT_PREFIX) else None


def discriminator_values(node: Mapping[str, Any], branch_refs: list[str]) -> dict[str, str]:
    """Discriminator value -> component ``$ref``: the explicit mapping, else each branch's own name."""
    discriminator = node.get("discriminator") or {}
    mapping = dict(discriminator.get("mapping") or {})
    if mapping:
        return {str(value): str(ref) for value, ref in mapping.items()}
    return {name: ref for ref in branch_refs if (name := component_name(ref))}


class Converter:
    """Converts one component (or inline schema) at a time; ``ref`` rewrites component references."""

    def __init__(self, ref: RefRewriter, bases: Mapping[str, set[str]] | None = None) -> None:
        self.ref = ref
        # base component -> its subtypes (mapping targets that extend it through allOf)
        self.bases = bases or {}

    def component(self, name: str, node: Any) -> Any:
        """A whole component: a polymorphic base becomes a dispatcher with ``$defs/base``."""
        if isinstance(node, dict) and name in self.bases:
            discriminator = node["discriminator"]
            prop = discriminator["propertyName"]
            mapping = discriminator_values(node, [])
            base = self.schema({k: v for k, v in node.items() if k != "discriminator"}, within=name)
            return {"$defs": {"base": base}, **self._dispatch(prop, mapping, [{"$ref": "#/$defs/base"}])}
        return self.schema(node, within=name)

    def schema(self, node: Any, within: str | None = None) -> Any:
        if not isinstance(node, dict):
            return node
        if isinstance(node.get("$ref"), str):
            return self._ref(node, within)
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in DROPPED or key == "nullable":
                continue
            if key.startswith("x-") and not key.startswith(KEPT_EXTENSIONS) and key not in RENAMED:
                continue
            if key == "required" and not isinstance(value, list):
                continue  # OpenAPI wants a list here; lint-spec reports the boolean form
            out[RENAMED.get(key) or key] = self._value(str(key), value, within)
        out = self._exclusive(out)
        discriminator: dict[str, Any] = node.get("discriminator") or {}
        decided = "x-conformance-decidedBy" in node
        for keyword in ("oneOf", "anyOf"):
            if keyword in node and (discriminator or decided):
                branches = out.pop(keyword)
                if decided:
                    out["anyOf"] = branches
                else:
                    refs = [branch.get("$ref", "") for branch in node[keyword] if isinstance(branch, dict)]
                    mapping = discriminator_values(node, refs)
                    out = {**out, **self._dispatch(discriminator["propertyName"], mapping, out.pop("allOf", []))}
        if node.get("nullable") is True:
            out = self._nullable(out)
        return out

    def _value(self, key: str, value: Any, within: str | None) -> Any:
        if key in SCHEMA_LISTS and isinstance(value, list):
            return [self._member(key, item, within) for item in value]
        if key in SCHEMA_MAPS and isinstance(value, dict):
            return {name: self.schema(item, within) for name, item in value.items()}
        if key in (*SCHEMA_VALUES, *VIEW_ONLY) and isinstance(value, dict):
            return self.schema(value, within)
        if key == "x-conformance-decidedBy" and isinstance(value, dict):
            mapping = value.get("mapping") or {}
            return {**value, "mapping": {k: self.ref(str(v)) for k, v in mapping.items()}}
        return value

    def _member(self, keyword: str, item: Any, within: str | None) -> Any:
        # A subtype extending its polymorphic base must not re-enter the base's dispatcher.
        if keyword == "allOf" and isinstance(item, dict) and isinstance(item.get("$ref"), str):
            base = component_name(item["$ref"])
            if base is not None and within is not None and within in self.bases.get(base, set()):
                return {"$ref": self.ref(item["$ref"]) + "#/$defs/base"}
        return self.schema(item, within)

    def _ref(self, node: dict[str, Any], within: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {"$ref": self.ref(node["$ref"])}
        for key in ("readOnly", "writeOnly", "default", "deprecated"):
            if key in node:
                out[key] = node[key]
        return self._nullable(out) if node.get("nullable") is True else out

    def _dispatch(self, prop: str, mapping: Mapping[str, str], keep: list[Any]) -> dict[str, Any]:
        branches = [
            {
                "if": {"properties": {prop: {"const": value}}, "required": [prop]},
                "then": {"$ref": self.ref(ref)},
            }
            for value, ref in mapping.items()
        ]
        return {
            "type": "object",
            "required": [prop],
            "properties": {prop: {"enum": list(mapping)}},
            "allOf": [*keep, *branches],
        }

    @staticmethod
    def _exclusive(out: dict[str, Any]) -> dict[str, Any]:
        for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
            if out.get(exclusive) is True and bound in out:
                out[exclusive] = out.pop(bound)
            elif out.get(exclusive) is False:
                del out[exclusive]
        return out

    @staticmethod
    def _nullable(out: dict[str, Any]) -> dict[str, Any]:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            out["type"] = [*kind, "null"]
        elif kind is None:
            flags: dict[str, Any] = {
                key: out.pop(key) for key in ("readOnly", "writeOnly", "default", "deprecated") if key in out
            }
            return {"anyOf": [out, {"type": "null"}], **flags}
        # A view-only enum narrows a nullable field: null stays allowed there too.
        for holder in (out, *(out[key] for key in VIEW_ONLY if isinstance(out.get(key), dict))):
            if isinstance(holder.get("enum"), list) and None not in holder["enum"]:
                holder["enum"] = [*holder["enum"], None]
        return out


def polymorphic_bases(schemas: Mapping[str, Any]) -> dict[str, set[str]]:
    """Bases with a discriminator whose mapped subtypes extend them through ``allOf``."""
    found: dict[str, set[str]] = {}
    for name, node in schemas.items():
        if not isinstance(node, dict) or "discriminator" not in node:
            continue
        if any(keyword in node for keyword in ("oneOf", "anyOf")):
            continue
        for ref in discriminator_values(node, []).values():
            sub = component_name(ref)
            members = (schemas.get(sub or "") or {}).get("allOf") or []
            if any(isinstance(m, dict) and m.get("$ref") == COMPONENT_PREFIX + name for m in members):
                found.setdefault(name, set()).add(str(sub))
    return found
