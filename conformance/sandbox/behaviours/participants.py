"""Participants: users join and leave sdkGroup conversations, and are listed page by page."""

from __future__ import annotations

from conformance.sandbox.api import Request, Response
from conformance.sandbox.behaviours.conversations import (
    GROUP,
    conversation_of,
    find_user,
    named_user,
    new_participant,
    participants_key,
    participants_of,
    truncated,
    user_truncated,
)
from conformance.sandbox.errors import ApiError, bad_request
from conformance.sandbox.events import emit
from conformance.sandbox.params import flat

# An sdkGroup conversation holds at most this many participants (as many as a create may name).
MAX_PARTICIPANTS = 10


def join(request: Request) -> Response:
    conversation = conversation_of(request)
    if conversation.get("type") != GROUP:
        raise bad_request("Only sdkGroup conversations can be joined")
    user = named_user(request, request.body)
    app_id, conversation_id = request.params["appId"], str(conversation["id"])
    members = participants_of(request.store, app_id, conversation_id)
    if any(p.get("userId") == user["id"] for p in members):
        raise bad_request("The user already takes part in this conversation")
    if len(members) >= MAX_PARTICIPANTS:
        raise bad_request("Too many participants")
    participant = new_participant(
        request, user, conversation_id, subscribe=bool(request.body.get("subscribeSDKClient"))
    )
    emit(request, "conversation:join", {"conversation": truncated(conversation), "user": user_truncated(user)})
    return Response(201, {"participant": participant})


def leave(request: Request) -> Response:
    """The participant named by participantId, userId or userExternalId leaves; 404 not_found if none is."""
    conversation = conversation_of(request)
    app_id, conversation_id = request.params["appId"], str(conversation["id"])
    body = request.body
    members = participants_of(request.store, app_id, conversation_id)
    if "participantId" in body:
        found = next((p for p in members if p.get("id") == body["participantId"]), None)
    elif "userId" in body:
        found = next((p for p in members if p.get("userId") == body["userId"]), None)
    else:
        found = next((p for p in members if p.get("userExternalId") == body.get("userExternalId")), None)
    if found is None:
        raise ApiError(404, "not_found", "User is not a participant of the conversation")
    if conversation.get("type") != GROUP:
        raise bad_request("Only participants of sdkGroup conversations can leave them")
    request.store.delete(participants_key(app_id, conversation_id), str(found["id"]))
    user = find_user(request, user_id=found.get("userId")) or {"id": found.get("userId")}
    emit(request, "conversation:leave", {"conversation": truncated(conversation), "user": user_truncated(user)})
    return Response(200, {})


def list_participants(request: Request) -> Response:
    conversation = conversation_of(request)
    app_id = request.params["appId"]
    users = {str(user["id"]) for user in request.store.records(("user", app_id))}
    page = request.store.page(
        participants_key(app_id, str(conversation["id"])),
        flat(dict(request.query)),
        base_url=request.base_url,
        path=request.path,
        keep=lambda p: p.get("userId") in users,
    )
    return Response(200, {"participants": page.items, "meta": page.meta, "links": page.links})


HANDLERS = {"JoinConversation": join, "LeaveConversation": leave, "ListParticipants": list_participants}
