"""The read before recording accepts only the API's documented answer: anything else names SUNCO_API_URL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from http_support import serve
from test_roundtrip import APP_ID, KEY_ID, KEY_SECRET, known_sandbox

from conformance.failures import ConfigError
from conformance.transport.client import Client
from conformance.transport.preflight import check_access
from conformance.transport.settings import Settings


def settings_for(url: str) -> Settings:
    return Settings.from_env(
        {"SUNCO_API_URL": url, "SUNCO_APP_ID": APP_ID, "SUNCO_KEY_ID": KEY_ID, "SUNCO_KEY_SECRET": KEY_SECRET}
    )


def scripted(status: int, body: bytes, headers: dict[str, str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


JSON = {"Content-Type": "application/json"}
NOT_FOUND_ROUTE = json.dumps({"errors": [{"code": "not_found", "title": "Not found"}]}).encode()


@pytest.mark.parametrize(
    ("status", "body", "headers", "said"),
    [
        (404, NOT_FOUND_ROUTE, JSON, "GetApp answered 404 not_found, not the documented success"),
        (404, b"<html>Not Found</html>", {"Content-Type": "text/html"}, "answered 404, not the documented success"),
        (500, b'{"errors": [{"code": "internal"}]}', JSON, "answered 500 internal, not the documented success"),
        (503, b"busy", {"Content-Type": "text/plain"}, "answered 503, not the documented success"),
        (302, b"", {"Location": "https://login.example.test/"}, "a redirect to https://login.example.test/"),
        (200, b"<html>hello</html>", {"Content-Type": "text/html"}, "a body that is not JSON (text/html)"),
        (200, b"", JSON, "an empty body"),
        (200, b'{"hello": "world"}', JSON, "a body that is not the documented one (none of app)"),
        (200, b'{"app": {"id": 5}}', JSON, "a body that is not the documented one (/app/id: 5 is not of type"),
    ],
)
def test_the_read_before_recording_refuses_what_is_not_the_api(status, body, headers, said):
    for url in serve(scripted(status, body, headers)):
        settings = settings_for(url)
        with pytest.raises(ConfigError) as caught:
            # The client retries a 5xx as it would live; only its waits are skipped.
            check_access(settings, str, Client(settings, sleep=lambda seconds: None))
        message = str(caught.value)
        assert said in message
        assert "check SUNCO_API_URL" in message
        assert "\n" not in message


@pytest.fixture
def sandbox_url() -> Iterator[str]:
    with known_sandbox() as running:
        yield running.url


def test_the_read_before_recording_refuses_a_url_ending_in_v2(sandbox_url):
    # The suite adds /v2/apps/…: a URL that already ends in /v2 reaches /v2/v2/apps/…, a route-level 404.
    with pytest.raises(ConfigError) as caught:
        check_access(settings_for(sandbox_url + "/v2"), str)
    message = str(caught.value)
    assert "GetApp answered 404 not_found, not the documented success" in message
    assert f"{sandbox_url}/v2 does not look like the API; check SUNCO_API_URL" in message


def test_the_read_before_recording_accepts_the_documented_answer(sandbox_url):
    check_access(settings_for(sandbox_url), str)
