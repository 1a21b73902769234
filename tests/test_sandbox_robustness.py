"""Malformed input over a real socket: the sandbox answers each with the JSON errors envelope and a fitting 4xx.

Every case is sent as raw bytes (``requests`` cannot produce most of them) on its own connection.
The answer must be a complete HTTP response whose body is ``{"errors": [{"code", "title"}]}``
with the case's status and code. Nothing may answer 500, drop the connection or hang: a hang
shows as the socket timeout, a drop as a connection closed before a full response.

After the answer, the connection must either carry a valid request (``keeps``) or be closed by
the server with ``Connection: close``. The server closes where HTTP leaves no choice: after a
framing error (bad Content-Length or chunk, a malformed request line or header, headers or a
body over the limit, a body that never arrives in full) it cannot tell where the next request
would begin, so it answers and closes (RFC 9112, section 9.6).

``TRIED`` is the number of malformed inputs, for reports ("N tried, 0 500s/drops/hangs").
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sandbox_support import ERROR_SCHEMA, JSON_TYPE

from conformance.contract.schemas import shipped
from conformance.sandbox import DEFAULT_APP_ID, DEFAULT_KEY_ID, DEFAULT_KEY_SECRET, Sandbox
from conformance.sandbox.parsing import MAX_DEPTH

AUTH = b"Basic " + base64.b64encode(f"{DEFAULT_KEY_ID}:{DEFAULT_KEY_SECRET}".encode())
INTEGRATIONS = f"/v2/apps/{DEFAULT_APP_ID}/integrations".encode()
ONE = INTEGRATIONS + b"/0123456789abcdef01234567"
# Generous: a hang fails the test, a slow machine does not.
SOCKET_TIMEOUT = 30
# The sandbox answers a request body that stops arriving with 408 after this many seconds.
READ_TIMEOUT = 1


def http_request(
    method: bytes = b"POST",
    target: bytes = INTEGRATIONS,
    body: bytes = b"",
    *,
    content_type: bytes | None = b"application/json",
    auth: bytes | None = AUTH,
    length: bytes | None = None,
    headers: tuple[bytes, ...] = (),
) -> bytes:
    """One request as raw bytes; Content-Length is the body's unless ``length`` says otherwise."""
    lines = [method + b" " + target + b" HTTP/1.1", b"Host: sandbox"]
    if auth is not None:
        lines.append(b"Authorization: " + auth)
    if content_type is not None:
        lines.append(b"Content-Type: " + content_type)
    if length is None and body:
        length = str(len(body)).encode()
    if length is not None:
        lines.append(b"Content-Length: " + length)
    return b"\r\n".join([*lines, *headers]) + b"\r\n\r\n" + body


def chunked(*chunks: bytes, end: bytes = b"0\r\n\r\n") -> bytes:
    """A chunked request: ``chunks`` encoded, then ``end`` as it is (the last chunk, or anything)."""
    encoded = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + end
    return http_request(headers=(b"Transfer-Encoding: chunked",)) + encoded


def deep(levels: int) -> bytes:
    return web("[" * levels + "]" * levels)


def web(display_name_json: str) -> bytes:
    return f'{{"type": "web", "displayName": {display_name_json}}}'.encode()


def post(body: bytes) -> bytes:
    return http_request(body=body)


@dataclass(frozen=True)
class Case:
    name: str
    raw: bytes
    status: int
    code: str
    # True: the server must answer and close; False: the connection must carry the next request.
    closes: bool = False
    method: str = "POST"
    # Part of the error's title, where the code alone would not show why the input was refused.
    title: str = ""


GET = "GET"
DEEP = "nests deeper than"
SURROGATE = "lone UTF-16 surrogate"
RANGE = "number out of range"
DIGITS = "1" + "0" * 4999

