"""What resources do that their schemas cannot say: server-set fields, id formats, derived records.

Everything else (storage under parents, validation, defaults, lists, pagination, 404s, limits,
uniqueness) is generic, in ``crud.py``.
"""

from __future__ import annotations

from typing import Any

from conformance.sandbox.api import Request
from conformance.sandbox.crud import Behaviour, stored_fields
from conformance.sandbox.store import Record
from conformance.spec.resources import resource

WEBHOOK_SERVER_FIELDS = ("id", "version", "secret")


def _webhook(sent: dict[str, Any], request: Request) -> dict[str, Any]:
    # Like id and version, the secret is the API's to hand out: one sent is ignored.
    kept = {k: v for k, v in sent.items() if k not in WEBHOOK_SERVER_FIELDS}
    hook: dict[str, Any] = {"id": request.store.tokens.new_id(), "version": "v2", **kept}
    hook.setdefault("includeFullUser", False)
    hook.setdefault("includeFullSource", False)
    hook["secret"] = request.store.tokens.hex(16)
    return hook


def _integration_created(record: Record, body: dict[str, Any], request: Request) -> None:
    record["status"] = "active"
    kind = record.get("type")
    if kind == "custom":
        record["webhooks"] = [_webhook(h, request) for h in body.get("webhooks") or [] if isinstance(h, dict)]
    elif kind == "messagebird":
        record["webhookSecret"] = request.store.tokens.hex(16)


def _app_key_id(request: Request) -> str:
    return "app_" + request.store.tokens.new_id()


def _secret(record: Record, body: dict[str, Any], request: Request) -> None:
    record["secret"] = request.store.tokens.hex(32)


def _user_created(record: Record, body: dict[str, Any], request: Request) -> None:
    record.setdefault("authenticated", False)
    record.setdefault("identities", [])


def _client(body: dict[str, Any], request: Request) -> Record:
    """A client is made from match criteria: its type and integration come from them."""
    criteria = body.get("matchCriteria") or {}
    return {
        "type": criteria.get("type"),
        "status": "pending",
        "integrationId": criteria.get("integrationId"),
        "externalId": criteria.get("phoneNumber") or criteria.get("address") or None,
        "lastSeen": None,
        "linkedAt": None,
        **stored_fields(resource("client"), {k: v for k, v in body.items() if k not in ("matchCriteria",)}),
    }


BEHAVIOURS: dict[str, Behaviour] = {
    "integration": Behaviour(
        on_create=_integration_created,
        titles={"CreateIntegration": {"/type": "Invalid integration type"}},
    ),
    "appKey": Behaviour(new_id=_app_key_id, on_create=_secret),
    "user": Behaviour(on_create=_user_created),
    "client": Behaviour(build=_client),
}
