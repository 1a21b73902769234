"""The client: auth headers, region URLs, and bounded 429 retries, against a real local socket."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import ClassVar

import jwt
import pytest
from http_support import serve

from conformance.model import RawBody
from conformance.transport.client import Client, RetryPolicy, parse_retry_after
from conformance.transport.settings import Settings

APP = "5d8cff3cd55b040010928b5b"
SECRET = "a-key-secret-long-enough-for-hs256-signing"


class Scripted(BaseHTTPRequestHandler):
    """Answers from a script of (status, headers) and remembers what it was sent."""

    script: ClassVar[list[tuple[int, dict[str, str]]]] = []
    seen: ClassVar[list[dict[str, str]]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        type(self).seen.append({"path": self.path, "body": body, **{k.lower(): v for k, v in self.headers.items()}})
        status, headers = type(self).script.pop(0) if type(self).script else (200, {})
        payload = json.dumps(
            {"errors": [{"code": "too_many_requests", "title": "slow down"}]} if status == 429 else {"integrations": []}
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Scripted.script, Scripted.seen = [], []
    yield from serve(Scripted)


def settings(url: str, auth: str = "basic", scope: str = "app") -> Settings:
    return Settings(api_url=url, app_id=APP, key_id="app_key", key_secret=SECRET, auth=auth, scope=scope)


def test_basic_auth_sends_key_id_and_secret(server):
    Client(settings(server)).call("ListIntegrations")
    assert Scripted.seen[0]["authorization"] == "Basic " + base64.b64encode(f"app_key:{SECRET}".encode()).decode()
    assert Scripted.seen[0]["path"] == f"/v2/apps/{APP}/integrations"


@pytest.mark.parametrize("scope", ["app", "account"])
def test_jwt_auth_signs_hs256_with_kid_and_scope(server, scope):
    Client(settings(server, "jwt", scope)).call("ListIntegrations")
    token = Scripted.seen[0]["authorization"].removeprefix("Bearer ")
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT", "kid": "app_key"}
    assert jwt.decode(token, SECRET, algorithms=["HS256"]) == {"scope": scope}


def test_json_and_raw_bodies_are_sent_as_given(server):
    client = Client(settings(server))
    client.call("CreateIntegration", body={"type": "web"})
    client.call("CreateIntegration", body=RawBody("type=web"))
    assert json.loads(Scripted.seen[0]["body"]) == {"type": "web"}
    assert Scripted.seen[0]["content-type"] == "application/json"
    assert Scripted.seen[1]["body"] == "type=web"


def test_429_is_retried_after_retry_after(server):
    Scripted.script = [(429, {"Retry-After": "3"}), (429, {"Retry-After": "1"}), (200, {})]
    waits: list[float] = []
    exchange = Client(settings(server), sleep=waits.append).call("ListIntegrations")
    assert exchange.status == 200
    assert exchange.attempts == 3
    assert waits == [3.0, 1.0]


def test_429_without_retry_after_backs_off_exponentially_with_jitter(server):
    Scripted.script = [(429, {})] * 4 + [(200, {})]
    waits: list[float] = []
    policy = RetryPolicy(max_attempts=6, base_delay=1.0, max_delay=100.0)
    Client(settings(server), retry=policy, sleep=waits.append).call("ListIntegrations")
    assert len(waits) == 4
    for attempt, wait in enumerate(waits, start=1):
        ceiling = 2 ** (attempt - 1)
        assert ceiling / 2 <= wait <= ceiling


def test_retries_stop_at_the_bound_and_return_the_429(server):
    Scripted.script = [(429, {"Retry-After": "1"})] * 10
    waits: list[float] = []
    exchange = Client(settings(server), retry=RetryPolicy(max_attempts=3), sleep=waits.append).call("ListIntegrations")
    assert exchange.status == 429
    assert len(Scripted.seen) == 3
    assert len(waits) == 2


def test_retries_respect_the_total_wait_bound(server):
    Scripted.script = [(429, {"Retry-After": "50"})] * 5
    waits: list[float] = []
    policy = RetryPolicy(max_attempts=5, max_delay=60, max_total=60)
    exchange = Client(settings(server), retry=policy, sleep=waits.append).call("ListIntegrations")
    assert exchange.status == 429
    assert waits == [50.0]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
        # Digits to str.isdigit() that are no number of seconds: the byte 0xB2 read as Latin-1, and others.
        ("\xb2", None),
        ("1\xb2", None),
        ("\u0663", None),
    ],
)
def test_parse_retry_after(header, expected):
    assert parse_retry_after(header) == expected


def test_a_malformed_retry_after_is_treated_as_absent(server):
    Scripted.script = [(429, {"Retry-After": "\xb2"}), (200, {})]
    waits: list[float] = []
    policy = RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=100.0)
    exchange = Client(settings(server), retry=policy, sleep=waits.append).call("ListIntegrations")
    assert exchange.status == 200
    # The backoff's own first wait (with jitter), as if the header were not there.
    assert len(waits) == 1
    assert 0.5 <= waits[0] <= 1.0
