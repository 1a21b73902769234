"""Users, clients and devices: what the API fills in, what it refuses, and the events it fires.

The generic handlers do the storing; the ones here add what the documentation states beside
them: no removing an ``sdk`` client, devices listed by last seen, and personal-information
deletion (with its ``user:update``); the other user and client events are in ``user_events.py``.
Devices and sdk clients come from SDK logins, which have no API operation: a fresh sandbox seeds
a signed-in user (see ``seeded.py``).
"""

from __future__ import annotations

from typing import Any

from conformance.contract.resources import resource
from conformance.sandbox import seeded
from conformance.sandbox.api import Handler, Request, Response
from conformance.sandbox.behaviours.conversations import forget_user
from conformance.sandbox.crud import Behaviour, collection_key, find, handlers_for, not_found, stored_fields
from conformance.sandbox.errors import bad_request
from conformance.sandbox.events import emit
from conformance.sandbox.store import Record

USER, CLIENT, DEVICE = resource("user"), resource("client"), resource("device")
# What DeleteUserPersonalInformation clears: documented profile fields, and per client these.
PERSONAL_PROFILE = ("givenName", "surname", "email", "avatarUrl")
PERSONAL_CLIENT = ("displayName", "avatarUrl", "info", "raw")


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
        **stored_fields(
            request.contract, resource("client"), {k: v for k, v in body.items() if k not in ("matchCriteria",)}
        ),
    }


def _user_deleted(record: Record, body: dict[str, Any], request: Request) -> None:
    # Deleting a user takes its personal conversations with it, and its place in the others.
    forget_user(request.store, str(request.params["appId"]), str(record["id"]))


BEHAVIOURS: dict[str, Behaviour] = {
    "user": Behaviour(on_create=_user_created, on_delete=_user_deleted),
    "client": Behaviour(build=_client),
}
_GENERIC: dict[str, Handler] = {
    **handlers_for(USER, BEHAVIOURS["user"]),
    **handlers_for(CLIENT, BEHAVIOURS["client"]),
    **handlers_for(DEVICE, Behaviour()),
}


def app_of(request: Request) -> str:
    return str(request.params["appId"])


def find_user(request: Request) -> Record:
    """The user the path names (id or externalId); 404 user_not_found."""
    found = find(request.store, USER, {"appId": app_of(request)}, request.params["userIdOrExternalId"])
    if found is None:
        raise not_found(USER)
    return found


def clients_key(app_id: str, user_id: str) -> tuple[str, ...]:
    return collection_key(CLIENT, {"appId": app_id, "userIdOrExternalId": user_id})


# -- users ---------------------------------------------------------------------------------------


def delete_personal_information(request: Request) -> Response:
    """Profile names, email and avatar, custom properties and identities go; the user stays.

    Each of the user's clients loses its display name, avatar and channel details.
    """
    user = find_user(request)
    app_id, user_id = app_of(request), str(user["id"])

    def clear(record: Record) -> Record:
        profile = {k: v for k, v in (record.get("profile") or {}).items() if k not in PERSONAL_PROFILE}
        return {**record, "profile": profile, "metadata": {}, "identities": []}

    def clear_client(record: Record) -> Record:
        return {k: v for k, v in record.items() if k not in PERSONAL_CLIENT}

    cleared = request.store.update(("user", app_id), user_id, clear)
    if cleared is None:
        raise not_found(USER)
    for client in request.store.records(clients_key(app_id, user_id)):
        request.store.update(clients_key(app_id, user_id), str(client["id"]), clear_client)
    emit(request, "user:update", {"user": cleared})
    return Response(200, {"user": cleared})


# -- clients -------------------------------------------------------------------------------------


def remove_client(request: Request) -> Response:
    user = find_user(request)
    client = request.store.get(clients_key(app_of(request), str(user["id"])), request.params["clientId"])
    if client is None:
        raise not_found(CLIENT)
    if client.get("type") == "sdk":
        # SDK clients go with their device's logout, never through the API.
        raise bad_request("Cannot remove a client of type 'sdk'")
    return _GENERIC["RemoveClient"](request)


# -- devices -------------------------------------------------------------------------------------


def list_devices(request: Request) -> Response:
    """A user's devices, most recently seen first (the documented order)."""
    answer = _GENERIC["ListDevices"](request)
    devices = sorted(answer.body["devices"], key=lambda d: str(d.get("lastSeen") or ""), reverse=True)
    return Response(200, {**answer.body, "devices": devices})


HANDLERS: dict[str, Handler] = {
    "DeleteUserPersonalInformation": delete_personal_information,
    "RemoveClient": remove_client,
    "ListDevices": list_devices,
}

SEED = seeded.seed_users
