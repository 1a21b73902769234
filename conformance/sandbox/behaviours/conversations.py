"""Conversations: participants named at creation, the default conversation, lists by participant.

A conversation's participants are records of their own, in the store collection
``("participant", appId, conversationId)``: the conversation record does not show them, deleting
the conversation drops them, and Join, Leave and List Participants (``participants.py``) work on
them. Messages hang under a conversation the same way (``("message", appId, conversationId)``).
The helpers here (:func:`conversation_of`, :func:`participants_of`, :func:`truncated`,
:func:`user_truncated`) are for the groups built on conversations too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.contract.resources import resource
from conformance.sandbox.api import Request, Response
from conformance.sandbox.crud import Behaviour, collection_key, find, not_found, resolve_parents
from conformance.sandbox.errors import bad_request
from conformance.sandbox.events import emit
from conformance.sandbox.params import flat
from conformance.sandbox.store import Record, Store

CONVERSATION = resource("conversation")
USER = resource("user")
PERSONAL, GROUP = "personal", "sdkGroup"
# The fields of a conversation that events carry (conversationTruncated).
TRUNCATED = ("id", "type", "metadata", "activeSwitchboardIntegration", "pendingSwitchboardIntegration")
USER_TRUNCATED = ("id", "externalId", "authenticated", "zendeskId", "brandId")


def participants_key(app_id: str, conversation_id: str) -> tuple[str, ...]:
    return ("participant", app_id, conversation_id)


def participants_of(store: Store, app_id: str, conversation_id: str) -> list[Record]:
    """The conversation's participants whose users still exist, in the order they joined."""
    users = {str(user["id"]) for user in store.records(("user", app_id))}
    return [p for p in store.records(participants_key(app_id, conversation_id)) if p.get("userId") in users]


def truncated(conversation: Mapping[str, Any]) -> Record:
    return {name: conversation[name] for name in TRUNCATED if name in conversation}


def user_truncated(user: Mapping[str, Any]) -> Record:
    return {name: user[name] for name in USER_TRUNCATED if name in user}


def conversation_of(request: Request) -> Record:
    """The conversation the path names; 404 ``conversation_not_found`` if there is none."""
    parents = resolve_parents(CONVERSATION, request)
    found = find(request.store, CONVERSATION, parents, request.params[CONVERSATION.id_param])
    if found is None:
        raise not_found(CONVERSATION)
    return found


def find_user(request: Request, *, user_id: Any = None, external_id: Any = None) -> Record | None:
    """A user of the request's app by id or by externalId (only the one asked for)."""
    users = request.store.records(("user", request.params["appId"]))
    if user_id is not None:
        return next((u for u in users if u.get("id") == user_id), None)
    return next((u for u in users if external_id is not None and u.get("externalId") == external_id), None)


def named_user(request: Request, named: Mapping[str, Any]) -> Record:
    """The user a body names by ``userId`` or ``userExternalId``; 404 ``user_not_found`` if none."""
    user = find_user(request, user_id=named.get("userId"), external_id=named.get("userExternalId"))
    if user is None:
        raise not_found(USER)
    return user


def new_participant(request: Request, user: Record, conversation_id: str, *, subscribe: bool) -> Record:
    """A participant record for ``user``; subscribing gives the user an SDK client if it has none."""
    associations = []
    if subscribe:
        client = _sdk_client(request, user, conversation_id)
        associations.append({"type": "sdk", "clientId": client["id"]})
    participant: Record = {
        "id": request.store.tokens.new_id(),
        "userId": user["id"],
        "userExternalId": user.get("externalId"),
        "unreadCount": 0,
        "clientAssociations": associations,
        "lastRead": None,
    }
    return request.store.insert(participants_key(request.params["appId"], conversation_id), participant)


def _sdk_client(request: Request, user: Record, conversation_id: str) -> Record:
    key = ("client", request.params["appId"], str(user["id"]))
    existing = next((c for c in request.store.records(key) if c.get("type") == "sdk"), None)
    if existing is not None:
        return existing
    client = {
        "id": request.store.tokens.new_id(),
        "type": "sdk",
        "status": "active",
        "integrationId": None,
        "externalId": None,
        "lastSeen": None,
        "linkedAt": request.store.clock.now(),
    }
    request.store.insert(key, client)
    conversation = request.store.get(collection_key(CONVERSATION, request.params), conversation_id)
    payload = {"user": user_truncated(user), "client": client}
    if conversation is not None:
        payload["conversation"] = truncated(conversation)
    emit(request, "client:add", payload)
    return client


