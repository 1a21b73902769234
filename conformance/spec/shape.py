"""What a schema lets a client send or receive, as facts per field: the consumer's view for ``spec-diff``.

A schema is flattened into one :class:`Field` per place an instance may hold a value, keyed by a
JSON pointer into the instance (``*`` stands for any array item or map value) and, inside a
discriminated branch, by the branch's condition (``kind=box``). Each field keeps the JSON types it
may have, its enum values and whether it is required.

The flattening follows the dialect ``convert.py`` writes: ``$ref`` across files, ``allOf``
members, ``if``/``then`` dispatch on a discriminator, ``anyOf``/``oneOf`` branches (whose fields
are never required: no one branch is), and the ``anyOf: [schema, {type: null}]`` form of
``nullable``. A request view leaves out ``readOnly`` fields, a response view ``writeOnly`` ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urljoin

from conformance import pointer as pointers
from conformance.spec.schemas import Contract, schema_uri

View = Literal["request", "response"]
ANY_ITEM = "*"
MAX_DEPTH = 12  # pointer segments: recursive schemas stop here
Condition = tuple[str, ...]
Place = tuple[Condition, str]  # (branch condition, JSON pointer)


@dataclass(frozen=True)
class Field:
    """One place in an instance: the JSON types and enum values it may hold, and whether it must be there."""

    types: frozenset[str] | None  # None: any type
    enum: frozenset[str] | None  # JSON texts of the allowed values; None: any value
    required: bool


@dataclass
class _Node:
    types: set[str] | None = None
    enum: set[str] | None = None
    required_names: set[str] = field(default_factory=set)


def location(condition: Condition, pointer: str) -> str:
    """How a field is named: its pointer, and the branch it belongs to (``/parcel/lockCode [kind=box]``)."""
    shown = pointer or "/"
    return f"{shown} [{', '.join(condition)}]" if condition else shown


class Flattener:
    def __init__(self, contract: Contract, view: View) -> None:
        self.contract = contract
        self.view = view
        self.hidden = "readOnly" if view == "request" else "writeOnly"
        self.nodes: dict[tuple[Condition, str], _Node] = {}
        self.visited: set[tuple[str, str]] = set()

    def fields(self, ref: str) -> dict[Place, Field]:
        """Every field of the schema ``ref`` points to, by (branch condition, pointer); the root's pointer is ``""``."""
        uri = schema_uri(ref)
        self._ref(uri, (), "", True)
        return self._facts()

    def fields_of(self, schema: Any, base: str) -> dict[Place, Field]:
        self._walk(schema, base, (), "", True)
        return self._facts()

    def _node(self, condition: Condition, pointer: str) -> _Node:
        return self.nodes.setdefault((condition, pointer), _Node())

    def _ref(self, target: str, condition: Condition, pointer: str, collect: bool) -> None:
        # One schema walked once per place: a subtype re-entering its base adds nothing new.
        if (target, pointer) in self.visited:
            return
        self.visited.add((target, pointer))
        self._walk(self.contract.resolve(target, self.view), target.split("#")[0], condition, pointer, collect)

    def _walk(self, schema: Any, base: str, condition: Condition, pointer: str, collect: bool) -> None:
        if not isinstance(schema, dict) or pointer.count("/") > MAX_DEPTH:
            return
        node = self._node(condition, pointer)
        if isinstance(schema.get("$ref"), str):
            self._ref(urljoin(base, schema["$ref"]), condition, pointer, collect)
        kind = schema.get("type")
        if kind is not None:
            declared = {kind} if isinstance(kind, str) else set(kind)
            node.types = declared if node.types is None else node.types | declared
        values = schema.get("enum") if isinstance(schema.get("enum"), list) else None
        if "const" in schema:
            values = [schema["const"]]
        if values is not None:
            texts = {json.dumps(value, sort_keys=True, ensure_ascii=False) for value in values}
            node.enum = texts if node.enum is None else node.enum | texts
        if collect and isinstance(schema.get("required"), list):
            node.required_names |= {str(name) for name in schema["required"]}
        for name, sub in (schema.get("properties") or {}).items():
            if isinstance(sub, dict) and not self._hidden(sub, base):
                self._walk(sub, base, condition, pointers.child(pointer, name), True)
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                self._walk(schema[key], base, condition, f"{pointer}/{ANY_ITEM}", True)
        for member in schema.get("allOf") or []:
            self._walk(member, base, condition, pointer, collect)
        if "then" in schema:
            self._branch(schema, base, condition, pointer, collect)
        for key in ("anyOf", "oneOf"):
            branches = [b for b in schema.get(key) or [] if isinstance(b, dict)]
            real = [b for b in branches if b != {"type": "null"}]
            for branch in real:
                # A field one branch requires is not required of the instance: another branch may apply.
                self._walk(branch, base, condition, pointer, collect and len(real) == 1)
            known = self._node(condition, pointer).types
            if len(real) < len(branches) and known is not None:
                known.add("null")

    def _branch(self, schema: dict[str, Any], base: str, condition: Condition, pointer: str, collect: bool) -> None:
        """``if: {properties: {kind: {const: box}}}, then: …``: the branch's fields, under ``kind=box``."""
        test: dict[str, Any] = schema["if"] if isinstance(schema.get("if"), dict) else {}
        consts = [
            f"{name}={sub['const']}"
            for name, sub in (test.get("properties") or {}).items()
            if isinstance(sub, dict) and "const" in sub
        ]
        label = ", ".join(consts) or "if"
        self._walk(schema["then"], base, (*condition, label), pointer, collect)

    def _hidden(self, sub: dict[str, Any], base: str) -> bool:
        if sub.get(self.hidden) is True:
            return True
        resolved, _ = self.contract.deref(sub, base, self.view) if "$ref" in sub else (sub, base)
        return isinstance(resolved, dict) and resolved.get(self.hidden) is True

    def _facts(self) -> dict[Place, Field]:
        facts: dict[Place, Field] = {}
        for (condition, pointer), node in sorted(self.nodes.items()):
            required = False
            if pointer:
                parent, _, name = pointer.rpartition("/")
                token = pointers.unescape(name)
                # Required by the parent in the same branch or in any branch around it.
                required = any(
                    token in (self.nodes.get((condition[:depth], parent)) or _Node()).required_names
                    for depth in range(len(condition) + 1)
                )
            types = frozenset(node.types) if node.types is not None else None
            enum = frozenset(node.enum) if node.enum is not None else None
            facts[(condition, pointer)] = Field(types, enum, required)
        return facts


def fields(contract: Contract, ref: str, view: View) -> dict[Place, Field]:
    return Flattener(contract, view).fields(ref)