CASES: tuple[Case, ...] = (
    # JSON the parser must survive.
    Case("arrays nested 10,000 deep", post(deep(10_000)), 400, "bad_request", title=DEEP),
    Case("objects nested 10,000 deep", post(('{"a": ' * 10_000 + "1" + "}" * 10_000).encode()), 400, "bad_request",
         title=DEEP),
    Case(f"arrays nested {MAX_DEPTH + 1} deep", post(deep(MAX_DEPTH)), 400, "bad_request", title=DEEP),
    Case("lone high surrogate escape", post(web('"\\ud800"')), 400, "bad_request", title=SURROGATE),
    Case("lone low surrogate escape in a key", post(b'{"type": "web", "\\udc00": 1}'), 400, "bad_request",
         title=SURROGATE),
    Case("raw invalid UTF-8 byte", post(b'{"type": "web", "displayName": "\xff"}'), 400, "bad_request"),
    Case("UTF-8-encoded surrogate bytes", post(b'{"type": "web", "displayName": "\xed\xa0\x80"}'), 400, "bad_request"),
    Case("5,000-digit integer", post(web(DIGITS)), 400, "bad_request", title=RANGE),
    Case("5,000-digit negative integer", post(web("-" + DIGITS)), 400, "bad_request", title=RANGE),
    Case("400-digit integer", post(web(DIGITS[:400])), 400, "bad_request", title=RANGE),
    Case("5,000-digit fraction", post(web("0." + DIGITS)), 400, "bad_request"),
    Case("number overflowing a double", post(web("1e400")), 400, "bad_request", title=RANGE),
    Case("NaN", post(web("NaN")), 400, "bad_request"),
    Case("Infinity", post(web("Infinity")), 400, "bad_request"),
    Case("-Infinity", post(web("-Infinity")), 400, "bad_request"),
    Case("byte order mark", post(b"\xef\xbb\xbf" + web('"x"')), 400, "bad_request"),
    # Credentials that are not ASCII.
    Case("Basic credentials in UTF-8", http_request(body=web('"x"'), auth="Basic é".encode()), 401, "unauthorized"),
    Case("Basic credentials in Latin-1", http_request(body=web('"x"'), auth="Basic é".encode("latin-1")), 401,
         "unauthorized"),
    Case("Basic base64 of UTF-8 text", http_request(body=web('"x"'), auth=b"Basic " + base64.b64encode(
        "ïd:sécret".encode())), 401, "unauthorized"),
    Case("Bearer token in UTF-8", http_request(body=web('"x"'), auth="Bearer é.é.é".encode()), 401, "unauthorized"),
    Case("60 kB of credentials", http_request(body=web('"x"'), auth=b"Basic " + b"A" * 60_000), 401, "unauthorized"),
    # Content-Length.
    Case("non-numeric Content-Length", http_request(body=b"{}", length=b"abc"), 400, "bad_request", closes=True),
    Case("negative Content-Length", http_request(body=b"{}", length=b"-1"), 400, "bad_request", closes=True),
    Case("two Content-Lengths", http_request(body=b"{}", length=b"2, 2"), 400, "bad_request", closes=True),
    Case("Content-Length longer than the body", http_request(body=b'{"type": "web"}', length=b"100"), 408,
         "request_timeout", closes=True),
    Case("Content-Length over the upload limit", http_request(length=b"60000000"), 413, "payload_too_large",
         closes=True),
    Case("JSON body over 100kb", post(web('"' + "x" * 110_000 + '"')), 413, "payload_too_large"),
    # Content-Type.
    Case("text/plain", http_request(body=web('"x"'), content_type=b"text/plain"), 415, "unsupported_media_type"),
    Case("no Content-Type", http_request(body=web('"x"'), content_type=None), 415, "unsupported_media_type"),
    Case("form-encoded body for a JSON operation", http_request(
        body=b"type=web", content_type=b"application/x-www-form-urlencoded"), 415, "unsupported_media_type"),
    Case("multipart without boundary", http_request(body=web('"x"'), content_type=b"multipart/form-data"), 400,
         "bad_request"),
    Case("multipart that never reaches its boundary", http_request(
        body=b"not multipart", content_type=b"multipart/form-data; boundary=XyZ"), 400, "bad_request"),
    Case("form-encoded body in invalid UTF-8", http_request(
        body=b"type=\xff", content_type=b"application/x-www-form-urlencoded"), 400, "bad_request"),
    # Chunked bodies.
    Case("chunked invalid JSON", chunked(b'{"type": ', b"web}"), 400, "bad_request"),
    Case("chunked body over 100kb", chunked(*[b"x" * 50_000] * 3), 413, "payload_too_large"),
    Case("chunk size not hexadecimal", chunked(end=b"zz\r\n{}\r\n0\r\n\r\n"), 400, "bad_request", closes=True),
    Case("chunk longer than its size", chunked(end=b"2\r\n{}xx\r\n0\r\n\r\n"), 400, "bad_request", closes=True),
    Case("chunked body without its last chunk", chunked(b'{"type": "web"}', end=b""), 408, "request_timeout",
         closes=True),
    Case("unknown Transfer-Encoding", http_request(body=b"{}", headers=(b"Transfer-Encoding: gzip",)), 400,
         "bad_request", closes=True),
    # Headers.
    Case("100 kB header", http_request(body=b"{}", headers=(b"X-Big: " + b"a" * 100_000,)), 431,
         "request_header_fields_too_large", closes=True),
    Case("8,000 headers", http_request(body=b"{}", headers=tuple(b"X-H%d: v" % n for n in range(8_000))), 431,
         "request_header_fields_too_large", closes=True),
    Case("header line without a colon", http_request(body=b"{}", headers=(b"no colon here",)), 400, "bad_request",
         closes=True),
    Case("bare LF inside a header", http_request(body=b"{}", headers=(b"X-A: a\nb",)), 400, "bad_request",
         closes=True),
    # Methods and request lines.
    Case("unknown method", http_request(b"BREW", body=b"{}"), 405, "method_not_allowed"),
    Case("lowercase method", http_request(b"get", body=b"{}"), 400, "bad_request", closes=True),
    Case("request line of control bytes", b"\x00\x01\x02 / HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad_request",
         closes=True),
    Case("absolute target with a broken IPv6 host", http_request(b"GET", b"http://[::1/v2", content_type=None),
         400, "bad_request", closes=True, method=GET),
    # Paths.
    Case("encoded slash in an id", http_request(b"GET", ONE + b"%2Fx", content_type=None), 404,
         "integration_not_found", method=GET),
    Case("dot segments", http_request(b"GET", INTEGRATIONS + b"/../integrations", content_type=None), 404,
         "not_found", method=GET),
    Case("encoded dot segment as an id", http_request(b"GET", INTEGRATIONS + b"/%2e%2e", content_type=None), 404,
         "integration_not_found", method=GET),
    Case("encoded dot segments as the app id", http_request(
        b"GET", b"/v2/apps/..%2F..%2Fetc/integrations", content_type=None), 404, "app_not_found", method=GET),
    Case("raw bytes in the path", http_request(b"GET", b"/v2/\xff\xfe", content_type=None), 400, "bad_request",
         closes=True, method=GET),
    # Query strings.
    Case("'%' without hex digits", http_request(b"GET", INTEGRATIONS + b"?page[size]=%zz", content_type=None),
         400, "bad_request", method=GET),
    Case("truncated '%' escape", http_request(b"GET", ONE + b"?x=%4", content_type=None), 400, "bad_request",
         method=GET),
    Case("percent-encoded invalid UTF-8", http_request(b"GET", INTEGRATIONS + b"?%ff%fe=1", content_type=None),
         400, "bad_request", method=GET),
    Case("5,000-digit page size", http_request(b"GET", INTEGRATIONS + b"?page[size]=" + DIGITS.encode(),
         content_type=None), 400, "bad_request", method=GET),
    Case("non-ASCII digit page size", http_request(b"GET", INTEGRATIONS + b"?page[size]=%C2%B2",
         content_type=None), 400, "bad_request", method=GET),
    Case("page as JSON nested 3,000 deep", http_request(b"GET", INTEGRATIONS + b"?page=" + b"%7B%22a%22:" * 3_000,
         content_type=None), 400, "bad_request", method=GET),
)  # fmt: skip

