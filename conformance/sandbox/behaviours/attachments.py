"""Attachments: a multipart upload that answers a mediaUrl, and its removal by that URL.

An upload ``for=message`` is deleted with the message that uses it, with all of a conversation's
messages, and (kept under the conversation it names) with the conversation itself.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from conformance.sandbox.api import Handler, Request, Response
from conformance.sandbox.errors import ApiError, bad_request
from conformance.sandbox.store import Record

PREFIX = "/attachments/v2/"
ACCESS = ("public",)
PURPOSES = ("message",)
# Executables and scripts: the sandbox's stand-in for the file validation guide the spec links to.
BLOCKED = frozenset({"bat", "cmd", "com", "dll", "exe", "msi", "scr", "vbs"})
OCTET_STREAM = "application/octet-stream"
# The documented file upload limit (the body around the file may be a little larger).
MAX_FILE = 50 * 1024 * 1024


def _key(request: Request, conversation_id: str | None) -> tuple[str, ...]:
    app_id = request.params["appId"]
    return ("attachment", app_id, conversation_id) if conversation_id else ("attachment", app_id)


def _parts(request: Request, url: str) -> tuple[str | None, str] | None:
    """(conversation id or None, attachment id) that a mediaUrl of this sandbox names, else None."""
    base = urlsplit(request.base_url + PREFIX)
    found = urlsplit(url)
    if (found.scheme, found.netloc) != (base.scheme, base.netloc) or not found.path.startswith(base.path):
        return None
    segments = [unquote(part) for part in found.path[len(base.path) :].split("/")]
    if len(segments) == 4 and segments[0] == "conversations":
        return segments[1], segments[2]
    if len(segments) == 2:
        return None, segments[0]
    return None


def find_upload(request: Request, url: str) -> Record | None:
    """The upload a mediaUrl names, if it is one of this app's."""
    parts = _parts(request, url)
    if parts is None:
        return None
    conversation_id, attachment_id = parts
    return request.store.get(_key(request, conversation_id), attachment_id)


def link_upload(request: Request, url: str, message_id: str, conversation_id: str) -> None:
    """An upload for a message now belongs to the message that uses it."""
    parts = _parts(request, url)
    upload = find_upload(request, url)
    if parts is None or upload is None or upload.get("for") != "message":
        return

    def link(record: Record) -> Record:
        return {**record, "messageId": message_id, "usedIn": conversation_id}

    request.store.update(_key(request, parts[0]), str(upload["id"]), link)


def drop_for_messages(request: Request, conversation_id: str, message_ids: Iterable[str]) -> None:
    """Delete the uploads made for messages that are gone."""
    gone = set(message_ids)
    for key in (_key(request, conversation_id), _key(request, None)):
        for record in request.store.records(key):
            if record.get("for") == "message" and record.get("messageId") in gone:
                request.store.delete(key, str(record["id"]))


def _media_type(declared: str | None, name: str) -> str:
    if declared and declared != OCTET_STREAM:
        return declared
    return mimetypes.guess_type(name)[0] or OCTET_STREAM


def upload_attachment(request: Request) -> Response:
    query: dict[str, Any] = dict(request.query)
    if query.get("access") not in ACCESS:
        raise bad_request(f"access {query.get('access')!r} is not supported: use public")
    purpose = query.get("for")
    if purpose is not None and purpose not in PURPOSES:
        raise bad_request(f"for {purpose!r} is not supported: use message")
    source = request.files.get("source")
    if source is None:
        raise bad_request("source must be a file part of the multipart body")
    data = source.read()
    name = (source.filename or "file").replace("/", "_")
    if not data:
        raise bad_request(f"source {name!r} is empty")
    if len(data) > MAX_FILE:
        raise ApiError(413, "payload_too_large", f"source {name!r} exceeds {MAX_FILE // (1024 * 1024)}mb")
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension in BLOCKED:
        raise bad_request(f"source {name!r}: files of type .{extension} cannot be uploaded")
    conversation_id = query.get("conversationId") or None
    attachment_id = request.store.tokens.new_id()
    where = f"conversations/{quote(conversation_id, safe='')}/" if conversation_id else ""
    record: Record = {
        "id": attachment_id,
        "mediaUrl": f"{request.base_url}{PREFIX}{where}{attachment_id}/{quote(name)}",
        "mediaType": _media_type(source.mimetype, name),
        "mediaSize": len(data),
        "for": purpose,
    }
    request.store.insert(_key(request, conversation_id), record)
    return Response(201, {"attachment": {"mediaUrl": record["mediaUrl"], "mediaType": record["mediaType"]}})


def delete_attachment(request: Request) -> Response:
    url = str(request.body["mediaUrl"])
    parts = _parts(request, url)
    if parts is None:
        raise bad_request(f"Unsupported media URL for attachment deletion: {url}"[:200])
    upload = find_upload(request, url)
    if upload is None:
        raise ApiError(404, "not_found", "Attachment not found")
    request.store.delete(_key(request, parts[0]), str(upload["id"]))
    return Response(200, {})


HANDLERS: dict[str, Handler] = {"UploadAttachment": upload_attachment, "DeleteAttachment": delete_attachment}
