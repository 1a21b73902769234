"""The imported contract: JSON Schemas under ``schemas/`` and the operation index that ties them to the API.

Every schema file carries an ``$id`` under :data:`BASE_URI`; all of them are loaded into one
``referencing`` registry, so ``$ref`` between files resolves offline and nothing is fetched.
A :class:`Contract` can also be built from files in memory (the importer checks the overlay's
proofs that way, and tests use small fixture contracts).

Validators come in two views, because OpenAPI's ``required`` depends on the direction: a
``readOnly`` property is never required in a request, a ``writeOnly`` one never in a response
(``dependentRequired`` follows the same rule).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin

import jsonschema
import referencing
import referencing.jsonschema
from jsonschema import validators as jsonschema_validators

from conformance import pointer as pointers
from conformance.spec.importer import BASE_URI, INDEX_FILE

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
ERROR_SCHEMA = "components/errorResponse.json"
JSON_TYPE = "application/json"
View = Literal["request", "response"]
REQUIRED = "\0required"  # where applicable_properties' walk collects required names


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    required: bool = False
    style: str = "form"
    explode: bool = True


@dataclass(frozen=True)
class Response:
    content: Mapping[str, str | None] = field(default_factory=dict)
    error_codes: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operation:
    """One API operation as the index describes it."""

    operation_id: str
    method: str
    path: str
    tag: str = ""
    parameters: tuple[Parameter, ...] = ()
    params: Mapping[str, str] = field(default_factory=dict)
    request_content: Mapping[str, str | None] = field(default_factory=dict)
    request_required: bool = False
    responses: Mapping[str, Response] = field(default_factory=dict)
    vendor_statuses: tuple[str, ...] = ()
    security: tuple[Mapping[str, tuple[str, ...]], ...] = ()

    @property
    def label(self) -> str:
        """How failures name it: ``CreateIntegration (POST /v2/apps/{appId}/integrations)``."""
        return f"{self.operation_id} ({self.method} {self.path})"

    @property
    def request(self) -> str | None:
        """The JSON request body schema, if the operation takes one."""
        return self.request_content.get(JSON_TYPE)

    @property
    def query(self) -> str | None:
        return self.params.get("query")

    @property
    def documented_statuses(self) -> tuple[int, ...]:
        return tuple(sorted(int(status) for status in self.responses if status.isdigit()))

    @property
    def authenticated(self) -> bool:
        return bool(self.security)

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(scope for item in self.security for scopes in item.values() for scope in scopes)

    def documents(self, status: int) -> bool:
        return str(status) in self.responses

    def response_schema(self, status: int, media: str = JSON_TYPE) -> str | None:
        answer = self.responses.get(str(status)) or self.responses.get("default")
        return answer.content.get(media) if answer else None

    def response_media(self, status: int) -> tuple[str, ...]:
        answer = self.responses.get(str(status)) or self.responses.get("default")
        return tuple(answer.content) if answer else ()

    def error_codes(self, status: int) -> tuple[str, ...]:
        answer = self.responses.get(str(status))
        return answer.error_codes if answer else ()

    def parameter(self, name: str, location: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name and p.location == location), None)


def operation_from_index(operation_id: str, entry: Mapping[str, Any]) -> Operation:
    request = entry.get("request") or {}
    return Operation(
        operation_id=operation_id,
        method=str(entry["method"]).upper(),
        path=entry["path"],
        tag=entry.get("tag", ""),
        parameters=tuple(
            Parameter(p["name"], p["in"], bool(p.get("required")), p.get("style", "form"), bool(p.get("explode")))
            for p in entry.get("parameters", [])
        ),
        params=dict(entry.get("params") or {}),
        request_content=dict(request.get("content") or {}),
        request_required=bool(request.get("required")),
        responses={
            str(status): Response(
                content=dict(answer.get("content") or {}),
                error_codes=tuple(answer.get("errorCodes", ())),
                headers=tuple(answer.get("headers", ())),
            )
            for status, answer in entry.get("responses", {}).items()
        },
        vendor_statuses=tuple(entry.get("vendorStatuses", ())),
        security=tuple({k: tuple(v) for k, v in item.items()} for item in entry.get("security", [])),
    )


def schema_uri(ref: str) -> str:
    """``components/integration.json#/x`` -> its absolute URI under :data:`BASE_URI`."""
    return ref if ref.startswith(("http://", "https://")) else BASE_URI + ref


def _view_required(view: View) -> Any:
    hidden = "readOnly" if view == "request" else "writeOnly"

    def required(validator: Any, names: Any, instance: Any, schema: Any) -> Iterator[jsonschema.ValidationError]:
        if not validator.is_type(instance, "object"):
            return
        properties = schema.get("properties") or {}
        for name in names:
            flagged = isinstance(properties.get(name), dict) and properties[name].get(hidden) is True
            if name not in instance and not flagged:
                yield jsonschema.ValidationError(f"{name!r} is a required property")

    return required


