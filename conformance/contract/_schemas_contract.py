"""The :class:`Contract`: schema documents and the index in one ``referencing`` registry, with lookups over both.

Every schema file carries an ``$id`` under :data:`BASE_URI`, so ``$ref`` between files resolves
offline and nothing is fetched. A contract can also be built from files in memory (the importer
checks the overlay's proofs that way, and tests use small fixture contracts).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urljoin as _urljoin

import referencing
import referencing.jsonschema

from conformance import pointer as pointers
from conformance.contract._schemas_operation import Operation, operation_from_index
from conformance.contract._schemas_validators import VALIDATORS, VIEWS, View, view_document
from conformance.contract.ids import BASE_URI, INDEX_FILE

REQUIRED = "\0required"  # where applicable_properties' walk collects required names


@dataclass
class _Declared:
    """What the schemas that apply to one object of an instance declare of its properties."""

    instance: dict[str, Any]
    names: set[str] = field(default_factory=set)
    patterns: set[str] = field(default_factory=set)
    described: bool = False  # some applicable schema lists properties: the object is not free-form
    open: bool = False  # additionalProperties admits any name


@cache
def urljoin(base: str, ref: str) -> str:
    """A reference against its base; the walks join the same few hundred pairs again and again."""
    return _urljoin(base, ref)


def schema_uri(ref: str) -> str:
    """``components/integration.json#/x`` -> its absolute URI under :data:`BASE_URI`."""
    return ref if ref.startswith(("http://", "https://")) else BASE_URI + ref


class UnknownOperation(KeyError):
    """An operation the contract does not have (another release than the one a test was written for)."""

    def __init__(self, operation_id: str, version: str, known: Iterable[str]) -> None:
        self.operation_id = operation_id
        self.version = version
        super().__init__(f"unknown operation {operation_id!r}; known operations: {', '.join(sorted(known))}")

    def __str__(self) -> str:
        return str(self.args[0])

    @property
    def absent(self) -> str:
        """One line: which operation, and which contract lacks it."""
        return f"the contract (spec {self.version or 'of unknown version'}) has no operation {self.operation_id}"


