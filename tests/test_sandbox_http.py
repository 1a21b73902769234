"""The sandbox's HTTP layer: what reaches a handler (headers, media type, form fields, files), and what
a handler may answer besides JSON (other content types, redirects)."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sandbox_support import JSON_TYPE, OTHER_ID, Api, codes
from werkzeug.test import Client

from conformance.contract.routing import Router
from conformance.contract.schemas import Operation
from conformance.contract.schemas import Response as Answer
from conformance.sandbox import Sandbox
from conformance.sandbox.api import Request, Response, redirect
from conformance.sandbox.serving import MAX_JSON_BODY
from conformance.sandbox.wsgi import application

# An operation that takes a form rather than JSON, as attachment uploads and OAuth token do.
UPLOAD = Operation(
    "UploadThing",
    "POST",
    "/v2/apps/{appId}/things",
    responses={"201": Answer()},
    security=({"basicAuth": ("app",)},),
)


def seen(request: Request) -> Response:
    """Echoes what the pipeline handed over, so a test can see it."""
    files = {
        name: {"filename": upload.filename, "type": upload.mimetype, "size": len(upload.read())}
        for name, upload in request.files.items()
    }
    return Response(
        201,
        {
            "mediaType": request.media_type,
            "trace": request.headers.get("X-Trace"),
            "form": request.form.to_dict(flat=False),
            "files": files,
        },
    )


@pytest.fixture
def uploads() -> Iterator[Sandbox]:
    sandbox = Sandbox(handlers={"UploadThing": seen})
    sandbox.operations = {**sandbox.operations, "UploadThing": UPLOAD}
    sandbox.router = Router(sandbox.operations)
    with sandbox:
        yield sandbox


def upload_url(sandbox: Sandbox) -> str:
    return f"{sandbox.url}/v2/apps/{sandbox.app_id}/things"


def test_multipart_fields_and_files_reach_the_handler(uploads: Sandbox) -> None:
    # Larger than a JSON body may be: uploads have their own limit.
    content = b"\x89PNG" + b"\x00" * (MAX_JSON_BODY * 3)
    response = requests.post(
        upload_url(uploads),
        data={"for": ["conversation", "message"], "note": "é"},
        files={"source": ("photo.png", content, "image/png")},
        headers={"X-Trace": "t-1"},
        auth=(uploads.key_id, uploads.key_secret),
        timeout=10,
    )
    assert response.status_code == 201, response.text
    assert response.json() == {
        "mediaType": "multipart/form-data",
        "trace": "t-1",
        "form": {"for": ["conversation", "message"], "note": ["é"]},
        "files": {"source": {"filename": "photo.png", "type": "image/png", "size": len(content)}},
    }


def test_form_encoded_fields_reach_the_handler(uploads: Sandbox) -> None:
    response = requests.post(
        upload_url(uploads),
        data={"grant_type": "authorization_code", "code": "a b&c"},
        auth=(uploads.key_id, uploads.key_secret),
        timeout=10,
    )
    assert response.status_code == 201
    answer = response.json()
    assert answer["mediaType"] == "application/x-www-form-urlencoded"
    assert answer["form"] == {"grant_type": ["authorization_code"], "code": ["a b&c"]}
    assert answer["files"] == {}


def test_too_many_form_parts_are_refused(uploads: Sandbox) -> None:
    response = requests.post(
        upload_url(uploads),
        files={f"f{n}": (f"{n}.txt", b"x", "text/plain") for n in range(150)},
        auth=(uploads.key_id, uploads.key_secret),
        timeout=10,
    )
    assert response.status_code == 413
    assert codes(response.json()) == ["payload_too_large"]


def test_a_json_operation_refuses_a_form(sandbox: Sandbox, api: Api) -> None:
    status, answer = api.call("CreateIntegration", data="type=web", headers={"Content-Type": "text/plain"})
    assert (status, codes(answer)) == (415, ["unsupported_media_type"])
    response = requests.post(api.url("CreateIntegration"), files={"type": ("t", b"web")}, auth=api.auth, timeout=10)
    assert response.status_code == 415
    assert codes(response.json()) == ["unsupported_media_type"]


# -- Answers other than JSON ------------------------------------------------------------------


def wsgi_client(handler: Any) -> tuple[Client, Sandbox]:
    """The WSGI application without a socket, with ``handler`` answering GetIntegration."""
    # Never started: the port only gives the sandbox a URL for its links.
    sandbox = Sandbox(port=1, handlers={"GetIntegration": handler})
    return Client(application(sandbox)), sandbox


def get_one(client: Client, sandbox: Sandbox) -> Any:
    return client.get(f"/v2/apps/{sandbox.app_id}/integrations/{OTHER_ID}", auth=(sandbox.key_id, sandbox.key_secret))


def test_a_handler_can_redirect() -> None:
    client, sandbox = wsgi_client(lambda request: redirect("https://example.com/callback?code=1"))
    response = get_one(client, sandbox)
    assert response.status_code == 302
    assert response.headers["Location"] == "https://example.com/callback?code=1"
    assert response.get_data() == b""


def test_a_handler_can_answer_other_content_types() -> None:
    page = "<p>Authorise the app?</p>"
    client, sandbox = wsgi_client(lambda request: Response(200, page, content_type="text/html; charset=utf-8"))
    response = get_one(client, sandbox)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.get_data(as_text=True) == page


@pytest.mark.parametrize("body", [{"value": float("nan")}, {"value": object()}, {"text": "\ud800"}])
def test_an_answer_that_is_not_json_text_becomes_a_500_envelope(body: Any, caplog: pytest.LogCaptureFixture) -> None:
    client, sandbox = wsgi_client(lambda request: Response(200, body))
    with caplog.at_level("CRITICAL"):
        response = get_one(client, sandbox)
    assert response.status_code == 500
    assert response.headers["Content-Type"] == JSON_TYPE
    assert codes(json.loads(response.get_data())) == ["internal_error"]


# -- Hosts and stable answers -------------------------------------------------------------------


def ipv6_loopback() -> bool:
    try:
        with socket.create_server(("::1", 0), family=socket.AF_INET6):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback(), reason="this machine has no IPv6 loopback")
@pytest.mark.block_network(allowed_hosts=["::1"])
def test_an_ipv6_host_is_served() -> None:
    with Sandbox("::1") as sandbox:
        assert sandbox.url == f"http://[::1]:{sandbox.port}"
        assert sandbox.port > 0
        status, answer = Api(sandbox).list()
    assert status == 200
    assert answer["integrations"] == []


def raw_answer(sandbox: Sandbox, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=30) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def test_a_seeded_sandbox_answers_byte_for_byte_the_same() -> None:
    answers = []
    for _ in range(2):
        with Sandbox(seed=3) as sandbox:
            credentials = base64.b64encode(f"{sandbox.key_id}:{sandbox.key_secret}".encode()).decode()
            head = f"POST /v2/apps/{sandbox.app_id}/integrations HTTP/1.1\r\nHost: sandbox\r\n"
            head += f"Authorization: Basic {credentials}\r\nConnection: close\r\n"
            created = raw_answer(sandbox, (head + "Content-Type: application/json\r\nContent-Length: 15\r\n\r\n"
                                           '{"type": "web"}').encode())  # fmt: skip
            # waitress's own error answers, too.
            refused = raw_answer(sandbox, (head + "Content-Length: x\r\n\r\n").encode())
        answers.append((created, refused))
    assert answers[0] == answers[1]
    created, refused = answers[0]
    assert created.startswith(b"HTTP/1.1 201 Created\r\n")
    assert refused.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    for answer in (created, refused):
        assert b"\r\nDate:" not in answer
        assert b"\r\nServer: sunco-sandbox\r\n" in answer
