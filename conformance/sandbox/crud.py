"""Generic handlers for every resource in the table: create, list, get, update and delete.

A store collection per resource and parent chain (``("client", app_id, user_id)``), so an unknown
parent answers ``<parent>_not_found`` and deleting a parent takes its children with it. What a
resource does beyond this (ids with a prefix, generated secrets, a record built from a body of
another shape) is a :class:`Behaviour` hook, written by hand in ``behaviours/`` (one module per resource group).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from conformance.contract.resources import RESOURCES, Resource, dotted, resource
from conformance.contract.schemas import Contract, schema_uri
from conformance.sandbox.api import Handler, Request, Response
from conformance.sandbox.errors import ApiError, bad_request, schema_error
from conformance.sandbox.params import flat
from conformance.sandbox.store import Record

Hook = Callable[[Record, dict[str, Any], Request], None]


@dataclass(frozen=True)
class Behaviour:
    """What a resource does that its schemas cannot say."""

    # fill in server-set fields of a new record (after the generic ones)
    on_create: Hook | None = None
    # check or adjust an update before it is applied
    on_update: Hook | None = None
    # check a delete before it happens (raise ApiError to refuse it), or undo what the record set up
    on_delete: Hook | None = None
    # build the stored record from the body, when the body is not the record's shape
    build: Callable[[dict[str, Any], Request], Record] | None = None
    # the id of a new record (default: 24 hexadecimal characters)
    new_id: Callable[[Request], str] | None = None
    # fixed titles for validation errors, by operation and JSON pointer
    titles: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def not_found(item: Resource) -> ApiError:
    return ApiError(404, item.not_found, f"{item.name[0].upper()}{item.name[1:]} not found")


def collection_key(item: Resource, parents: Mapping[str, str]) -> tuple[str, ...]:
    return (item.name, *(parents[name] for name in item.parent_params))


def find(store: Any, item: Resource, parents: Mapping[str, str], given: str) -> Record | None:
    """The record ``given`` names: its id, or one of the resource's alternate ids."""
    key = collection_key(item, parents)
    record: Record | None = store.get(key, given)
    if record is None and item.alternate_ids:
        record = next((r for r in store.records(key) if any(r.get(alt) == given for alt in item.alternate_ids)), None)
    return record


def resolve_parents(item: Resource, request: Request) -> dict[str, str]:
    """Canonical ids of the record's parents, outermost first; 404 ``<parent>_not_found`` if one is missing."""
    parents: dict[str, str] = {}
    for name in item.parent_params:
        given = request.params[name]
        owner = next((r for r in RESOURCES if r.id_param == name), None)
        if owner is None:
            parents[name] = given
            continue
        found = find(request.store, owner, parents, given)
        if found is None:
            raise not_found(owner)
        parents[name] = str(found["id"])
    return parents


def stored_fields(contract: Contract, item: Resource, body: Mapping[str, Any]) -> Record:
    """What a record keeps of a body: fields its schema declares for that shape, minus write-only ones."""
    ref = item.record_schema_in(contract)
    if ref is None:
        return dict(body)
    declared = contract.applicable_properties(ref, dict(body), "response")
    kept: Record = {}
    for name, value in body.items():
        schema = declared.get(name)
        if schema is None or schema.get("writeOnly") or name in item.server_fields or value is None:
            continue
        kept[name] = copy.deepcopy(value)
    return kept


def defaults(contract: Contract, ref: str | None, body: Mapping[str, Any]) -> Record:
    """Documented defaults of the fields a body leaves out (for its own shape)."""
    if ref is None:
        return {}
    found = contract.applicable_properties(ref, dict(body), "request")
    return {
        name: copy.deepcopy(schema["default"])
        for name, schema in found.items()
        if name not in body and "default" in schema and not schema.get("readOnly") and not schema.get("writeOnly")
    }


def validate_decided(item: Resource, request: Request, stored: Record) -> None:
    """A body whose schema is decided by a stored value (an integration's type) is checked against that branch."""
    op, body = request.operation, request.body
    if op.request is None or body is None:
        return
    rule = request.contract.resolve(op.request).get("x-conformance-decidedBy")
    if not isinstance(rule, dict):
        return
    branch = (rule.get("mapping") or {}).get(str(stored.get(rule.get("stored", ""))))
    if branch is None:
        return
    ref = urljoin(schema_uri(op.request), branch)
    error = schema_error(request.contract.validator(ref, "request"), body)
    if error is not None:
        raise error


