"""Hostile clients over raw sockets: slow headers, bare line ends and half-closed requests cannot hold the sandbox.

Each test starts its own sandbox on 127.0.0.1 with a free port. Nothing here measures time: a
client waits for the answer it is owed, and a generous socket timeout only turns a hang into a
failure. ``TRIED`` counts the hostile shapes, for reports.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import select
import socket
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from conformance.sandbox import DEFAULT_APP_ID, DEFAULT_KEY_ID, DEFAULT_KEY_SECRET, Sandbox, cli
from conformance.sandbox.serving import CONNECTION_LIMIT
from conformance.tools.parser import OneLineParser

AUTH = b"Basic " + base64.b64encode(f"{DEFAULT_KEY_ID}:{DEFAULT_KEY_SECRET}".encode())
LIST = b"GET /v2/apps/" + DEFAULT_APP_ID.encode() + b"/integrations HTTP/1.1\r\nHost: sandbox\r\nAuthorization: "
GOOD = LIST + AUTH + b"\r\n\r\n"
# Generous: a hang fails the test, a slow machine does not.
SOCKET_TIMEOUT = 30
SLOW_CLIENTS = 100
HEADER_TIMEOUT = 2


def connect(sandbox: Sandbox) -> socket.socket:
    return socket.create_connection(("127.0.0.1", sandbox.port), timeout=SOCKET_TIMEOUT)


def answer(connection: socket.socket) -> tuple[int, dict[str, str], object]:
    """Status, headers and JSON body of the one answer on ``connection``."""
    response = http.client.HTTPResponse(connection, method="GET")
    try:
        response.begin()
        body = response.read()
    except TimeoutError:
        pytest.fail(f"no answer within {SOCKET_TIMEOUT} s: the sandbox hangs")
    except (http.client.RemoteDisconnected, ConnectionError) as error:
        pytest.fail(f"the connection was closed without an answer: {error!r}")
    return response.status, {k.lower(): v for k, v in response.getheaders()}, json.loads(body)


def closed(connection: socket.socket) -> bool:
    """True once the server has closed; a reset counts, since the server left bytes the client sent unread."""
    try:
        return connection.recv(1) == b""
    except ConnectionResetError:
        return True


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    # Slow clients never pause long enough for the idle timeout: only the header deadline can stop them.
    # 2 s: short, yet a loaded machine still reads a normal request's headers well within it.
    with Sandbox(header_timeout=HEADER_TIMEOUT, read_timeout=SOCKET_TIMEOUT) as running:
        yield running


def test_sandbox_answers_a_normal_get_while_100_slow_clients_trickle_their_headers(sandbox: Sandbox) -> None:
    with ExitStack() as stack:
        slow = [stack.enter_context(connect(sandbox)) for _ in range(SLOW_CLIENTS)]
        for connection in slow:
            connection.sendall(b"GET / HTTP/1.1\r\nX-Slow: ")
        with connect(sandbox) as normal:
            normal.sendall(GOOD)
            status, _, body = answer(normal)
        assert status == 200
        assert isinstance(body, dict)
        assert body["integrations"] == []
        # Each slow client keeps sending a byte at a time, and is still cut off with a 408 and closed.
        waiting = set(slow)
        while waiting:
            for connection in waiting:
                # A send fails once the server has answered and closed: the answer is read below.
                with contextlib.suppress(OSError):
                    connection.sendall(b"x")
            readable, _, _ = select.select(list(waiting), [], [], SOCKET_TIMEOUT / 10)
            for connection in readable:
                status, headers, body = answer(connection)
                assert (status, headers["connection"]) == (408, "close")
                assert isinstance(body, dict)
                assert [error["code"] for error in body["errors"]] == ["request_timeout"]
                assert f"request line and headers took over {HEADER_TIMEOUT} s" in body["errors"][0]["title"]
                assert closed(connection), "the server keeps a slow client past its deadline"
                waiting.discard(connection)


def test_sandbox_accepts_far_more_connections_than_a_slowloris_crowd_of_100() -> None:
    # waitress stops accepting at its default of 100 open connections.
    assert CONNECTION_LIMIT >= 5 * SLOW_CLIENTS
    with Sandbox() as running:
        assert running._serving is not None
        assert running._serving.server.adj.connection_limit == CONNECTION_LIMIT


def test_sandbox_closes_a_connection_that_sends_nothing_after_the_header_deadline(sandbox: Sandbox) -> None:
    with connect(sandbox) as silent:
        assert silent.recv(1) == b""


def test_sandbox_keeps_an_idle_connection_between_requests_past_the_header_deadline(sandbox: Sandbox) -> None:
    """Only a request under way has a header deadline: a kept-alive connection waits for the idle timeout."""
    with connect(sandbox) as kept, connect(sandbox) as silent:
        kept.sendall(GOOD)
        assert answer(kept)[0] == 200
        # A connection that never speaks is closed after the deadline; the kept one, idle as long, is not.
        assert silent.recv(1) == b""
        kept.sendall(GOOD)
        assert answer(kept)[0] == 200


LINE_ENDS = {
    "bare LF line ends": b"GET / HTTP/1.1\nHost: sandbox\n\n",
    "bare LF after the request line": b"GET / HTTP/1.1\nHost: sandbox\r\n",
    "bare LF ending the headers": b"GET / HTTP/1.1\r\nHost: sandbox\r\n\n",
    "bare CR line ends": b"GET / HTTP/1.1\rHost: sandbox\r\r",
}
HALF_CLOSED = {
    "headers without their blank line": b"GET / HTTP/1.1\r\nHost: sandbox\r\n",
    "a request line cut short": b"GET /v2/ap",
    "a body shorter than its Content-Length": LIST + AUTH + b"\r\nContent-Length: 10\r\n\r\n{}",
}
# The shapes below, plus a crowd of slow clients and a silent one.
TRIED = len(LINE_ENDS) + len(HALF_CLOSED) + 2


@pytest.fixture(scope="module", autouse=True)
def _count(record_testsuite_property: pytest.RecordProperty) -> None:
    record_testsuite_property("sandbox_hostile_client_shapes_tried", TRIED)


@pytest.mark.parametrize("raw", LINE_ENDS.values(), ids=LINE_ENDS.keys())
def test_sandbox_answers_400_at_once_to_line_ends_other_than_crlf(sandbox: Sandbox, raw: bytes) -> None:
    # The connection stays open on the client's side: only the answer can end the wait.
    with connect(sandbox) as connection:
        connection.sendall(raw)
        status, headers, body = answer(connection)
        assert (status, headers["connection"]) == (400, "close")
        assert isinstance(body, dict)
        assert [error["code"] for error in body["errors"]] == ["bad_request"]
        assert "without CRLF" in body["errors"][0]["title"]


@pytest.mark.parametrize("raw", HALF_CLOSED.values(), ids=HALF_CLOSED.keys())
def test_sandbox_answers_400_to_a_request_cut_off_by_the_clients_half_close(sandbox: Sandbox, raw: bytes) -> None:
    with connect(sandbox) as connection:
        connection.sendall(raw)
        connection.shutdown(socket.SHUT_WR)
        status, _, body = answer(connection)
        assert status == 400
        assert isinstance(body, dict)
        assert [error["code"] for error in body["errors"]] == ["bad_request"]
        assert "closed its side of the connection before the end of" in body["errors"][0]["title"]


def test_sandbox_still_answers_a_whole_request_sent_before_a_half_close(sandbox: Sandbox) -> None:
    with connect(sandbox) as connection:
        connection.sendall(GOOD)
        connection.shutdown(socket.SHUT_WR)
        assert answer(connection)[0] == 200


def test_sandbox_refuses_a_header_deadline_under_one_second() -> None:
    with pytest.raises(ValueError, match="header_timeout must be at least 1 second, got 0"):
        Sandbox(header_timeout=0)


@pytest.mark.parametrize(("args", "seconds"), [((), 5), (("--header-timeout", "12"), 12)])
def test_sandbox_cli_sets_the_header_deadline(args: tuple[str, ...], seconds: int) -> None:
    parser = OneLineParser(prog="sandbox")
    cli.add_arguments(parser)
    assert cli._checked(parser.parse_args(list(args))).header_timeout == seconds
