"""The sandbox's attachments over a real socket: multipart uploads, their limits, their use in
messages, and their removal by mediaUrl or with the message, messages or conversation they are for."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from sandbox_support import Api, checked, codes, titles

from conformance.sandbox import Sandbox
from conformance.sandbox.behaviours import attachments

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # binary, not UTF-8
TEXT = {"author": {"type": "business"}, "content": {"type": "text", "text": "Hello"}}


def upload(
    api: Api, files: Any = None, *, data: Any = None, auth: Any = None, **query: str
) -> tuple[int, Any, requests.Response]:
    response = requests.post(
        api.url("UploadAttachment"),
        params={"access": "public", **query},
        files=files if files is not None else {"source": ("photo.png", PNG, "image/png")},
        data=data,
        auth=auth or api.auth,
        timeout=10,
    )
    return response.status_code, checked("UploadAttachment", response), response


def uploaded(api: Api, files: Any = None, **query: str) -> dict[str, Any]:
    status, answer, _ = upload(api, files, **query)
    assert status == 201, answer
    return dict(answer["attachment"])


def remove(api: Api, url: str) -> tuple[int, Any]:
    return api.call("DeleteAttachment", body={"mediaUrl": url})


def conversation(api: Api) -> str:
    status, answer = api.call("CreateConversation", body={"type": "sdkGroup"})
    assert status == 201, answer
    return str(answer["conversation"]["id"])


def message(api: Api, where: str, kind: str, url: str) -> dict[str, Any]:
    body = {**TEXT, "content": {"type": kind, "mediaUrl": url}}
    status, answer = api.call("PostMessage", body=body, conversationId=where)
    assert status == 201, answer
    return dict(answer["messages"][0])


def test_an_upload_answers_a_media_url_that_image_messages_use(api: Api, sandbox: Sandbox) -> None:
    found = uploaded(api)
    assert found["mediaType"] == "image/png"
    assert found["mediaUrl"].startswith(f"{sandbox.url}/attachments/v2/")
    assert found["mediaUrl"].endswith("/photo.png")
    content = message(api, conversation(api), "image", found["mediaUrl"])["content"]
    assert (content["mediaType"], content["mediaSize"], content["altText"]) == ("image/png", len(PNG), "photo.png")


@pytest.mark.parametrize(
    ("name", "declared", "expected"),
    [("notes.txt", "application/octet-stream", "text/plain"), ("blob", "application/octet-stream", None)],
)
def test_a_file_without_a_type_is_typed_by_its_name(api: Api, name: str, declared: str, expected: Any) -> None:
    found = uploaded(api, {"source": (name, b"some text", declared)})
    assert found["mediaType"] == (expected or "application/octet-stream")


def test_an_upload_is_removed_by_its_media_url_once(api: Api) -> None:
    url = uploaded(api)["mediaUrl"]
    assert remove(api, url) == (200, {})
    status, answer = remove(api, url)
    assert (status, codes(answer), titles(answer)) == (404, ["not_found"], ["Attachment not found"])


def test_a_media_url_of_another_host_is_refused(api: Api, sandbox: Sandbox) -> None:
    url = uploaded(api)["mediaUrl"]
    for foreign in ("https://badhost.com/image.png", url.replace(sandbox.url, "https://badhost.com"), "not a url"):
        status, answer = remove(api, foreign)
        assert (status, codes(answer)) == (400, ["bad_request"])
        assert titles(answer) == [f"Unsupported media URL for attachment deletion: {foreign}"]
    assert remove(api, url)[0] == 200


class ByName(Api):
    """Calls that reach the sandbox as ``localhost`` rather than the 127.0.0.1 it listens on."""

    def url(self, operation_id: str, **params: str) -> str:
        return super().url(operation_id, **params).replace("//127.0.0.1:", "//localhost:", 1)


def test_a_sandbox_reached_by_another_name_answers_and_recognises_urls_of_that_name(sandbox: Sandbox) -> None:
    api = ByName(sandbox)
    url = uploaded(api)["mediaUrl"]
    assert url.startswith(f"http://localhost:{sandbox.port}/attachments/v2/")
    content = message(api, conversation(api), "image", url)["content"]
    assert content["mediaSize"] == len(PNG)
    assert remove(api, url) == (200, {})


def test_uploads_for_a_message_go_with_their_message(api: Api) -> None:
    where = conversation(api)
    kept = uploaded(api)["mediaUrl"]  # for the app: outlives the messages that use it
    urls = [uploaded(api, **{"for": "message", "conversationId": where})["mediaUrl"] for _ in range(3)]
    posted = [message(api, where, "image", url)["id"] for url in urls]
    message(api, where, "file", kept)
    assert api.call("DeleteMessage", conversationId=where, messageId=posted[0])[0] == 200
    assert remove(api, urls[0])[0] == 404
    assert api.call("DeleteAllMessages", conversationId=where)[0] == 200
    assert [remove(api, url)[0] for url in urls[1:]] == [404, 404]
    assert remove(api, kept)[0] == 200


def test_uploads_for_a_conversation_go_with_the_conversation(api: Api) -> None:
    where = conversation(api)
    url = uploaded(api, **{"for": "message", "conversationId": where})["mediaUrl"]
    assert api.call("DeleteConversation", conversationId=where)[0] == 200
    assert remove(api, url)[0] == 404


REFUSED: list[tuple[str, dict[str, Any], dict[str, str], str]] = [
    ("private", {}, {"access": "private"}, "access 'private'"),
    ("for a conversation", {}, {"for": "conversation"}, "for 'conversation'"),
    ("empty", {"files": {"source": ("empty.png", b"", "image/png")}}, {}, "is empty"),
    ("executable", {"files": {"source": ("tool.EXE", b"MZ", "application/octet-stream")}}, {}, ".exe"),
    ("source as text", {"files": {"other": ("a.txt", b"x")}, "data": {"source": "text"}}, {}, "file part"),
    ("no source", {"files": {"other": ("a.txt", b"x", "text/plain")}}, {}, "source is required"),
]


@pytest.mark.parametrize(("why", "parts", "query", "named"), REFUSED, ids=[r[0] for r in REFUSED])
def test_invalid_uploads_are_refused(api: Api, why: str, parts: dict[str, Any], query: Any, named: str) -> None:
    status, answer, _ = upload(api, parts.get("files"), data=parts.get("data"), **query)
    assert (status, codes(answer)) == (400, ["bad_request"])
    assert named in titles(answer)[0]


def test_an_upload_needs_the_access_parameter_and_a_multipart_body(api: Api) -> None:
    response = requests.post(api.url("UploadAttachment"), files={"source": ("a.png", PNG)}, auth=api.auth, timeout=10)
    assert (response.status_code, codes(response.json())) == (400, ["bad_request"])
    assert "access is required" in titles(response.json())[0]
    status, answer = api.call("UploadAttachment", body={"source": "x"}, query={"access": "public"})
    assert (status, codes(answer)) == (415, ["unsupported_media_type"])
    assert titles(answer) == ["UploadAttachment takes multipart/form-data, not application/json"]


def test_attachment_operations_need_credentials(api: Api) -> None:
    status, answer, _ = upload(api, auth=("app_nobody", "wrong"))
    assert (status, codes(answer)) == (401, ["unauthorized"])
    status, answer = api.call("DeleteAttachment", body={"mediaUrl": "https://x.example/a.png"}, auth=None)
    assert (status, codes(answer)) == (401, ["unauthorized"])


def test_a_file_over_the_documented_50mb_is_refused(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    assert attachments.MAX_FILE == 50 * 1024 * 1024
    monkeypatch.setattr(attachments, "MAX_FILE", len(PNG) - 1)
    status, answer, _ = upload(api)
    assert (status, codes(answer)) == (413, ["payload_too_large"])
    monkeypatch.setattr(attachments, "MAX_FILE", len(PNG))
    assert upload(api)[0] == 201
