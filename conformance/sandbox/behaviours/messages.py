"""Messages: posting every content type, the conversation's message limit, newest-first pages, and
deleting one message or all of them (with the attachments uploaded for them).

PostMessage answers ``{messages: [message]}`` and ListMessages pages backwards from the newest
message at a fixed size, so both are hand-written; the rules the documentation states only in
prose and JSON Schema cannot say (flat metadata up to 4 KB, unique form field names, subtypes
only the API sets) are checked here.
"""

from __future__ import annotations

import copy
import json
import mimetypes
from typing import Any
from urllib.parse import unquote, urlsplit

from conformance import pointer as pointers
from conformance.contract.resources import resource
from conformance.contract.schemas import Contract
from conformance.sandbox import events
from conformance.sandbox.api import Handler, Request, Response
from conformance.sandbox.behaviours import attachments
from conformance.sandbox.crud import collection_key, find, not_found, resolve_parents
from conformance.sandbox.errors import ApiError, bad_request
from conformance.sandbox.params import flat
from conformance.sandbox.store import Record

MESSAGE = resource("message")
METADATA_BYTES = 4096
# Subtypes the API sets on messages it reports, which a client may not claim.
RESPONSE_ONLY_SUBTYPES = ("agent", "bot")
CONTENT_REF = "components/content.json"
AUTHOR_REF = "components/author.json"


def _messages(request: Request) -> tuple[tuple[str, ...], dict[str, str]]:
    parents = resolve_parents(MESSAGE, request)
    return collection_key(MESSAGE, parents), parents


# -- prose rules --------------------------------------------------------------------------------


