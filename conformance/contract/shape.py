"""What a schema lets a client send or receive, as facts per field: the consumer's view for ``spec-diff``.

A schema is flattened into one :class:`Field` per place an instance may hold a value, keyed by a
JSON pointer into the instance (``*`` stands for any array item or map value) and, inside a
discriminated branch, by the branch's condition (``kind=box``). Each field keeps the JSON types it
may have, its enum values, its constraints (``minimum``, ``pattern``, …), whether it is required,
and where it comes from: the component schema that declares it and the pointer inside that schema,
so that a change is reported once, at the schema where it happened.

A schema that contains itself (a quoted message holding a message) is walked once: where a walk
re-enters a component it is already inside, it stops, so recursion is not unrolled.

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
from conformance.contract.schemas import Contract, schema_uri

View = Literal["request", "response"]
ANY_ITEM = "*"
MAX_DEPTH = 12  # pointer segments: a safety net; recursion stops where a component is re-entered
COMPONENTS = "components/"
BASE_URI = schema_uri("")
# The keywords that bound a value, and which way is tighter: "min" (higher is tighter), "max"
# (lower is tighter) or "exact" (any other value is a different rule).
CONSTRAINTS: dict[str, str] = {
    "minimum": "min",
    "exclusiveMinimum": "min",
    "minLength": "min",
    "minItems": "min",
    "maximum": "max",
    "exclusiveMaximum": "max",
    "maxLength": "max",
    "maxItems": "max",
    "pattern": "exact",
    "format": "exact",
}
Condition = tuple[str, ...]
Place = tuple[Condition, str]  # (branch condition, JSON pointer)
# Where a fact was written: (component name or "", pointer inside it, branch condition inside it).
Origin = tuple[str, str, Condition]


@dataclass(frozen=True)
class Field:
    """One place in an instance: the JSON types and enum values it may hold, and whether it must be there."""

    types: frozenset[str] | None  # None: any type
    enum: frozenset[str] | None  # JSON texts of the allowed values; None: any value
    required: bool
    constraints: tuple[tuple[str, Any], ...] = ()  # (keyword, value), sorted
    members: frozenset[str] | None = None  # a union's branches that are component schemas, by name
    # The component whose schema gives the field its type, enum or constraints; and the one that declares it.
    origin: Origin = field(default=("", "", ()), compare=False)
    declared: Origin = field(default=("", "", ()), compare=False)
    union: Origin = field(default=("", "", ()), compare=False)  # the schema that lists the union's branches
    enum_from: tuple[tuple[str, frozenset[str]], ...] = field(default=(), compare=False)  # value -> components


@dataclass
class _Node:
    types: set[str] | None = None
    enum: set[str] | None = None
    required_names: set[str] = field(default_factory=set)
    constraints: dict[str, Any] = field(default_factory=dict)
    members: set[str] | None = None
    union: Origin | None = None
    enum_from: dict[str, set[str]] = field(default_factory=dict)
    origin: Origin | None = None
    declared: Origin | None = None


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
        self.inside: list[str] = []  # the schemas ($ref targets) the walk is in, outermost first
        self.entered: list[tuple[str, str, Condition]] = []  # (file, pointer, condition) where each was entered

    def fields(self, ref: str) -> dict[Place, Field]:
        """Every field of the schema ``ref`` points to, by (branch condition, pointer); the root's pointer is ``""``."""
        uri = schema_uri(ref)
        self._ref(uri, (), "", True)
        return self._facts()

    def _node(self, condition: Condition, pointer: str) -> _Node:
        return self.nodes.setdefault((condition, pointer), _Node())

    def _origin(self, condition: Condition, pointer: str) -> Origin:
        """The innermost component the walk is in, and the place relative to where it was entered."""
        for file, at, under in reversed(self.entered):
            relative = file.removeprefix(BASE_URI)
            if relative.startswith(COMPONENTS):
                name = relative.removeprefix(COMPONENTS).removesuffix(".json")
                return (name, pointer[len(at) :], condition[len(under) :])
        return ("", pointer, condition)

    def _ref(self, target: str, condition: Condition, pointer: str, collect: bool) -> None:
        # One schema walked once per place: a subtype re-entering its base adds nothing new.
        if (target, pointer) in self.visited:
            return
        file = target.split("#")[0]
        if target in self.inside:
            return  # a schema inside itself: its fields are reported where it was first entered
        self.visited.add((target, pointer))
        self.inside.append(target)
        self.entered.append((file, pointer, condition))
        try:
            self._walk(self.contract.resolve(target, self.view), file, condition, pointer, collect)
        finally:
            self.inside.pop()
            self.entered.pop()

    def _walk(self, schema: Any, base: str, condition: Condition, pointer: str, collect: bool) -> None:
        if not isinstance(schema, dict) or pointer.count("/") > MAX_DEPTH:
            return
        node = self._node(condition, pointer)
        if isinstance(schema.get("$ref"), str):
            self._ref(urljoin(base, schema["$ref"]), condition, pointer, collect)
        here = self._origin(condition, pointer)
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
            for text in texts:
                node.enum_from.setdefault(text, set()).add(here[0])
        for keyword in CONSTRAINTS:
            if keyword in schema and not isinstance(schema[keyword], bool):
                node.constraints.setdefault(keyword, schema[keyword])
        if node.origin is None and (kind is not None or values is not None or CONSTRAINTS.keys() & schema.keys()):
            node.origin = here
        if collect and isinstance(schema.get("required"), list):
            node.required_names |= {str(name) for name in schema["required"]}
        for name, sub in (schema.get("properties") or {}).items():
            if isinstance(sub, dict) and not self._hidden(sub, base):
                child = pointers.child(pointer, name)
                declared_node = self._node(condition, child)
                if declared_node.declared is None:
                    declared_node.declared = self._origin(condition, child)
                self._walk(sub, base, condition, child, True)
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
            if real:
                self._members(node, base, real, here)
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
        if isinstance(schema["then"], dict):
            self._members(self._node(condition, pointer), base, [schema["then"]], self._origin(condition, pointer))
        self._node((*condition, label), pointer).declared = self._origin(condition, pointer)
        self._walk(schema["then"], base, (*condition, label), pointer, collect)

    def _members(self, node: _Node, base: str, branches: list[dict[str, Any]], here: Origin) -> None:
        names = set()
        for branch in branches:
            relative = urljoin(base, str(branch.get("$ref", ""))).removeprefix(BASE_URI) if "$ref" in branch else ""
            if relative.startswith(COMPONENTS):
                names.add(relative.removeprefix(COMPONENTS).removesuffix(".json").split("#")[0])
        if names:
            node.members = names if node.members is None else node.members | names
            node.union = node.union or here

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
            constraints = tuple(sorted(node.constraints.items()))
            declared = node.declared or node.origin or ("", pointer, condition)
            members = frozenset(node.members) if node.members is not None else None
            origin = node.origin or declared
            union = node.union or declared
            enum_from = tuple(sorted((text, frozenset(found)) for text, found in node.enum_from.items()))
            facts[(condition, pointer)] = Field(
                types, enum, required, constraints, members, origin, declared, union, enum_from
            )
        return facts


def fields(contract: Contract, ref: str, view: View) -> dict[Place, Field]:
    return Flattener(contract, view).fields(ref)
