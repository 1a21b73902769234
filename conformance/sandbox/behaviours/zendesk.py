"""Synchronize User: a messaging user takes its Zendesk Support counterpart's data, merging if need be.

As documented: the user linked by ``zendeskId`` takes the Support user's ``externalId``, given
name, surname and primary email (as an email identity, not in the profile). A
``survivingZendeskId`` applies a Support merge first: the outgoing user is merged into the
surviving one's messaging user, or relinked when that Support user has none. Another messaging
user holding the synced ``externalId`` or email is merged in; if it is linked to a Support user
itself, it only loses the conflicting value. Merges fire ``user:merge``, changes ``user:update``.
The Support users come from the sandbox's seeded directory (``seeded.py``).
"""

from __future__ import annotations

from typing import Any

from conformance.contract.resources import resource
from conformance.sandbox import seeded
from conformance.sandbox.api import Handler, Request, Response
from conformance.sandbox.behaviours.users import app_of, clients_key
from conformance.sandbox.crud import not_found
from conformance.sandbox.errors import bad_request
from conformance.sandbox.events import emit
from conformance.sandbox.store import Record

USER = resource("user")


def _linked(request: Request, zendesk_id: str) -> Record | None:
    return next((u for u in request.store.records(("user", app_of(request))) if u.get("zendeskId") == zendesk_id), None)


def _person(request: Request, zendesk_id: str) -> Record | None:
    """The Support user with that id, from the sandbox's directory."""
    return request.store.get(seeded.ZENDESK_DIRECTORY, zendesk_id)


def _emails(user: Record) -> set[str]:
    return {
        str(i.get("value")) for i in user.get("identities") or [] if isinstance(i, dict) and i.get("type") == "email"
    }


def _merge(request: Request, surviving: Record, discarded: Record) -> Record:
    """``discarded`` folds into ``surviving``: its clients move over, it goes; user:merge fires."""
    app_id = app_of(request)
    users = ("user", app_id)
    for client in request.store.records(clients_key(app_id, str(discarded["id"]))):
        request.store.insert(clients_key(app_id, str(surviving["id"])), client)
    request.store.delete(users, str(discarded["id"]))
    request.store.drop_children((app_id, str(discarded["id"])))
    emit(
        request,
        "user:merge",
        {
            "mergedUsers": {"surviving": surviving, "discarded": discarded},
            "mergedConversations": None,
            "mergedClients": None,
            "discardedMetadata": discarded.get("metadata") or None,
            "reason": "api",
        },
    )
    return surviving


def _apply_merger(request: Request, user: Record, surviving_id: str) -> Record:
    """The Support merge of the path's user into ``surviving_id``, on the messaging side."""
    if _person(request, surviving_id) is None:
        raise bad_request(f"survivingZendeskId {surviving_id[:40]!r} names no Zendesk user")
    other = _linked(request, surviving_id)
    if other is not None and other["id"] != user["id"]:
        return _merge(request, other, user)
    relinked = request.store.update(
        ("user", app_of(request)), str(user["id"]), lambda r: {**r, "zendeskId": surviving_id}
    )
    return relinked or user


def _resolve_conflicts(request: Request, user: Record, person: Record) -> None:
    """Other users holding the synced externalId or email: merged in, or stripped when linked themselves."""
    users = ("user", app_of(request))
    for other in request.store.records(users):
        if other["id"] == user["id"]:
            continue
        same_id = other.get("externalId") == person["externalId"]
        same_email = person["email"] in _emails(other)
        if not (same_id or same_email):
            continue
        if other.get("zendeskId"):

            def strip(record: Record, same_id: bool = same_id) -> Record:
                kept = [i for i in record.get("identities") or [] if i.get("value") != person["email"]]
                return {**record, "identities": kept, **({"externalId": None} if same_id else {})}

            stripped = request.store.update(users, str(other["id"]), strip)
            if stripped is not None:
                emit(request, "user:update", {"user": stripped})
        else:
            _merge(request, user, other)


def sync_user(request: Request) -> Response:
    zendesk_id = request.params["zendeskId"]
    user = _linked(request, zendesk_id)
    if user is None:
        raise not_found(USER)
    body: dict[str, Any] = request.body if isinstance(request.body, dict) else {}
    surviving_id = body.get("survivingZendeskId")
    if isinstance(surviving_id, str) and surviving_id != zendesk_id:
        user = _apply_merger(request, user, surviving_id)
        zendesk_id = surviving_id
    person = _person(request, zendesk_id)
    if person is None:
        return Response(200, {"user": user})
    _resolve_conflicts(request, user, person)

    def synced(record: Record) -> Record:
        profile = {**(record.get("profile") or {}), "givenName": person["givenName"], "surname": person["surname"]}
        others = [i for i in record.get("identities") or [] if i.get("type") != "email"]
        email = {"type": "email", "value": person["email"], "verification": "verified"}
        return {**record, "externalId": person["externalId"], "profile": profile, "identities": [email, *others]}

    updated = request.store.update(("user", app_of(request)), str(user["id"]), synced)
    if updated is None:
        raise not_found(USER)
    emit(request, "user:update", {"user": updated})
    return Response(200, {"user": updated})


HANDLERS: dict[str, Handler] = {"SyncUser": sync_user}