def check_metadata(metadata: Any, where: str = "metadata") -> None:
    """Flat (strings, numbers and booleans only) and at most 4 KB, as the documentation says."""
    if metadata is None:
        return
    nested = sorted(key for key, value in metadata.items() if isinstance(value, dict | list) or value is None)
    if nested:
        raise bad_request(f"{where}.{nested[0]}: metadata values are strings, numbers or booleans")
    size = len(json.dumps(metadata, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > METADATA_BYTES:
        raise bad_request(f"{where} is {size} bytes; metadata is limited to 4KB")


def _unique(items: Any, where: str) -> None:
    names = [str(item["name"]) for item in items or [] if isinstance(item, dict) and "name" in item]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise bad_request(f"{where}: the name {repeated[0]!r} is used twice; names must be unique")


def _check_prose(body: dict[str, Any]) -> None:
    author, content = body["author"], body["content"]
    claimed = sorted(set(author.get("subtypes") or ()) & set(RESPONSE_ONLY_SUBTYPES))
    if claimed:
        raise bad_request(f"author.subtypes: {claimed[0]!r} is set by the API on messages it reports, not by a client")
    check_metadata(body.get("metadata"))
    if content.get("type") == "form":
        _unique(content.get("fields"), "content.fields")
        for number, field in enumerate(content.get("fields") or []):
            _unique(field.get("options"), f"content.fields[{number}].options")
    for where, action in _actions(content):
        check_metadata(action.get("metadata"), f"{where}.metadata")
    for number, item in enumerate(content.get("items") or []):
        check_metadata(item.get("metadata"), f"content.items[{number}].metadata")


def _actions(content: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = [(f"content.actions[{n}]", a) for n, a in enumerate(content.get("actions") or [])]
    for number, item in enumerate(content.get("items") or []):
        found += [(f"content.items[{number}].actions[{n}]", a) for n, a in enumerate(item.get("actions") or [])]
    return found


# -- what a stored message holds ----------------------------------------------------------------


def _without_write_only(contract: Contract, ref: str, value: dict[str, Any]) -> dict[str, Any]:
    kept = copy.deepcopy(value)
    # Deepest first, so removing one never moves another.
    for pointer in sorted(contract.annotated_pointers(ref, kept), reverse=True):
        pointers.remove(kept, pointer)
    return kept


def _author(sent: dict[str, Any], request: Request) -> dict[str, Any]:
    """The author as stored: a user author is named by its id, however the request named it."""
    author = _without_write_only(request.contract, AUTHOR_REF, sent)
    if sent.get("type") != "user":
        return author
    given = sent.get("userId") or sent.get("userExternalId")
    if not given:
        raise bad_request("author: a user author needs userId or userExternalId")
    user = find(request.store, resource("user"), {"appId": request.params["appId"]}, str(given))
    if user is None or (sent.get("userId") and user["id"] != sent["userId"]):
        raise not_found(resource("user"))
    return {**author, "userId": user["id"]}


def _file_name(url: str) -> str:
    return unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]) or "file"


def _media(content: dict[str, Any], request: Request) -> dict[str, Any]:
    """Type and size of an image or file: the upload's when the URL is one, else guessed from the URL."""
    url = str(content["mediaUrl"])
    upload = attachments.find_upload(request, url)
    if upload is not None:
        content["mediaType"], content["mediaSize"] = upload["mediaType"], upload["mediaSize"]
    else:
        content["mediaType"] = mimetypes.guess_type(_file_name(url))[0] or "application/octet-stream"
    content.setdefault("altText", _file_name(url)[:128])
    return content


def _content(sent: dict[str, Any], request: Request) -> dict[str, Any]:
    content = _without_write_only(request.contract, CONTENT_REF, sent)
    kind = content["type"]
    if kind == "text" and "text" not in content and sent.get("markdownText"):
        content["text"] = sent["markdownText"]  # the plain-text rendering of what was sent
    if kind in ("image", "file"):
        content = _media(content, request)
    elif kind == "carousel":
        content["text"] = "\n".join(f"{n}. {item['title']}" for n, item in enumerate(content["items"], 1))
    elif kind == "location":
        where = content.get("location") or {}
        point = content["coordinates"]
        named = ", ".join(str(where[k]) for k in ("name", "address") if where.get(k))
        content["text"] = named or f"Location shared: {point['lat']}, {point['long']}"
    elif kind == "form":
        content["submitted"] = False
    return content


def _conversation(request: Request, parents: dict[str, str]) -> Record:
    found = find(request.store, resource("conversation"), {"appId": parents["appId"]}, parents["conversationId"])
    return found or {"id": parents["conversationId"]}


def _event_payload(conversation: Record, message: Record) -> dict[str, Any]:
    """The documented conversation:message payload: the conversation in short, and the message."""
    short = {k: conversation[k] for k in ("id", "type", "metadata") if conversation.get(k) is not None}
    author = {k: v for k, v in message["author"].items() if k in ("type", "userId")}
    sent = {k: copy.deepcopy(v) for k, v in message.items() if k not in ("author",)}
    return {"conversation": short, "message": {**sent, "author": author}}


# -- handlers -----------------------------------------------------------------------------------


def post_message(request: Request) -> Response:
    key, parents = _messages(request)
    body: dict[str, Any] = request.body
    _check_prose(body)
    author = _author(body["author"], request)
    limit = request.limits.get("max_messages", 30_000)
    if len(request.store.records(key)) >= limit:
        raise ApiError(423, "locked", f"Message limit of {limit} per conversation reached.")
    conversation_id = parents["conversationId"]
    message: Record = {
        "id": request.store.tokens.new_id(),
        "received": request.store.tokens.now(),
        "author": author,
        "content": _content(body["content"], request),
        "source": {"type": "api:conversations"},
    }
    if body.get("metadata") is not None:
        message["metadata"] = copy.deepcopy(body["metadata"])
    stored = request.store.insert(key, message)
    if stored["content"]["type"] in ("image", "file"):
        attachments.link_upload(request, str(stored["content"]["mediaUrl"]), stored["id"], conversation_id)
    events.emit(request, "conversation:message", _event_payload(_conversation(request, parents), stored))
    return Response(201, {"messages": [stored]})


def list_messages(request: Request) -> Response:
    try:
        key, _ = _messages(request)
    except ApiError as error:
        # List Messages documents a plain not_found for a conversation it cannot find.
        if error.status != 404:
            raise
        raise ApiError(404, "not_found", "Conversation not found") from None
    page = request.store.page(
        key,
        flat(dict(request.query)),
        base_url=request.base_url,
        path=request.path,
        size=request.limits.get("message_page_size", 100),
        newest_first=True,
    )
    answer: dict[str, Any] = {"messages": page.items, "meta": page.meta}
    if page.links:
        answer["links"] = page.links
    return Response(200, answer)


def delete_message(request: Request) -> Response:
    key, parents = _messages(request)
    found = request.store.get(key, request.params["messageId"])
    if found is None:
        raise ApiError(404, MESSAGE.not_found, "Message not found")
    request.store.delete(key, found["id"])
    attachments.drop_for_messages(request, parents["conversationId"], {found["id"]})
    return Response(200, {})


def delete_all_messages(request: Request) -> Response:
    key, parents = _messages(request)
    gone = {str(record["id"]) for record in request.store.records(key)}
    for message_id in gone:
        request.store.delete(key, message_id)
    attachments.drop_for_messages(request, parents["conversationId"], gone)
    return Response(200, {})


HANDLERS: dict[str, Handler] = {
    "PostMessage": post_message,
    "ListMessages": list_messages,
    "DeleteMessage": delete_message,
    "DeleteAllMessages": delete_all_messages,
}
