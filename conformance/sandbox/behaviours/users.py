"""Users and clients: what the API fills in on a new user, and a client made from match criteria."""

from __future__ import annotations

from typing import Any

from conformance.sandbox.api import Request
from conformance.sandbox.behaviours.conversations import forget_user
from conformance.sandbox.crud import Behaviour, stored_fields
from conformance.sandbox.store import Record
from conformance.spec.resources import resource


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


def _user_deleted(record: Record, body: dict[str, Any], request: Request) -> None:
    # Deleting a user takes its personal conversations with it, and its place in the others.
    forget_user(request.store, str(request.params["appId"]), str(record["id"]))


BEHAVIOURS: dict[str, Behaviour] = {
    "user": Behaviour(on_create=_user_created, on_delete=_user_deleted),
    "client": Behaviour(build=_client),
}