def _is_member(store: Store, app_id: str, conversation: Record, user_id: str) -> bool:
    return any(p.get("userId") == user_id for p in store.records(participants_key(app_id, str(conversation["id"]))))


def _created(record: Record, body: dict[str, Any], request: Request) -> None:
    """Participants must be users of the app; a user's first personal conversation is its default."""
    app_id = request.params["appId"]
    named = [p for p in body.get("participants") or [] if isinstance(p, dict)]
    users = [named_user(request, p) for p in named]
    if len({u["id"] for u in users}) != len(users):
        raise bad_request("A user can take part in a conversation only once")
    earlier = request.store.records(("conversation", app_id), lambda c: c.get("type") == PERSONAL)
    record["isDefault"] = record.get("type") == PERSONAL and not any(
        _is_member(request.store, app_id, c, str(users[0]["id"])) for c in earlier
    )
    now = request.store.clock.now()
    record.update({"businessLastRead": None, "lastUpdatedAt": now, "createdAt": now})
    for given, user in zip(named, users, strict=True):
        new_participant(request, user, str(record["id"]), subscribe=bool(given.get("subscribeSDKClient")))
    payload: dict[str, Any] = {"conversation": truncated(record), "creationReason": "none"}
    if record.get("type") == PERSONAL:
        payload["user"] = users[0]
    emit(request, "conversation:create", payload)


def list_conversations(request: Request) -> Response:
    """The conversations one user takes part in (``filter[userId]`` or ``filter[userExternalId]``)."""
    named = request.query.get("filter") or {}
    user = find_user(request, user_id=named.get("userId"), external_id=named.get("userExternalId"))
    if user is None:
        raise not_found(USER)
    app_id = request.params["appId"]
    page = request.store.page(
        ("conversation", app_id),
        flat(dict(request.query)),
        base_url=request.base_url,
        path=request.path,
        keep=lambda c: _is_member(request.store, app_id, c, str(user["id"])),
    )
    return Response(200, {"conversations": page.items, "meta": page.meta, "links": page.links})


def delete_conversation(request: Request) -> Response:
    """Deletes a conversation with what hangs under it; a user's default conversation stays."""
    found = conversation_of(request)
    if found.get("isDefault"):
        raise bad_request(f"Conversation {found['id']} is a user's default conversation and cannot be deleted")
    app_id = request.params["appId"]
    request.store.delete(("conversation", app_id), str(found["id"]))
    request.store.drop_children((app_id, str(found["id"])))
    emit(request, "conversation:remove", {"conversation": truncated(found)})
    return Response(200, {})


def forget_user(store: Store, app_id: str, user_id: str) -> None:
    """What deleting a user does to conversations: its personal ones go, it leaves the others."""
    for conversation in store.records(("conversation", app_id)):
        key = participants_key(app_id, str(conversation["id"]))
        mine = [p for p in store.records(key) if p.get("userId") == user_id]
        if mine and conversation.get("type") == PERSONAL:
            store.delete(("conversation", app_id), str(conversation["id"]))
            store.drop_children((app_id, str(conversation["id"])))
        for participant in mine:
            store.delete(key, str(participant["id"]))


def download_message_ref(request: Request) -> Response:
    """An Apple message ref, fetched for a user of the app. The sandbox reaches no channel: the
    reference's data is answered as the documented empty object."""
    conversation_of(request)
    named_user(request, {"userId": request.body.get("userId")})
    return Response(200, {})


CONVERSION_CHANNELS = ("messenger", "instagram", "whatsapp")


def post_conversion_events(request: Request) -> Response:
    """Conversion events for one channel's dataset (one per app and channel), counted."""
    conversation_of(request)
    channel = next(name for name in CONVERSION_CHANNELS if name in request.body)
    events = request.body[channel]["payload"]["data"]
    key = ("conversionDataset", request.params["appId"])
    dataset = request.store.get(key, channel)
    if dataset is None:
        digits = str(int(request.store.tokens.hex(7), 16)).zfill(16)[-16:]
        dataset = request.store.insert(key, {"id": channel, "datasetId": digits})
    return Response(200, {"conversionEvents": {"datasetId": dataset["datasetId"], "eventsReceived": len(events)}})


BEHAVIOURS: dict[str, Behaviour] = {"conversation": Behaviour(on_create=_created)}
HANDLERS = {
    "ListConversations": list_conversations,
    "DeleteConversation": delete_conversation,
    "DownloadMessageRef": download_message_ref,
    "PostConversionEvents": post_conversion_events,
}
