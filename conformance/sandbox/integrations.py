"""Handlers for the Integrations operations: Create, List, Get, Update and Delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.sandbox.api import Handler, Request, Response
from conformance.sandbox.errors import ApiError, bad_request, schema_error
from conformance.sandbox.fields import writable
from conformance.sandbox.store import PAGE_TITLES, Record, Tokens
from conformance.spec.schemas import read_only_fields, resolve, validator, write_only_fields

COLLECTION = "integrations"
RESOURCE = "integration.json"
UPDATE = "integration-update.request.json"
WEBHOOK = f"{RESOURCE}#/$defs/webhook"
TYPES: tuple[str, ...] = tuple(resolve(f"{RESOURCE}#/$defs/types")["enum"])
# id and status belong to every integration and are the server's to set.
ROOT_READ_ONLY = frozenset(
    name
    for name, schema in resolve(RESOURCE)["properties"].items()
    if isinstance(schema, dict) and schema.get("readOnly")
)
NOT_FOUND_TITLE = "Integration not found"


def _type_ref(kind: str) -> str:
    return f"{RESOURCE}#/$defs/{kind}"


def not_found() -> ApiError:
    return ApiError(404, "integration_not_found", NOT_FOUND_TITLE)


def _webhook(sent: dict[str, Any], tokens: Tokens) -> dict[str, Any]:
    # The secret is generated like id and version: the API hands it out, it does not take one.
    kept = writable(WEBHOOK, sent, also_drop=frozenset({"secret"}))
    hook: dict[str, Any] = {"id": tokens.new_id(), "version": "v2", **kept, "secret": tokens.hex(16)}
    hook.setdefault("includeFullUser", False)
    hook.setdefault("includeFullSource", False)
    return hook


def _custom(record: Record, tokens: Tokens) -> None:
    record["webhooks"] = [_webhook(hook, tokens) for hook in record.get("webhooks", []) if isinstance(hook, dict)]


def _messagebird(record: Record, tokens: Tokens) -> None:
    record["webhookSecret"] = tokens.hex(16)


# Read-only fields the API fills in itself when an integration of that type is created.
SERVER_FIELDS: dict[str, Callable[[Record, Tokens], None]] = {"custom": _custom, "messagebird": _messagebird}


def _stored_fields(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    fields = writable(_type_ref(kind), body, also_drop=ROOT_READ_ONLY | {"type"})
    return {name: value for name, value in fields.items() if value is not None}


def _found(record: Record | None) -> Record:
    if record is None:
        raise not_found()
    return record


def create_integration(request: Request) -> Response:
    body = request.body
    kind = body["type"]
    record: Record = {"id": request.store.tokens.new_id(), "type": kind, "status": "active"}
    if body.get("displayName") is not None:
        record["displayName"] = body["displayName"]
    record.update(_stored_fields(kind, body))
    if kind in SERVER_FIELDS:
        SERVER_FIELDS[kind](record, request.store.tokens)
    return Response(201, {"integration": request.store.insert(COLLECTION, record)})


def _filter_types(raw: str | None) -> frozenset[str]:
    if raw is None:
        return frozenset()
    wanted = frozenset(name.strip() for name in raw.split(",") if name.strip())
    unknown = sorted(wanted - set(TYPES))
    if unknown:
        raise bad_request(f"filter[types]: {', '.join(map(repr, unknown))} is not an integration type")
    return wanted


def list_integrations(request: Request) -> Response:
    types = _filter_types(request.query.get("filter[types]"))
    keep = None if not types else lambda record: record["type"] in types
    page = request.store.page(COLLECTION, request.query, base_url=request.base_url, path=request.path, keep=keep)
    return Response(200, {"integrations": page.items, "meta": page.meta, "links": page.links})


def get_integration(request: Request) -> Response:
    record = _found(request.store.get(COLLECTION, request.params["integrationId"]))
    return Response(200, {"integration": record})


def update_integration(request: Request) -> Response:
    integration_id = request.params["integrationId"]
    kind = _found(request.store.get(COLLECTION, integration_id))["type"]
    # Only now is the type known, and each type allows different changes.
    ref = f"{UPDATE}#/$defs/{kind}"
    error = schema_error(validator(ref), request.body)
    if error is not None:
        raise error
    resource = _type_ref(kind)
    dropped = write_only_fields(resource) | read_only_fields(resource) | ROOT_READ_ONLY | {"type"}
    changes = writable(ref, request.body, also_drop=dropped)

    def apply(record: Record) -> Record:
        for name, value in changes.items():
            # null unsets a field.
            if value is None:
                record.pop(name, None)
            else:
                record[name] = value
        return record

    updated = _found(request.store.update(COLLECTION, integration_id, apply))
    return Response(200, {"integration": updated})


def delete_integration(request: Request) -> Response:
    if not request.store.delete(COLLECTION, request.params["integrationId"]):
        raise not_found()
    return Response(200, {})


HANDLERS: dict[str, Handler] = {
    "CreateIntegration": create_integration,
    "ListIntegrations": list_integrations,
    "GetIntegration": get_integration,
    "UpdateIntegration": update_integration,
    "DeleteIntegration": delete_integration,
}

# Fixed titles for validation errors at a JSON pointer, per operation.
TITLES: dict[str, dict[str, str]] = {
    "CreateIntegration": {"/type": "Invalid integration type"},
    "ListIntegrations": dict(PAGE_TITLES),
}