def _view_dependent_required(view: View) -> Any:
    hidden = "readOnly" if view == "request" else "writeOnly"

    def dependent_required(
        validator: Any, rules: Any, instance: Any, schema: Any
    ) -> Iterator[jsonschema.ValidationError]:
        if not validator.is_type(instance, "object"):
            return
        properties = schema.get("properties") or {}
        for name, needed in rules.items():
            if name not in instance:
                continue
            for other in needed:
                flagged = isinstance(properties.get(other), dict) and properties[other].get(hidden) is True
                if other not in instance and not flagged:
                    yield jsonschema.ValidationError(f"{other!r} is a dependency of {name!r}")

    return dependent_required


def _same_domain(validator: Any, rule: Any, instance: Any, schema: Any) -> Iterator[jsonschema.ValidationError]:
    """``x-conformance-sameDomain: {address: incomingAddress, domain: domain}``: an address at that domain."""
    if not isinstance(instance, dict) or not isinstance(rule, dict):
        return
    address, domain = instance.get(rule.get("address")), instance.get(rule.get("domain"))
    if isinstance(address, str) and isinstance(domain, str) and not address.lower().endswith("@" + domain.lower()):
        yield jsonschema.ValidationError(
            f"{rule['address']} {address!r} is not an address at {rule['domain']} {domain!r}"
        )


