"""Defects in a vendor OpenAPI 3.x contract: why generic tools reject the vendor's own valid requests.

Each check returns :class:`Defect` objects: a kind, a JSON pointer into the spec, a one-line title
and evidence a reader can verify (a body and the branches it matches, the pointers of the keywords
involved). Checks are sound rather than complete: an ambiguous ``oneOf`` is reported only with a
body that really matches two of its branches, validated against the converted schemas.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conformance import pointer as pointers
from conformance.contract.convert import SCHEMA_LISTS, SCHEMA_MAPS, SCHEMA_VALUES, discriminator_values
from conformance.contract.importer import BASE_URI, Importer, component_file
from conformance.contract.instances import Builder, ref_pointer
from conformance.contract.openapi import METHODS, Document
from conformance.pointer import MISSING

# kind -> heading, in report order
KINDS = {
    "ambiguous-oneof": "oneOfs that a valid body matches more than once, so a oneOf validator rejects it",
    "required-nullable": "fields both required and nullable",
    "no-error-status": "operations that document no error status (no 4xx, 5xx or default)",
    "undefined-server-variable": "server URLs with variables they do not define",
    "writeonly-mismatch": "fields writeOnly in one type but not in a sibling type",
    "required-not-a-list": "required given as something other than a list, so it requires nothing",
}
WALKED_EXTENSIONS = ("x-webhooks",)
_VARIABLE = re.compile(r"\{([^{}]*)\}")
_COMPONENTS = "/components/schemas/"


@dataclass(frozen=True)
class Defect:
    kind: str
    location: str  # JSON pointer into the spec
    title: str
    evidence: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def lint(document: Document) -> list[Defect]:
    """Every defect the checks find, grouped by kind in :data:`KINDS` order, each group in document order."""
    linter = Linter(document)
    return [
        *linter.ambiguous_oneofs(),
        *linter.required_nullable(),
        *linter.no_error_status(),
        *linter.server_variables(),
        *linter.write_only_mismatches(),
        *linter.required_not_lists(),
    ]


def schema_nodes(data: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object in the document (components and inline), with its pointer."""
    if isinstance(data, dict):
        for key, value in data.items():
            here = pointers.child(where, key)
            if key in ("example", "examples") or (str(key).startswith("x-") and key not in WALKED_EXTENSIONS):
                continue
            if where == "/components/schemas" or (key == "schema" and isinstance(value, dict)):
                yield from _schema(value, here)
            else:
                yield from schema_nodes(value, here)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from schema_nodes(value, pointers.child(where, index))