class Contract:
    """Schema documents (by path relative to ``schemas/``) and the index, with lookups over both."""

    def __init__(self, documents: Mapping[str, Any], index: Mapping[str, Any], directory: Path | None = None) -> None:
        # The folder the contract was read from (None when built in memory): what reports name.
        self.directory = directory
        # Without "$schema", jsonschema keeps our validator class when it follows a $ref into
        # another file; with it, it would switch to the stock class and lose the views.
        self.documents = {path: {k: v for k, v in doc.items() if k != "$schema"} for path, doc in documents.items()}
        self.index = dict(index)
        self._views: dict[View, dict[str, Any]] = {}
        self._registries: dict[View, referencing.Registry[Any]] = {}
        self._validators: dict[tuple[str, View], Any] = {}
        self._roots: dict[View, Any] = {}
        self._subschemas: dict[tuple[int, str], tuple[Any, Any]] = {}
        self._resolved: dict[str, Any] = {}
        # What the walks derive per schema, kept with the contract they describe (never module-wide).
        self._flags: dict[tuple[str, str], frozenset[str]] = {}
        self._declared: dict[str, frozenset[str]] = {}

    @classmethod
    def from_files(cls, files: Mapping[str, str]) -> Contract:
        documents = {path: json.loads(text) for path, text in files.items() if path != INDEX_FILE}
        return cls(documents, json.loads(files[INDEX_FILE]))

    @classmethod
    def from_dir(cls, directory: Path) -> Contract:
        index_path = directory / INDEX_FILE
        if not index_path.is_file():
            raise FileNotFoundError(f"{directory} holds no {INDEX_FILE}: run python -m conformance import-spec")
        documents = {
            path.relative_to(directory).as_posix(): json.loads(path.read_text(encoding="utf-8"))
            for folder in ("components", "operations")
            for path in sorted((directory / folder).glob("*.json"))
        }
        return cls(documents, json.loads(index_path.read_text(encoding="utf-8")), directory.resolve())

    # -- the index -------------------------------------------------------------------------

    @cached_property
    def operations(self) -> dict[str, Operation]:
        return {op_id: operation_from_index(op_id, entry) for op_id, entry in self.index["operations"].items()}

    @cached_property
    def webhooks(self) -> dict[str, Operation]:
        return {op_id: operation_from_index(op_id, entry) for op_id, entry in self.index.get("webhooks", {}).items()}

    def operation(self, operation_id: str) -> Operation:
        try:
            return self.operations[operation_id]
        except KeyError:
            raise UnknownOperation(operation_id, self.version, list(self.operations)) from None

    def authenticated(self) -> list[Operation]:
        """The operations whose security asks for credentials, by operationId."""
        return sorted((op for op in self.operations.values() if op.authenticated), key=lambda op: op.operation_id)

    def refusing(self, scope: str) -> list[Operation]:
        """The operations whose security names scopes, none of them ``scope``: a key of that scope is refused."""
        return [op for op in self.authenticated() if op.refuses(scope)]

    def documented_code(self, op: Operation, status: int) -> str:
        """The error code ``op`` documents for ``status``; else the one code the contract documents for it elsewhere."""
        codes = op.error_codes(status) or tuple(
            sorted({code for other in self.operations.values() for code in other.error_codes(status)})
        )
        if len(codes) != 1:
            raise ValueError(f"{op.operation_id}: expected one documented error code for {status}, found {list(codes)}")
        return codes[0]

    @property
    def version(self) -> str:
        """The vendor's version of the spec this contract was imported from."""
        return str((self.index.get("source") or {}).get("version", ""))

    # -- schemas ---------------------------------------------------------------------------

    def view_documents(self, view: View) -> dict[str, Any]:
        """The documents as ``view`` sees them (its directed corrections in, the other view's out)."""
        if view not in VIEWS:
            raise KeyError(f"unknown view {view!r}; known views: {', '.join(VIEWS)}")
        if view not in self._views:
            self._views[view] = {path: view_document(doc, view) for path, doc in self.documents.items()}
        return self._views[view]

    def registry_for(self, view: View) -> referencing.Registry[Any]:
        if view not in self._registries:
            resources = [
                (contents["$id"], referencing.jsonschema.DRAFT202012.create_resource(contents))
                for contents in self.view_documents(view).values()
            ]
            self._registries[view] = referencing.Registry().with_resources(resources)
        return self._registries[view]

    @property
    def registry(self) -> referencing.Registry[Any]:
        """The request view's registry: what generators and placeholders draw values against."""
        return self.registry_for("request")

    def validator(self, ref: str, view: View = "response") -> Any:
        """A validator for a schema file or a fragment of one (``file.json#/$defs/x``), formats checked."""
        key = (ref, view)
        found = self._validators.get(key)
        if found is None:
            found = self._validators[key] = self._root(view).evolve(schema={"$ref": schema_uri(ref)})
        return found

    def _root(self, view: View) -> Any:
        """The view's first validator; every other one is evolved from it, sharing its resolver.

        A validator made afresh combines the contract's registry with jsonschema's own metaschemas,
        a copy of some 300 resources: made for each schema, that was a tenth of a replay's checks.
        """
        found = self._roots.get(view)
        if found is None:
            cls = VALIDATORS[view]
            found = cls({}, registry=self.registry_for(view), format_checker=cls.FORMAT_CHECKER)
            self._roots[view] = found
        return found

    def resolve(self, ref: str, view: View = "request") -> Any:
        """The schema a reference points to (as ``view`` sees it), with its own references still in place."""
        key = f"{view} {ref}"
        found = self._resolved.get(key)
        if found is None:
            # A view's registry never changes, so neither does a lookup in it.
            found = self._resolved[key] = self.registry_for(view).resolver().lookup(schema_uri(ref)).contents
        return found

    def deref(self, schema: Any, base: str, view: View = "request") -> tuple[Any, str]:
        """Follow ``$ref`` until a schema with content, and the base URI its own references use."""
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            target = urljoin(base, schema["$ref"])
            schema, base = self.resolve(target, view), target.split("#")[0]
        return schema, base

    def is_valid(self, schema: Any, base: str, instance: Any, view: View = "response") -> bool:
        # Subschemas come from the registry, so their identity is stable; one validator each.
        key = (id(schema), base + view)
        cached = self._subschemas.get(key)
        if cached is None or cached[0] is not schema:
            wrapped = schema if isinstance(schema, bool) or "$id" in schema else {**schema, "$id": base}
            # Under allOf, jsonschema enters the subschema as a subresource: its $id sets the base.
            validator = self._root(view).evolve(schema={"allOf": [wrapped]})
            cached = (schema, validator)
            self._subschemas[key] = cached
        return bool(cached[1].is_valid(instance))

    def _walk(self, schema: Any, base: str, seen: set[str], flag: str) -> Iterator[str]:
        """Property names that carry ``flag`` (readOnly/writeOnly) anywhere below ``schema``."""
        if isinstance(schema, list):
            for item in schema:
                yield from self._walk(item, base, seen, flag)
            return
        if not isinstance(schema, dict):
            return
        ref = schema.get("$ref")
        if isinstance(ref, str):
            target = urljoin(base, ref)
            if target not in seen:
                seen.add(target)
                yield from self._walk(self.resolve(target), target.split("#")[0], seen, flag)
        for name, sub in (schema.get("properties") or {}).items():
            if isinstance(sub, dict) and self._flagged(sub, base, flag):
                yield name
        for key, value in schema.items():
            if key not in ("$ref", "const", "enum", "default", "examples"):
                yield from self._walk(value, base, seen, flag)

    def _flagged(self, sub: dict[str, Any], base: str, flag: str) -> bool:
        """A property carries ``flag`` itself or through the schema it references (``markdownText``)."""
        if sub.get(flag) is True:
            return True
        resolved = self.deref(sub, base)[0] if isinstance(sub.get("$ref"), str) else None
        return isinstance(resolved, dict) and resolved.get(flag) is True

    def flagged_fields(self, ref: str, flag: str) -> frozenset[str]:
        key = (ref, flag)
        found = self._flags.get(key)
        if found is None:
            found = self._flags[key] = frozenset(
                self._walk(self.resolve(ref), schema_uri(ref).split("#")[0], set(), flag)
            )
        return found

    def write_only_fields(self, ref: str) -> frozenset[str]:
        """Names of the properties a request may send but a response must never return."""
        return self.flagged_fields(ref, "writeOnly")

    def read_only_fields(self, ref: str) -> frozenset[str]:
        return self.flagged_fields(ref, "readOnly")

    def annotated_pointers(
        self, ref: str, instance: Any, flag: str = "writeOnly", view: View = "response"
    ) -> list[str]:
        """JSON pointers of the instance's properties whose applicable schema carries ``flag``.

        Only the subschemas that apply to this instance count (an ``if`` that holds, an ``anyOf``
        branch that matches), so a field that is write-only for one integration type and not for
        another is judged by the type the instance has.
        """
        found: list[str] = []
        self._annotate(self.resolve(ref, view), schema_uri(ref).split("#")[0], instance, "", (flag, view), found, 0)
        return sorted(set(found))

    def _annotate(
        self, schema: Any, base: str, instance: Any, at: str, how: tuple[str, View], found: list[str], depth: int
    ) -> None:
        if not isinstance(schema, dict) or depth > 64:
            return
        flag, view = how
        if isinstance(schema.get("$ref"), str):
            target = urljoin(base, schema["$ref"])
            self._annotate(self.resolve(target, view), target.split("#")[0], instance, at, how, found, depth + 1)
        for sub in schema.get("allOf", []):
            self._annotate(sub, base, instance, at, how, found, depth + 1)
        for key in ("anyOf", "oneOf"):
            for sub in schema.get(key, []):
                if self.is_valid(sub, base, instance, view):
                    self._annotate(sub, base, instance, at, how, found, depth + 1)
        if "if" in schema and "then" in schema and self.is_valid(schema["if"], base, instance, view):
            self._annotate(schema["then"], base, instance, at, how, found, depth + 1)
        if isinstance(instance, dict):
            for name, sub in (schema.get("properties") or {}).items():
                if name in instance and isinstance(sub, dict):
                    here = pointers.child(at, name)
                    if self._flagged(sub, base, flag):
                        found.append(here)
                    self._annotate(sub, base, instance[name], here, how, found, depth + 1)
        if isinstance(instance, list) and isinstance(schema.get("items"), dict):
            for index, item in enumerate(instance):
                self._annotate(schema["items"], base, item, pointers.child(at, index), how, found, depth + 1)

    def undeclared(self, ref: str, instance: Any, view: View = "response") -> list[str]:
        """JSON pointers of the instance's properties that no schema applying to their object declares.

        Follows what applies to each object (``$ref``, ``allOf``, an ``if`` that holds and its ``then``,
        the ``anyOf``/``oneOf`` branches it matches), into declared properties and ``items``. A property
        that ``additionalProperties`` (a schema, or ``true``) or ``patternProperties`` admits is declared;
        an object no applicable schema gives any ``properties`` is free-form, so nothing in it counts.
        """
        objects: dict[str, _Declared] = {}
        self._declare(self.resolve(ref, view), schema_uri(ref).split("#")[0], instance, "", view, objects, 0)
        found = [
            pointers.child(at, name)
            for at, declared in objects.items()
            if declared.described and not declared.open
            for name in declared.instance
            if name not in declared.names and not any(re.search(p, name) for p in declared.patterns)
        ]
        return sorted(found)

    def _declare(
        self, schema: Any, base: str, instance: Any, at: str, view: View, objects: dict[str, _Declared], depth: int
    ) -> None:
        if not isinstance(schema, dict) or depth > 200:
            return
        if isinstance(schema.get("$ref"), str):
            target = urljoin(base, schema["$ref"])
            self._declare(self.resolve(target, view), target.split("#")[0], instance, at, view, objects, depth + 1)
        for sub in schema.get("allOf", []):
            self._declare(sub, base, instance, at, view, objects, depth + 1)
        for key in ("anyOf", "oneOf"):
            branches = schema.get(key, [])
            matching = [sub for sub in branches if self.is_valid(sub, base, instance, view)]
            # An instance no branch accepts fails the schema already: every branch's names count, so
            # the failure is not echoed as undeclared fields.
            for sub in matching or branches:
                self._declare(sub, base, instance, at, view, objects, depth + 1)
        if "if" in schema and ("then" in schema or "else" in schema):
            holds = self.is_valid(schema["if"], base, instance, view)
            self._declare(schema.get("then" if holds else "else"), base, instance, at, view, objects, depth + 1)
        if isinstance(instance, dict):
            declared = objects.setdefault(at, _Declared(instance))
            properties = schema.get("properties")
            if isinstance(properties, dict):
                declared.described = True
                declared.names.update(properties)
                for name, sub in properties.items():
                    if name in instance:
                        self._declare(sub, base, instance[name], pointers.child(at, name), view, objects, depth + 1)
            patterns = schema.get("patternProperties")
            if isinstance(patterns, dict):
                declared.described = True
                declared.patterns.update(patterns)
            extra = schema.get("additionalProperties")
            if extra is True or isinstance(extra, dict):
                declared.open = True
                if isinstance(extra, dict):
                    for name in set(instance) - set(properties or {}):
                        self._declare(extra, base, instance[name], pointers.child(at, name), view, objects, depth + 1)
        if isinstance(instance, list) and isinstance(schema.get("items"), dict):
            for index, item in enumerate(instance):
                self._declare(schema["items"], base, item, pointers.child(at, index), view, objects, depth + 1)

    def applicable_properties(self, ref: str, instance: Any, view: View = "request") -> dict[str, dict[str, Any]]:
        """Top-level property schemas that apply to ``instance`` (branches it selects), merged by name.

        Follows ``$ref`` and ``allOf``, an ``if`` that holds, and ``anyOf``/``oneOf`` branches the
        instance is valid against, so a discriminated body gets its own type's fields and flags.
        """
        return self.applicable(self.resolve(ref, view), schema_uri(ref).split("#")[0], instance, view)[0]

    def applicable_required(self, ref: str, instance: Any, view: View = "request") -> list[str]:
        """Top-level names the applicable branches require (readOnly ones left out of requests)."""
        return self.applicable(self.resolve(ref, view), schema_uri(ref).split("#")[0], instance, view)[1]

    def applicable(
        self, schema: Any, base: str, instance: Any, view: View = "request"
    ) -> tuple[dict[str, dict[str, Any]], list[str]]:
        """(property schemas, required names) of what applies to ``instance`` under ``schema``."""
        found: dict[str, dict[str, Any]] = {}
        self._applicable(schema, base, instance, view, found, 0)
        names = found.pop(REQUIRED, {})
        hidden = "readOnly" if view == "request" else "writeOnly"
        return found, [name for name in names if not (found.get(name) or {}).get(hidden)]

    def _applicable(
        self, schema: Any, base: str, instance: Any, view: View, found: dict[str, dict[str, Any]], depth: int
    ) -> None:
        if not isinstance(schema, dict) or depth > 32:
            return
        if isinstance(schema.get("$ref"), str):
            target = urljoin(base, schema["$ref"])
            self._applicable(self.resolve(target, view), target.split("#")[0], instance, view, found, depth + 1)
        for sub in schema.get("allOf", []):
            self._applicable(sub, base, instance, view, found, depth + 1)
        for key in ("anyOf", "oneOf"):
            for sub in schema.get(key, []):
                if self.is_valid(sub, base, instance, view):
                    self._applicable(sub, base, instance, view, found, depth + 1)
        if "if" in schema and "then" in schema and self.is_valid(schema["if"], base, instance, view):
            self._applicable(schema["then"], base, instance, view, found, depth + 1)
        for name in schema.get("required") or []:
            found.setdefault(REQUIRED, {})[name] = {}
        for name, sub in (schema.get("properties") or {}).items():
            if isinstance(sub, dict):
                resolved, _ = self.deref(sub, base, view)
                flags = {k: v for k, v in sub.items() if k != "$ref"}
                merged = {**(resolved if isinstance(resolved, dict) else {}), **flags}
                found[name] = {**found.get(name, {}), **merged}

    def top_properties(self, ref: str) -> Iterator[tuple[str, Any, str]]:
        """(name, schema, base) of each top-level property, through ``$ref`` and ``allOf``."""
        uri = schema_uri(ref)
        yield from self._top(self.resolve(uri), uri.split("#")[0], set())

    def _top(self, schema: Any, base: str, seen: set[str]) -> Iterator[tuple[str, Any, str]]:
        if not isinstance(schema, dict):
            return
        for name, sub in (schema.get("properties") or {}).items():
            yield name, sub, base
        ref = schema.get("$ref")
        if isinstance(ref, str):
            target = urljoin(base, ref)
            if target not in seen:
                seen.add(target)
                yield from self._top(self.resolve(target), target.split("#")[0], seen)
        for sub in schema.get("allOf", []):
            yield from self._top(sub, base, seen)

    def declared_fields(self, ref: str) -> frozenset[str]:
        found = self._declared.get(ref)
        if found is None:
            found = self._declared[ref] = frozenset(name for name, _, _ in self.top_properties(ref))
        return found

    def property_schema(self, ref: str, name: str) -> dict[str, Any]:
        """The merged schema of one top-level property (its declarations, references followed)."""
        merged: dict[str, Any] = {}
        for found, sub, base in self.top_properties(ref):
            if found == name and isinstance(sub, dict):
                resolved, _ = self.deref(sub, base)
                flags = {k: v for k, v in sub.items() if k != "$ref"}
                merged = {**(resolved if isinstance(resolved, dict) else {}), **flags, **merged}
        return merged
