"""Activities: typing indicators and read receipts, by the business or by a participant."""

from __future__ import annotations

from typing import Any

from conformance.sandbox.api import Request, Response
from conformance.sandbox.behaviours.conversations import (
    CONVERSATION,
    conversation_of,
    named_user,
    participants_key,
    participants_of,
    truncated,
)
from conformance.sandbox.crud import collection_key
from conformance.sandbox.errors import bad_request
from conformance.sandbox.events import emit
from conformance.sandbox.store import Record

READ = "conversation:read"


def post_activity(request: Request) -> Response:
    """A read moves the reader's mark (the participant's lastRead, or the business's); events tell webhooks.

    A user may only mark the conversation read (the contract says so), and only as a participant.
    """
    conversation = conversation_of(request)
    app_id, conversation_id = request.params["appId"], str(conversation["id"])
    kind, author = request.body["type"], request.body["author"]
    now = request.store.clock.now()
    shown: dict[str, Any] = {"type": author["type"]}
    for name in ("displayName", "avatarUrl"):
        if name in author:
            shown[name] = author[name]
    if author["type"] == "user":
        user = named_user(request, author)
        participant = next(
            (p for p in participants_of(request.store, app_id, conversation_id) if p.get("userId") == user["id"]),
            None,
        )
        if participant is None:
            raise bad_request("The author is not a participant of the conversation")

        def read(record: Record) -> Record:
            return {**record, "lastRead": now, "unreadCount": 0}

        request.store.update(participants_key(app_id, conversation_id), str(participant["id"]), read)
        shown.update({"userId": user["id"], "user": user})
    elif kind == READ:
        request.store.update(
            collection_key(CONVERSATION, request.params), conversation_id, lambda c: {**c, "businessLastRead": now}
        )
    activity = {"type": kind, "author": shown}
    emit(
        request,
        READ if kind == READ else "conversation:typing",
        {"conversation": truncated(conversation), "activity": activity},
    )
    return Response(200, {})


HANDLERS = {"PostActivity": post_activity}
