"""Integrations: the status, webhook secrets and ids the API sets itself."""

from __future__ import annotations

from typing import Any

from conformance.sandbox.api import Request
from conformance.sandbox.behaviours.webhooks import custom_integration_created
from conformance.sandbox.crud import Behaviour
from conformance.sandbox.store import Record


def _integration_created(record: Record, body: dict[str, Any], request: Request) -> None:
    record["status"] = "active"
    kind = record.get("type")
    if kind == "custom":
        custom_integration_created(record, body, request)
    elif kind == "messagebird":
        record["webhookSecret"] = request.store.tokens.hex(16)


BEHAVIOURS: dict[str, Behaviour] = {
    "integration": Behaviour(
        on_create=_integration_created,
        titles={"CreateIntegration": {"/type": "Invalid integration type"}},
    ),
}