def _max_json_bytes(validator: Any, limit: Any, instance: Any, schema: Any) -> Iterator[jsonschema.ValidationError]:
    """``x-conformance-maxJsonBytes: 4096``: the instance, as compact UTF-8 JSON, is at most that many bytes."""
    if instance is None or not isinstance(limit, int):
        return
    size = len(json.dumps(instance, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass"))
    if size > limit:
        yield jsonschema.ValidationError(f"is {size} bytes as JSON, more than the {limit} allowed")


def _validator_class(view: View) -> Any:
    return jsonschema_validators.extend(  # type: ignore[no-untyped-call]
        jsonschema.Draft202012Validator,
        {
            "required": _view_required(view),
            "dependentRequired": _view_dependent_required(view),
            "x-conformance-sameDomain": _same_domain,
            "x-conformance-maxJsonBytes": _max_json_bytes,
        },
    )


VALIDATORS: dict[View, Any] = {"request": _validator_class("request"), "response": _validator_class("response")}


class Contract:
    """Schema documents (by path relative to ``schemas/``) and the index, with lookups over both."""

    def __init__(self, documents: Mapping[str, Any], index: Mapping[str, Any]) -> None:
        # Without "$schema", jsonschema keeps our validator class when it follows a $ref into
        # another file; with it, it would switch to the stock class and lose the views.
        self.documents = {path: {k: v for k, v in doc.items() if k != "$schema"} for path, doc in documents.items()}
        self.index = dict(index)
        self._validators: dict[tuple[str, View], Any] = {}
        self._subschemas: dict[tuple[int, str], tuple[Any, Any]] = {}

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
        return cls(documents, json.loads(index_path.read_text(encoding="utf-8")))

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
            allowed = ", ".join(sorted(self.operations))
            raise KeyError(f"unknown operation {operation_id!r}; known operations: {allowed}") from None

    # -- schemas ---------------------------------------------------------------------------

    @cached_property
    def registry(self) -> referencing.Registry[Any]:
        resources = [
            (contents["$id"], referencing.jsonschema.DRAFT202012.create_resource(contents))
            for contents in self.documents.values()
        ]
        return referencing.Registry().with_resources(resources)

    def validator(self, ref: str, view: View = "response") -> Any:
        """A validator for a schema file or a fragment of one (``file.json#/$defs/x``)."""
        key = (ref, view)
        found = self._validators.get(key)
        if found is None:
            cls = VALIDATORS[view]
            found = cls({"$ref": schema_uri(ref)}, registry=self.registry, format_checker=cls.FORMAT_CHECKER)
            self._validators[key] = found
        return found

    def resolve(self, ref: str) -> Any:
        """The schema a reference points to, with its own references still in place."""
        return self.registry.resolver().lookup(schema_uri(ref)).contents

    def deref(self, schema: Any, base: str) -> tuple[Any, str]:
        """Follow ``$ref`` until a schema with content, and the base URI its own references use."""
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            target = urljoin(base, schema["$ref"])
            schema, base = self.resolve(target), target.split("#")[0]
        return schema, base

    def is_valid(self, schema: Any, base: str, instance: Any, view: View = "response") -> bool:
        # Subschemas come from the registry, so their identity is stable; one validator each.
        key = (id(schema), base + view)
        cached = self._subschemas.get(key)
        if cached is None or cached[0] is not schema:
            wrapped = schema if isinstance(schema, bool) or "$id" in schema else {**schema, "$id": base}
            cached = (schema, VALIDATORS[view](wrapped, registry=self.registry))
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
        return frozenset(self._walk(self.resolve(ref), schema_uri(ref).split("#")[0], set(), flag))

    def annotated_pointers(self, ref: str, instance: Any, flag: str = "writeOnly") -> list[str]:
        """JSON pointers of the instance's properties whose applicable schema carries ``flag``.

        Only the subschemas that apply to this instance count (an ``if`` that holds, an ``anyOf``
        branch that matches), so a field that is write-only for one integration type and not for
        another is judged by the type the instance has.
        """
        found: list[str] = []
        self._annotate(self.resolve(ref), schema_uri(ref).split("#")[0], instance, "", flag, found, 0)
        return sorted(set(found))

    def _annotate(
        self, schema: Any, base: str, instance: Any, at: str, flag: str, found: list[str], depth: int
    ) -> None:
        if not isinstance(schema, dict) or depth > 64:
            return
        if isinstance(schema.get("$ref"), str):
            target = urljoin(base, schema["$ref"])
            self._annotate(self.resolve(target), target.split("#")[0], instance, at, flag, found, depth + 1)
        for sub in schema.get("allOf", []):
            self._annotate(sub, base, instance, at, flag, found, depth + 1)
        for key in ("anyOf", "oneOf"):
            for sub in schema.get(key, []):
                if self.is_valid(sub, base, instance):
                    self._annotate(sub, base, instance, at, flag, found, depth + 1)
        if "if" in schema and "then" in schema and self.is_valid(schema["if"], base, instance):
            self._annotate(schema["then"], base, instance, at, flag, found, depth + 1)
        if isinstance(instance, dict):
            for name, sub in (schema.get("properties") or {}).items():
                if name in instance and isinstance(sub, dict):
                    here = pointers.child(at, name)
                    if self._flagged(sub, base, flag):
                        found.append(here)
                    self._annotate(sub, base, instance[name], here, flag, found, depth + 1)
        if isinstance(instance, list) and isinstance(schema.get("items"), dict):
            for index, item in enumerate(instance):
                self._annotate(schema["items"], base, item, pointers.child(at, index), flag, found, depth + 1)

    def applicable_properties(self, ref: str, instance: Any, view: View = "request") -> dict[str, dict[str, Any]]:
        """Top-level property schemas that apply to ``instance`` (branches it selects), merged by name.

        Follows ``$ref`` and ``allOf``, an ``if`` that holds, and ``anyOf``/``oneOf`` branches the
        instance is valid against, so a discriminated body gets its own type's fields and flags.
        """
        return self.applicable(self.resolve(ref), schema_uri(ref).split("#")[0], instance, view)[0]

    def applicable_required(self, ref: str, instance: Any, view: View = "request") -> list[str]:
        """Top-level names the applicable branches require (readOnly ones left out of requests)."""
        return self.applicable(self.resolve(ref), schema_uri(ref).split("#")[0], instance, view)[1]

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
            self._applicable(self.resolve(target), target.split("#")[0], instance, view, found, depth + 1)
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
                resolved, _ = self.deref(sub, base)
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
        return frozenset(name for name, _, _ in self.top_properties(ref))

    def property_schema(self, ref: str, name: str) -> dict[str, Any]:
        """The merged schema of one top-level property (its declarations, references followed)."""
        merged: dict[str, Any] = {}
        for found, sub, base in self.top_properties(ref):
            if found == name and isinstance(sub, dict):
                resolved, _ = self.deref(sub, base)
                flags = {k: v for k, v in sub.items() if k != "$ref"}
                merged = {**(resolved if isinstance(resolved, dict) else {}), **flags, **merged}
        return merged


_active = {"directory": SCHEMA_DIR}


def use(directory: Path) -> None:
    """Make ``directory`` (an import-spec output) the contract every lookup below uses (``--schema-dir``).

    Called once, before any lookup: what was derived from the previous contract is forgotten.
    """
    _active["directory"] = Path(directory).resolve()
    for cached in (_load, write_only_fields, read_only_fields, declared_fields):
        cached.cache_clear()


def active_dir() -> Path:
    return _active["directory"]


@cache
def _load(directory: Path) -> Contract:
    return Contract.from_dir(directory)


def contract(directory: Path | None = None) -> Contract:
    """The project's contract, as imported into ``schemas/`` (or the folder :func:`use` chose)."""
    return _load(directory or _active["directory"])


# Shorthands over the project's contract, for the many call sites that need just one lookup.


def load_index() -> dict[str, Operation]:
    return contract().operations


def operation(operation_id: str) -> Operation:
    return contract().operation(operation_id)


def validator(ref: str, view: View = "response") -> Any:
    return contract().validator(ref, view)


def resolve(ref: str) -> Any:
    return contract().resolve(ref)


@cache
def write_only_fields(ref: str) -> frozenset[str]:
    """Names of the properties a request may send but a response must never return."""
    return contract().flagged_fields(ref, "writeOnly")


@cache
def read_only_fields(ref: str) -> frozenset[str]:
    return contract().flagged_fields(ref, "readOnly")


def annotated_pointers(ref: str, instance: Any, flag: str = "writeOnly") -> list[str]:
    return contract().annotated_pointers(ref, instance, flag)


@cache
def declared_fields(ref: str) -> frozenset[str]:
    return contract().declared_fields(ref)


def property_schema(ref: str, name: str) -> dict[str, Any]:
    return contract().property_schema(ref, name)


def deref(schema: Any, base: str) -> tuple[Any, str]:
    return contract().deref(schema, base)