TRIED = len(CASES)


@pytest.fixture(scope="module")
def robust_sandbox() -> Iterator[Sandbox]:
    with Sandbox(read_timeout=READ_TIMEOUT) as running:
        yield running


@pytest.fixture(scope="module", autouse=True)
def _count(record_testsuite_property: pytest.RecordProperty) -> None:
    record_testsuite_property("sandbox_malformed_inputs_tried", TRIED)


def exchange(sandbox: Sandbox, raw: bytes, method: str) -> tuple[socket.socket, http.client.HTTPResponse, bytes]:
    connection = socket.create_connection(("127.0.0.1", sandbox.port), timeout=SOCKET_TIMEOUT)
    try:
        connection.sendall(raw)
        response = http.client.HTTPResponse(connection, method=method)
        try:
            response.begin()
            body = response.read()
        except TimeoutError:
            pytest.fail(f"no answer within {SOCKET_TIMEOUT} s: the sandbox hangs")
        except (http.client.RemoteDisconnected, http.client.IncompleteRead, ConnectionError) as error:
            pytest.fail(f"the connection was dropped without a complete answer: {error!r}")
    except BaseException:
        connection.close()
        raise
    return connection, response, body


def closed(connection: socket.socket) -> bool:
    """True once the server has closed; a reset counts, since it follows a request left partly unread."""
    try:
        return connection.recv(1) == b""
    except ConnectionResetError:
        return True


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_malformed_input_gets_a_json_4xx(robust_sandbox: Sandbox, case: Case, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    connection, response, body = exchange(robust_sandbox, case.raw, case.method)
    with connection:
        assert response.getheader("Content-Type") == JSON_TYPE
        answer = json.loads(body)
        assert [error.message for error in shipped().validator(ERROR_SCHEMA).iter_errors(answer)] == []
        assert (response.status, [error["code"] for error in answer["errors"]]) == (case.status, [case.code])
        assert case.title in answer["errors"][0]["title"]
        if case.closes:
            assert response.getheader("Connection") == "close"
            assert closed(connection), "the server keeps a connection it cannot read on"
        else:
            # The same connection carries a valid request: nothing was dropped or left unread.
            connection.sendall(http_request(b"GET", INTEGRATIONS, content_type=None))
            follow_up = http.client.HTTPResponse(connection, method="GET")
            follow_up.begin()
            assert follow_up.status == 200, follow_up.read()
    # Neither the application nor waitress logged a failure.
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []


def test_the_cases_are_counted() -> None:
    assert len({case.name for case in CASES}) == TRIED
    assert TRIED >= 50
