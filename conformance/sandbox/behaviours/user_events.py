"""The webhook events that operations on users and clients cause, wrapped around whatever handler answers them.

* CreateClient starts a channel link: ``client:add`` (reason ``channelLinking``);
* RemoveClient: ``client:remove`` (reason ``api``);
* UpdateUser that changes the profile, the part of a user that identifies them: ``user:update``;
* DeleteUser: ``user:remove``.

Payloads carry the full user; delivery truncates it for webhooks that do not ask for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.sandbox.api import Handler, Request, Response
from conformance.sandbox.crud import find, resource
from conformance.sandbox.events import emit
from conformance.sandbox.store import Record

USERS, CLIENTS = resource("user"), resource("client")
API_SOURCE = {"type": "api"}


def _user(request: Request) -> Record | None:
    parents = {"appId": str(request.params["appId"])}
    return find(request.store, USERS, parents, str(request.params.get(USERS.id_param, "")))


def _client(request: Request, user: Record | None) -> Record | None:
    if user is None:
        return None
    parents = {"appId": str(request.params["appId"]), USERS.id_param: str(user["id"])}
    return find(request.store, CLIENTS, parents, str(request.params.get(CLIENTS.id_param, "")))


def _conversation(request: Request, conversation_id: Any) -> dict[str, Any] | None:
    """The conversation a client was linked for, as events show it, if the app has it."""
    if not isinstance(conversation_id, str):
        return None
    stored = request.store.get(("conversation", str(request.params["appId"])), conversation_id)
    return {"id": conversation_id, "type": stored.get("type", "personal")} if stored else None


def _succeeded(response: Response) -> bool:
    return 200 <= response.status < 300


def client_added(inner: Handler) -> Handler:
    def handler(request: Request) -> Response:
        response = inner(request)
        client = (response.body or {}).get("client") if _succeeded(response) else None
        user = _user(request)
        if isinstance(client, dict) and user is not None:
            target = (request.body or {}).get("target") if isinstance(request.body, dict) else None
            conversation = _conversation(request, (target or {}).get("conversationId"))
            payload: dict[str, Any] = {"conversation": conversation, "user": user, "client": client}
            emit(request, "client:add", {**payload, "reason": "channelLinking", "source": dict(API_SOURCE)})
        return response

    return handler


def client_removed(inner: Handler) -> Handler:
    def handler(request: Request) -> Response:
        user = _user(request)
        client = _client(request, user)
        response = inner(request)
        if _succeeded(response) and user is not None and client is not None:
            payload = {"conversation": None, "user": user, "client": client, "reason": "api"}
            emit(request, "client:remove", {**payload, "source": dict(API_SOURCE)})
        return response

    return handler


def user_updated(inner: Handler) -> Handler:
    def handler(request: Request) -> Response:
        response = inner(request)
        user = (response.body or {}).get("user") if _succeeded(response) else None
        if isinstance(user, dict) and isinstance(request.body, dict) and "profile" in request.body:
            emit(request, "user:update", {"user": user, "source": dict(API_SOURCE)})
        return response

    return handler


def user_removed(inner: Handler) -> Handler:
    def handler(request: Request) -> Response:
        user = _user(request)
        response = inner(request)
        if _succeeded(response) and user is not None:
            emit(request, "user:remove", {"user": user})
        return response

    return handler


WRAPPERS: dict[str, Callable[[Handler], Handler]] = {
    "CreateClient": client_added,
    "RemoveClient": client_removed,
    "UpdateUser": user_updated,
    "DeleteUser": user_removed,
}
