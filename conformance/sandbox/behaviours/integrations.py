"""Integrations: the status, webhook secrets and ids the API sets itself."""

from __future__ import annotations

from typing import Any

from conformance.sandbox.api import Request
from conformance.sandbox.crud import Behaviour
from conformance.sandbox.store import Record

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


BEHAVIOURS: dict[str, Behaviour] = {
    "integration": Behaviour(
        on_create=_integration_created,
        titles={"CreateIntegration": {"/type": "Invalid integration type"}},
    ),
}