def handlers_for(item: Resource, behaviour: Behaviour) -> dict[str, Handler]:
    """One generic handler per role the resource has."""

    def create(request: Request) -> Response:
        parents = resolve_parents(item, request)
        key = collection_key(item, parents)
        body = request.body if isinstance(request.body, dict) else {}
        if item.limit is not None and len(request.store.records(key)) >= item.limit:
            status, code = item.limit_error
            raise ApiError(status, code, f"A parent may hold at most {item.limit} {item.collection}")
        for name in item.unique:
            if body.get(name) is not None and any(r.get(name) == body[name] for r in request.store.records(key)):
                raise ApiError(409, "conflict", f"A {item.name} with this {name} already exists")
        record = behaviour.build(body, request) if behaviour.build else stored_fields(request.contract, item, body)
        if behaviour.build is None:
            record = {
                **record,
                **{
                    k: v
                    for k, v in defaults(request.contract, request.operation.request, body).items()
                    if k not in record
                },
            }
        new_id = behaviour.new_id(request) if behaviour.new_id else request.store.tokens.new_id()
        record = {"id": new_id, **{k: v for k, v in record.items() if k != "id"}}
        if behaviour.on_create:
            behaviour.on_create(record, body, request)
        return Response(201, {item.envelope: request.store.insert(key, record)})

    def list_records(request: Request) -> Response:
        parents = resolve_parents(item, request)
        wanted: dict[str, set[str]] = {}
        for query_key, field_name in item.filters.items():
            name, _, member = query_key.partition("[")
            value = (request.query.get(name) or {}).get(member.rstrip("]")) if member else request.query.get(name)
            if value is not None:
                wanted[field_name] = {v.strip() for v in str(value).split(",") if v.strip()}
                known = item.shapes_in(request.contract) if field_name == item.discriminator else ()
                unknown = sorted(wanted[field_name] - set(known)) if known else []
                if unknown:
                    raise bad_request(f"{query_key}: {unknown[0]!r} is not an {item.name} {field_name}")

        def keep(record: Record) -> bool:
            return all(str(dotted(record, path)) in allowed for path, allowed in wanted.items())

        key = collection_key(item, parents)
        answer: dict[str, Any] = {}
        op = request.operation
        ref = op.response_schema(200)
        declared = request.contract.declared_fields(ref) if ref else frozenset({item.collection})
        if op.parameter("page", "query") is not None:
            page = request.store.page(
                key, flat(dict(request.query)), base_url=request.base_url, path=request.path, keep=keep
            )
            answer[item.collection] = page.items
            if "meta" in declared:
                answer["meta"] = page.meta
            if "links" in declared:
                answer["links"] = page.links
        else:
            answer[item.collection] = request.store.records(key, keep)
            if "meta" in declared:
                answer["meta"] = {"hasMore": False}
        return Response(200, answer)

    def current(request: Request) -> tuple[tuple[str, ...], Record]:
        parents = resolve_parents(item, request)
        found = find(request.store, item, parents, request.params[item.id_param])
        if found is None:
            raise not_found(item)
        return collection_key(item, parents), found

    def get(request: Request) -> Response:
        return Response(200, {item.envelope: current(request)[1]})

    def update(request: Request) -> Response:
        key, found = current(request)
        validate_decided(item, request, found)
        body = request.body if isinstance(request.body, dict) else {}
        if behaviour.on_update:
            behaviour.on_update(found, body, request)
        kept = set(stored_fields(request.contract, item, {**found, **{k: v for k, v in body.items() if v is not None}}))

        def apply(record: Record) -> Record:
            for name, value in body.items():
                if name in item.server_fields:
                    continue  # the server's to set, whatever a body says
                if value is None:
                    record.pop(name, None)  # null unsets a field
                elif name in kept:
                    record[name] = copy.deepcopy(value)
            return record

        updated = request.store.update(key, str(found["id"]), apply)
        if updated is None:
            raise not_found(item)
        return Response(200, {item.envelope: updated})

    def delete(request: Request) -> Response:
        key, found = current(request)
        if behaviour.on_delete:
            behaviour.on_delete(found, {}, request)
        request.store.delete(key, str(found["id"]))
        request.store.drop_children((*key[1:], str(found["id"])))
        return Response(200, {})

    generic: dict[str, Callable[[Request], Response]] = {
        "create": create,
        "list": list_records,
        "get": get,
        "update": update,
        "delete": delete,
    }
    return {op_id: generic[role] for role, op_id in item.operations.items()}


def titles(behaviours: Mapping[str, Behaviour]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for behaviour in behaviours.values():
        for op_id, by_pointer in behaviour.titles.items():
            out.setdefault(op_id, {}).update(by_pointer)
    return out


def all_handlers(behaviours: Mapping[str, Behaviour]) -> dict[str, Handler]:
    handlers: dict[str, Handler] = {}
    for item in RESOURCES:
        handlers.update(handlers_for(item, behaviours.get(item.name, Behaviour())))
    return handlers


__all__ = ["Behaviour", "all_handlers", "collection_key", "find", "not_found", "resolve_parents", "resource", "titles"]