def _schema(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if not isinstance(node, dict):
        return
    yield where, node
    if "$ref" in node:
        return
    for key, value in node.items():
        here = pointers.child(where, key)
        if key in SCHEMA_LISTS and isinstance(value, list):
            for index, item in enumerate(value):
                yield from _schema(item, pointers.child(here, index))
        elif key in SCHEMA_MAPS and isinstance(value, dict):
            for name, item in value.items():
                yield from _schema(item, pointers.child(here, name))
        elif key in SCHEMA_VALUES:
            yield from _schema(value, here)


def label(where: str) -> str:
    """A component's name, or the pointer of an inline schema."""
    rest = where[len(_COMPONENTS) :] if where.startswith(_COMPONENTS) else ""
    return pointers.unescape(rest) if rest and "/" not in rest else where


def describe(data: Any, where: str) -> str:
    """A pointer as a reader names the place: ``parcel.note``, ``GET /parcels 200 response``, ``parameter page``."""
    tokens = pointers.tokens(where)
    if tokens[:2] == ["components", "schemas"] and len(tokens) > 2:
        name, rest = tokens[2], tokens[3:]
    elif tokens[:2] == ["components", "parameters"] and len(tokens) > 2:
        name, rest = f"parameter {tokens[2]}", tokens[3:]
    elif tokens[:1] == ["paths"] and len(tokens) > 2 and tokens[2] in METHODS:
        name, rest = f"{tokens[2].upper()} {tokens[1]}", tokens[3:]
        if rest[:1] == ["requestBody"]:
            name, rest = f"{name} request body", rest[1:]
        elif rest[:1] == ["responses"] and len(rest) > 1:
            name, rest = f"{name} {rest[1]} response", rest[2:]
        elif rest[:1] == ["parameters"] and len(rest) > 1:
            param = pointers.resolve(data, pointers.join(tokens[:5]))
            param_name = param.get("name", rest[1]) if isinstance(param, dict) else rest[1]
            name, rest = f"{name} parameter {param_name}", rest[2:]
    else:
        return where
    separator = "." if tokens[1] == "schemas" else ": "
    for index, part in enumerate(rest):
        if index and rest[index - 1] == "properties":
            name, separator = f"{name}{separator}{part}", "."
        elif part == "items":
            name += "[]"
    return name


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= limit else "a body"


def _names(labels: list[str], limit: int = 3) -> str:
    return ", ".join(labels[:limit]) + (f" and {len(labels) - limit} more" if len(labels) > limit else "")


class Validation:
    """Draft 2020-12 validators over the converted components, so evidence is checked, not assumed."""

    def __init__(self, document: Document) -> None:
        importer = Importer(document)
        self.converter = importer.converter
        resources = []
        for name, node in importer.components.items():
            uri = BASE_URI + component_file(name)
            contents = {"$id": uri, **self.converter.component(name, node)}
            resources.append((uri, Resource.from_contents(contents, default_specification=DRAFT202012)))
        self.registry: Registry[Any] = Registry().with_resources(resources)

    def validator(self, raw: Any) -> Draft202012Validator:
        schema = self.converter.schema(raw)
        contents = {"$id": BASE_URI + "components/lint-branch.json", **schema} if isinstance(schema, dict) else schema
        checker = Draft202012Validator.FORMAT_CHECKER
        return Draft202012Validator(contents, registry=self.registry, format_checker=checker)


class Linter:
    def __init__(self, document: Document) -> None:
        self.document = document
        self.data = document.data
        self.builder = Builder(document)
        self.schemas = list(schema_nodes(self.data))
        self._validation: Validation | None = None

    @property
    def validation(self) -> Validation:
        if self._validation is None:
            self._validation = Validation(self.document)
        return self._validation

    # -- 1. ambiguous oneOf ----------------------------------------------------------------

    def ambiguous_oneofs(self) -> Iterator[Defect]:
        for where, node in self.schemas:
            branches = node.get("oneOf")
            if "$ref" in node or "discriminator" in node or not isinstance(branches, list) or len(branches) < 2:
                continue
            found = self._overlap(where, branches)
            if found is not None:
                yield found

    def _overlap(self, where: str, branches: list[Any]) -> Defect | None:
        validators = [self.validation.validator(branch) for branch in branches]
        places = [f"{where}/oneOf/{index}" for index in range(len(branches))]
        names = [self._member(branch, place)[0] for branch, place in zip(branches, places, strict=True)]
        for index, branch in enumerate(branches):
            for body in self._candidates(branch, places[index]):
                if body is MISSING or not validators[index].is_valid(body):
                    continue
                matches = [j for j, validator in enumerate(validators) if validator.is_valid(body)]
                if len(matches) < 2:
                    continue
                return Defect(
                    kind="ambiguous-oneof",
                    location=f"{where}/oneOf",
                    title=f"{describe(self.data, where)}: the body {_short(body)} is valid against "
                    f"{len(matches)} of its {len(branches)} oneOf branches, so oneOf rejects it",
                    evidence={"body": body, "validAgainst": [names[j] for j in matches], "branches": names},
                )
        return None

    def _candidates(self, branch: Any, where: str) -> Iterator[Any]:
        """The branch's required fields plus one optional field at a time, then the required fields alone."""
        view = self.builder.view(branch, where)
        for key in view.properties:
            if key not in view.required and key not in view.fixed:
                yield self.builder.value(branch, where, extra=[key])
        yield self.builder.value(branch, where)

    @staticmethod
    def _member(node: Any, where: str) -> tuple[str, Any, str]:
        """(label, schema, pointer) of a schema that may be a ``$ref``: a component is named by its name."""
        if isinstance(node, dict) and isinstance(node.get("$ref"), str):
            target = ref_pointer(node["$ref"])
            return label(target), node, target
        return label(where), node, where

    # -- 2. required and nullable ----------------------------------------------------------

    def required_nullable(self) -> Iterator[Defect]:
        found: dict[str, dict[str, Any]] = {}
        for where, node in self.schemas:
            if "$ref" in node or not ({"required", "allOf"} & node.keys()):
                continue
            view = self.builder.view(node, where)
            for name, lists in view.required.items():
                definitions = view.properties.get(name) or []
                nullable = [self._flag(schema, pointer, "nullable") for pointer, schema in definitions]
                if not definitions or None in nullable:
                    continue  # allOf: one non-nullable definition makes the field non-nullable
                entry = found.setdefault(definitions[0][0], {"field": name, "required": [], "nullable": nullable})
                entry["required"] += [place for place in lists if place not in entry["required"]]
        for location, evidence in found.items():
            title = f"{describe(self.data, location)} is both required and nullable"
            yield Defect("required-nullable", location, title, evidence)

    def _flag(self, schema: Any, where: str, keyword: str) -> str | None:
        """Pointer of a ``nullable``/``writeOnly`` that applies to this schema (on it or along its ``$ref``s)."""
        seen = {where}
        while isinstance(schema, dict):
            if schema.get(keyword) is True:
                return f"{where}/{keyword}"
            if keyword == "nullable" and isinstance(schema.get("type"), list) and "null" in schema["type"]:
                return f"{where}/type"
            ref = schema.get("$ref")
            if not isinstance(ref, str) or ref_pointer(ref) in seen:
                break
            schema, where = self.document.resolve(ref, where), ref_pointer(ref)
            seen.add(where)
        return None

    # -- 3. no error status ----------------------------------------------------------------

    def no_error_status(self) -> Iterator[Defect]:
        for op in self.document.operations():
            statuses = [str(status) for status in (op.node.get("responses") or {})]
            if any(status == "default" or status[:1] in ("4", "5") for status in statuses):
                continue
            location = pointers.join(["paths", op.path, op.method.lower(), "responses"])
            name = f" ({op.operation_id})" if op.operation_id else ""
            title = f"{op.where}{name} documents no error status, only {', '.join(statuses) or 'nothing'}"
            yield Defect("no-error-status", location, title, {"operation": op.operation_id, "statuses": statuses})

    # -- 4. server variables ---------------------------------------------------------------

    def server_variables(self) -> Iterator[Defect]:
        for where, servers in self._server_lists():
            for index, server in enumerate(servers):
                url = server.get("url") if isinstance(server, dict) else None
                if not isinstance(url, str):
                    continue
                defined = sorted(map(str, server.get("variables") or {}))
                undefined = list(dict.fromkeys(v for v in _VARIABLE.findall(url) if v not in defined))
                if undefined:
                    names = ", ".join("{" + name + "}" for name in undefined)
                    yield Defect(
                        "undefined-server-variable",
                        f"{where}/{index}/url",
                        f"server {url} uses {names} without a variables entry",
                        {"url": url, "undefined": undefined, "variables": defined},
                    )

    def _server_lists(self) -> Iterator[tuple[str, list[Any]]]:
        holders: list[tuple[str, Any]] = [("", self.data)]
        for path, item in (self.data.get("paths") or {}).items():
            if isinstance(item, dict):
                place = pointers.child("/paths", path)
                holders.append((place, item))
                holders += [(pointers.child(place, m), item[m]) for m in METHODS if isinstance(item.get(m), dict)]
        for where, holder in holders:
            if isinstance(holder.get("servers"), list):
                yield f"{where}/servers", holder["servers"]

    # -- 5. writeOnly in one sibling, not in another ---------------------------------------

    def write_only_mismatches(self) -> Iterator[Defect]:
        found: dict[str, dict[str, Any]] = {}
        for relation, members in self._sibling_groups():
            views = [(name, self.builder.view(node, where)) for name, node, where in members]
            fields = dict.fromkeys(key for _, view in views for key in view.properties)
            for key in fields:
                having = [(name, view.properties[key]) for name, view in views if key in view.properties]
                flagged = {name: self._write_only(defs) for name, defs in having}
                marked = {name: place for name, place in flagged.items() if place is not None}
                if len(having) < 2 or not marked or len(marked) == len(having):
                    continue
                for name, defs in having:
                    if name in marked:
                        continue
                    entry = found.setdefault(
                        defs[0][0], {"field": key, "notWriteOnlyIn": [], "writeOnlyIn": {}, "siblingsBy": []}
                    )
                    if name not in entry["notWriteOnlyIn"]:
                        entry["notWriteOnlyIn"].append(name)
                    entry["writeOnlyIn"].update(marked)
                    if relation not in entry["siblingsBy"]:
                        entry["siblingsBy"].append(relation)
        for location, evidence in found.items():
            title = (
                f"{evidence['field']} is writeOnly in {_names(list(evidence['writeOnlyIn']))} "
                f"but not in {_names(evidence['notWriteOnlyIn'])}"
            )
            yield Defect("writeonly-mismatch", location, title, evidence)

    def _write_only(self, definitions: list[tuple[str, Any]]) -> str | None:
        return next((p for p in (self._flag(s, w, "writeOnly") for w, s in definitions) if p is not None), None)

    def _sibling_groups(self) -> Iterator[tuple[str, list[tuple[str, Any, str]]]]:
        """(how they are siblings, [(label, schema, pointer)]): discriminator mappings, oneOf/anyOf, shared bases."""
        extenders: dict[str, list[tuple[str, Any, str]]] = {}
        for where, node in self.schemas:
            if "$ref" in node:
                continue
            discriminator = node.get("discriminator")
            if isinstance(discriminator, dict):
                refs = [b.get("$ref", "") for k in ("oneOf", "anyOf") for b in node.get(k) or [] if isinstance(b, dict)]
                mapped = [self._member({"$ref": ref}, where) for ref in discriminator_values(node, refs).values()]
                yield f"discriminator mapping of {where}", _unique(mapped)
            for keyword in ("oneOf", "anyOf"):
                branches = node.get(keyword)
                if isinstance(branches, list):
                    places = [f"{where}/{keyword}/{index}" for index in range(len(branches))]
                    members = [self._member(b, p) for b, p in zip(branches, places, strict=True)]
                    yield f"{keyword} at {where}/{keyword}", _unique(members)
            for member in node.get("allOf") or []:
                if isinstance(member, dict) and isinstance(member.get("$ref"), str):
                    extenders.setdefault(ref_pointer(member["$ref"]), []).append((label(where), node, where))
        for base, members in extenders.items():
            yield f"allOf extending {base}", _unique(members)

    # -- 6. required that is not a list ----------------------------------------------------

    def required_not_lists(self) -> Iterator[Defect]:
        for where, node in self.schemas:
            if "required" not in node or isinstance(node["required"], list):
                continue
            evidence: dict[str, Any] = {"value": node["required"]}
            parent, _, name = where.rpartition("/properties/")
            if parent and "/" not in name:
                evidence["field"] = pointers.unescape(name)
                holder = pointers.resolve(self.data, parent)
                evidence["enclosingRequired"] = holder.get("required", []) if isinstance(holder, dict) else []
            yield Defect(
                "required-not-a-list",
                f"{where}/required",
                f"{describe(self.data, where)} has required: {json.dumps(node['required'])}, "
                "not a list of field names, so it requires nothing",
                evidence,
            )


def _unique(members: list[tuple[str, Any, str]]) -> list[tuple[str, Any, str]]:
    return list({where: (name, node, where) for name, node, where in members}.values())
