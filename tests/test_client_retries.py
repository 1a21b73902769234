"""The client's retries: 429 always; 5xx and broken-off exchanges only on idempotent methods (GET, PUT,
DELETE), within the same bounds; decisions that replay repeats exactly. Against a real local socket."""

from __future__ import annotations

import http.client
import random
import socket
import struct
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import ClassVar

import pytest
import requests
import urllib3.exceptions
from http_support import serve

from conformance.transport.client import (
    BROKEN_HEADER,
    Broken,
    BrokenExchange,
    Client,
    RetryPolicy,
    broken,
    retryable,
)
from conformance.transport.settings import Settings

APP = "5d8cff3cd55b040010928b5b"
PAYLOAD = b'{"integration": {"id": "5d8cff3cd55b040010928b5c", "type": "web"}}'
# An operation per method, each needing only the app id and an integration id.
CALLS = {
    "GET": ("GetIntegration", None),
    "DELETE": ("DeleteIntegration", None),
    "POST": ("CreateIntegration", {"type": "web"}),
    "PATCH": ("UpdateIntegration", {"displayName": "x"}),
}


class Scripted(BaseHTTPRequestHandler):
    """Answers from a script: (status, headers), "reset" (a TCP reset, no answer) or "cut" (half an answer)."""

    protocol_version = "HTTP/1.1"
    script: ClassVar[list[object]] = []
    seen: ClassVar[list[str]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        type(self).seen.append(self.command)
        action = type(self).script.pop(0) if type(self).script else (200, {})
        if action == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        status, headers = (200, {}) if action == "cut" else action  # type: ignore[misc]
        self.send_response_only(status)  # no Date but the script's
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(PAYLOAD)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(PAYLOAD[:10] if action == "cut" else PAYLOAD)
        if action == "cut":
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Scripted.script, Scripted.seen = [], []
    yield from serve(Scripted)


def client(url: str, **kwargs: object) -> tuple[Client, list[float], list[tuple[int, float, str]]]:
    waits: list[float] = []
    told: list[tuple[int, float, str]] = []
    settings = Settings(api_url=url, app_id=APP, key_id="app_key", key_secret="a-secret-long-enough-0000")
    made = Client(
        settings,
        sleep=waits.append,
        on_retry=lambda _op, attempt, wait, got: told.append((attempt, wait, got)),
        **kwargs,  # type: ignore[arg-type]
    )
    return made, waits, told


def call(made: Client, method: str) -> object:
    operation_id, body = CALLS[method]  # type: ignore[misc]
    return made.call(operation_id, path_params={"integrationId": "5d8cff3cd55b040010928b5c"}, body=body)


@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_5xx_is_retried_on_idempotent_methods(server, method, status):
    Scripted.script = [(status, {}), (200, {})]
    made, waits, told = client(server)
    exchange = call(made, method)
    assert exchange.status == 200
    assert exchange.attempts == 2
    assert exchange.retried == [f"answered {status}"]
    assert Scripted.seen == [method, method]
    assert len(waits) == 1
    assert told == [(1, waits[0], f"answered {status}")]


@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_5xx_is_never_retried_on_post_or_patch(server, method, status):
    Scripted.script = [(status, {"Retry-After": "0"}), (200, {})]
    made, waits, told = client(server)
    exchange = call(made, method)
    assert exchange.status == status
    assert exchange.attempts == 1
    assert Scripted.seen == [method]
    assert waits == told == []


def test_a_429_is_retried_on_post_too(server):
    Scripted.script = [(429, {"Retry-After": "2"}), (201, {})]
    made, waits, _ = client(server)
    exchange = call(made, "POST")
    assert (exchange.status, exchange.attempts, waits) == (201, 2, [2.0])


def test_a_503_waits_its_retry_after(server):
    Scripted.script = [(503, {"Retry-After": "7"}), (200, {})]
    made, waits, _ = client(server)
    assert call(made, "GET").status == 200
    assert waits == [7.0]


def test_5xx_retries_stop_at_the_same_bound_as_429s(server):
    Scripted.script = [(503, {})] * 10
    made, waits, _ = client(server, retry=RetryPolicy(max_attempts=3))
    exchange = call(made, "GET")
    assert (exchange.status, exchange.attempts, len(Scripted.seen), len(waits)) == (503, 3, 3, 2)


def test_put_is_retried_like_get():
    assert retryable("PUT", 502)
    assert retryable("put", 503)
    assert retryable("GET", 500)
    assert retryable("DELETE", 504)
    assert not retryable("POST", 502)
    assert not retryable("PATCH", 503)
    assert retryable("POST", 429)
    assert retryable("PATCH", 429)
    assert not retryable("GET", 404)


@pytest.mark.parametrize(("action", "kind"), [("reset", "reset"), ("cut", "truncated")])
def test_a_broken_off_get_is_retried(server, action, kind):
    Scripted.script = [action, (200, {})]
    made, waits, told = client(server)
    exchange = call(made, "GET")
    assert exchange.status == 200
    assert exchange.attempts == 2
    assert exchange.broken_attempts == 1
    assert len(waits) == 1
    what = Broken(kind, "").what.split(" (")[0]
    assert exchange.retried[0].startswith(what)
    assert told[0][2] == exchange.retried[0]


@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.parametrize(("action", "kind"), [("reset", "reset"), ("cut", "truncated")])
def test_a_broken_off_post_or_patch_is_never_retried(server, method, action, kind):
    Scripted.script = [action, (200, {})]
    sent: list[tuple[str, str]] = []
    made, waits, _ = client(server, on_broken=lambda request, found: sent.append((request.method, found.kind)))
    with pytest.raises(BrokenExchange) as caught:
        call(made, method)
    assert caught.value.broken.kind == kind
    assert caught.value.attempts == 1
    assert Scripted.seen == [method]
    assert waits == []
    # Told once, with the request that was sent, so a recording can keep a stand-in for it.
    assert sent == [(method, kind)]


def test_every_attempt_broken_off_raises_after_the_bound(server):
    Scripted.script = ["reset"] * 5
    made, _waits, _ = client(server, retry=RetryPolicy(max_attempts=3))
    with pytest.raises(BrokenExchange) as caught:
        call(made, "DELETE")
    assert caught.value.attempts == 3
    assert len(caught.value.retried) == 2
    assert len(Scripted.seen) == 3


def test_whether_to_retry_never_depends_on_the_jitter(server):
    # Waits of 0.5 then 1.0 s at most: the second retry would pass max_total, whatever the jitter drew.
    for seed in range(20):
        random.seed(seed)
        Scripted.script = [(503, {})] * 5
        Scripted.seen = []
        made, waits, _ = client(server, retry=RetryPolicy(base_delay=0.5, max_total=1.2))
        assert call(made, "GET").attempts == 2
        assert 0.25 <= waits[0] <= 0.5


def test_an_http_date_retry_after_counts_from_the_answers_own_date(server):
    Scripted.script = [
        (429, {"Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT", "Date": "Wed, 21 Oct 2015 07:28:00 GMT"}),
        (200, {}),
    ]
    made, waits, _ = client(server)
    call(made, "GET")
    assert waits == [30.0]


def test_replay_turns_a_recorded_stand_in_back_into_the_broken_exchange(server):
    marker = {BROKEN_HEADER: "truncated; IncompleteRead(5 bytes read, 9 more expected)"}
    Scripted.script = [(200, marker), (200, marker)]
    replaying, _, _ = client(server, replaying=True)
    with pytest.raises(BrokenExchange) as caught:
        call(replaying, "POST")
    assert caught.value.broken == Broken("truncated", "IncompleteRead(5 bytes read, 9 more expected)")
    # A live client takes no orders from a header.
    live, _, _ = client(server)
    assert call(live, "POST").status == 200


def test_a_stand_in_records_what_broke():
    found = Broken("reset", "ConnectionResetError: [Errno 104] Connection reset by peer")
    marker = found.marker()
    assert marker["status"]["code"] == 0
    assert Broken.parse(marker["headers"][BROKEN_HEADER][0]) == found


def wrapped(*chain: BaseException) -> requests.RequestException:
    """A requests error holding ``chain`` the way requests and urllib3 nest them."""
    inner: BaseException = chain[-1]
    for outer in reversed(chain[:-1]):
        outer.args = (*outer.args, inner)
        inner = outer
    return requests.ConnectionError(inner)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (wrapped(urllib3.exceptions.ProtocolError("Connection aborted."), ConnectionResetError(104, "reset")), "reset"),
        (
            wrapped(urllib3.exceptions.ProtocolError("Connection aborted."), http.client.RemoteDisconnected("closed")),
            "reset",
        ),
        (
            wrapped(urllib3.exceptions.ProtocolError("Connection broken"), http.client.IncompleteRead(b"ab", 9)),
            "truncated",
        ),
        (requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead"), "truncated"),
        (wrapped(urllib3.exceptions.MaxRetryError(None, "/", None), ConnectionRefusedError(111, "refused")), None),
        (requests.ConnectionError(urllib3.exceptions.NewConnectionError(None, "refused")), None),
        (requests.ReadTimeout("read timed out"), None),
        (requests.ConnectTimeout("connect timed out"), None),
    ],
)
def test_only_an_exchange_a_reached_server_broke_off_counts_as_broken(error, kind):
    found = broken(error)
    assert (found.kind if found else None) == kind
