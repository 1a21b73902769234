"""Hostile answers are bounded: SUNCO_TIMEOUT's read part is a deadline for the whole answer, and an
answer past SUNCO_MAX_RESPONSE_BYTES (on the wire or decompressed) is a server fault, read no further
and never recorded. Against raw sockets on 127.0.0.1, directly, under vcrpy recording, and in the
pre-flight check. Outcomes are asserted, never elapsed times; peak memory is measured (tracemalloc)."""

from __future__ import annotations

import gzip
import socket
import threading
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from vcr import VCR

from conformance.cassettes.recording import configure_vcr, vcr_options
from conformance.failures import ConfigError, ServerFault
from conformance.scrubbing.scrubber import Scrubber
from conformance.session.session import ConformanceSession
from conformance.transport import faults
from conformance.transport.client import BROKEN_HEADER, Broken, BrokenExchange, Client
from conformance.transport.preflight import check_access
from conformance.transport.settings import DEFAULT_MAX_RESPONSE_BYTES, Settings

APP = "5d8cff3cd55b040010928b5b"
MB = 1024 * 1024
# The deadline the trickling servers meet, and how often they send a byte: well within it. They stop
# after TRICKLED bytes (20 s) and endless bodies after SENT bytes, so a client without the bounds
# fails these tests (a cut-off answer) instead of hanging them.
DEADLINE = 1.0
TRICKLE = 0.2
TRICKLED = 100
SENT = 64 * 1024 * 1024
Script = Callable[[socket.socket, threading.Event], None]


class Hostile:
    """A raw-socket server: each connection's request is read, then ``script`` answers it."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.stopped = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            try:
                received = b""
                while b"\r\n\r\n" not in received:
                    data = connection.recv(65536)
                    if not data:
                        return
                    received += data
                self.script(connection, self.stopped)
            except OSError:
                pass  # the client gave up: what the test wants

    def close(self) -> None:
        self.stopped.set()
        self.listener.close()


def head(*headers: str, status: str = "200 OK") -> bytes:
    return ("\r\n".join([f"HTTP/1.1 {status}", "Content-Type: application/json", *headers]) + "\r\n\r\n").encode()


def trickle(opening: bytes) -> Script:
    def script(connection: socket.socket, stopped: threading.Event) -> None:
        connection.sendall(opening)
        for _ in range(TRICKLED):
            if stopped.wait(TRICKLE):
                return
            connection.sendall(b"x")

    return script


def endless(opening: bytes, chunked: bool = False) -> Script:
    block = b"0" * (64 * 1024)
    piece = f"{len(block):x}\r\n".encode() + block + b"\r\n" if chunked else block

    def script(connection: socket.socket, stopped: threading.Event) -> None:
        connection.sendall(opening)
        for _ in range(SENT // len(block)):
            if stopped.is_set():
                return
            connection.sendall(piece)

    return script


def whole(opening: bytes, body: bytes) -> Script:
    def script(connection: socket.socket, stopped: threading.Event) -> None:
        connection.sendall(opening + body)
        stopped.wait(5)

    return script


def compressed(size: int, wbits: int = 16 + zlib.MAX_WBITS) -> bytes:
    """``size`` zero bytes, gzip (or raw deflate) compressed: a bomb of a few hundred KB at most."""
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    block = bytes(MB)
    return b"".join([*(packer.compress(block) for _ in range(size // MB)), packer.flush()])


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    return {
        "gzip64": compressed(64 * MB),
        "gzip512": compressed(512 * MB),
        "deflate64": compressed(64 * MB, -zlib.MAX_WBITS),
        "nested": gzip.compress(compressed(256 * MB), 9),
    }


def bomb(body: bytes, encoding: str = "gzip", chunked: bool = False) -> Script:
    if not chunked:
        return whole(head(f"Content-Encoding: {encoding}", f"Content-Length: {len(body)}"), body)
    framed = b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in _parts(body)) + b"0\r\n\r\n"
    return whole(head(f"Content-Encoding: {encoding}", "Transfer-Encoding: chunked"), framed)


def _parts(body: bytes, size: int = 8192) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


# Each hostile shape: (name, how it answers given the bombs); every one is a timeout or a size fault.
TIMEOUTS: dict[str, Callable[[dict[str, bytes]], Script]] = {
    "headers, then a body byte every 0.2 s": lambda _b: trickle(head("Content-Length: 100000")),
    "the headers themselves a byte every 0.2 s": lambda _b: trickle(b"HTTP/1.1 200 OK\r\nX-Slow: "),
    "the status line a byte every 0.2 s": lambda _b: trickle(b""),
    "a chunked body a byte every 0.2 s": lambda _b: trickle(head("Transfer-Encoding: chunked") + b"10000\r\n"),
}
OVERSIZED: dict[str, Callable[[dict[str, bytes]], Script]] = {
    "a 200 MB body": lambda _b: endless(head(f"Content-Length: {200 * MB}")),
    "an endless chunked body": lambda _b: endless(head("Transfer-Encoding: chunked"), chunked=True),
    "an endless body with no length": lambda _b: endless(head("Connection: close")),
    "a 64 MB gzip bomb": lambda b: bomb(b["gzip64"]),
    "a 512 MB gzip bomb": lambda b: bomb(b["gzip512"]),
    "a 512 MB gzip bomb, chunked": lambda b: bomb(b["gzip512"], chunked=True),
    "a 64 MB raw deflate bomb": lambda b: bomb(b["deflate64"], "deflate"),
    "a 256 MB bomb gzipped twice": lambda b: bomb(b["nested"], "gzip, gzip"),
}


@pytest.fixture
def hostile() -> Iterator[Callable[[Script], Hostile]]:
    started: list[Hostile] = []

    def start(script: Script) -> Hostile:
        started.append(Hostile(script))
        return started[-1]

    yield start
    for server in started:
        server.close()


def settings(url: str, **extra: Any) -> Settings:
    return Settings(url, APP, "app_key", "a-secret-long-enough-0000", timeout=(DEADLINE, DEADLINE), **extra)


def one_line_naming(message: str, variable: str) -> None:
    assert variable in message
    assert "\n" not in message


def peak_of(action: Callable[[], Any]) -> tuple[Any, int]:
    """What ``action`` raised or returned, and the most memory Python held meanwhile (bytes)."""
    tracemalloc.start()
    try:
        try:
            outcome: Any = action()
        except Exception as error:
            outcome = error
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def recorder(tmp_path: Path) -> VCR:
    """A vcrpy recorder set up as the plugin sets it up for a live run."""
    scrubber = Scrubber(fields=frozenset())
    made = VCR(record_mode="all", **vcr_options(scrubber))
    configure_vcr(made, scrubber)
    return made


# -- the deadline --------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", TIMEOUTS)
def test_get_app_gives_up_on_a_trickling_answer_with_one_line_naming_sunco_timeout(hostile, bombs, shape):
    server = hostile(TIMEOUTS[shape](bombs))
    with pytest.raises(requests.ReadTimeout) as caught:
        Client(settings(server.url)).call("GetApp")
    one_line_naming(str(caught.value), "SUNCO_TIMEOUT")
    assert "whole answer" in str(caught.value)


@pytest.mark.parametrize("shape", TIMEOUTS)
def test_get_app_gives_up_on_a_trickling_answer_while_recording_and_records_nothing(hostile, bombs, shape, tmp_path):
    server = hostile(TIMEOUTS[shape](bombs))
    cassette = tmp_path / "trickle.yaml"
    with recorder(tmp_path).use_cassette(str(cassette)), pytest.raises(requests.ReadTimeout) as caught:
        Client(settings(server.url)).call("GetApp")
    one_line_naming(str(caught.value), "SUNCO_TIMEOUT")
    assert not cassette.exists()


@pytest.mark.parametrize("shape", TIMEOUTS)
def test_the_preflight_check_gives_up_on_a_trickling_answer_with_one_line_naming_sunco_timeout(hostile, bombs, shape):
    server = hostile(TIMEOUTS[shape](bombs))
    with pytest.raises(ConfigError) as caught:
        check_access(settings(server.url), lambda text: text)
    one_line_naming(str(caught.value), "SUNCO_TIMEOUT")
    assert "no whole answer within 1 s" in str(caught.value)


# -- the size limit ------------------------------------------------------------------------------


def assert_oversized(outcome: object, limit: int) -> None:
    assert isinstance(outcome, BrokenExchange), repr(outcome)
    assert outcome.broken.kind == "oversized"
    assert outcome.attempts == 1, "an answer too large is never asked for again"
    one_line_naming(outcome.broken.what, "SUNCO_MAX_RESPONSE_BYTES")
    assert f"larger than {limit} bytes" in outcome.broken.what


@pytest.mark.parametrize("shape", OVERSIZED)
def test_get_app_stops_reading_an_answer_past_the_default_limit_without_a_memory_blow_up(hostile, bombs, shape):
    server = hostile(OVERSIZED[shape](bombs))
    outcome, peak = peak_of(lambda: Client(settings(server.url)).call("GetApp"))
    assert_oversized(outcome, DEFAULT_MAX_RESPONSE_BYTES)
    # Only about the limit itself is ever held (the issue saw 934 MB for the 64 MB bomb).
    assert peak < 4 * DEFAULT_MAX_RESPONSE_BYTES, peak


@pytest.mark.parametrize("shape", OVERSIZED)
def test_an_oversized_answer_while_recording_leaves_only_a_stand_in_and_no_memory_blow_up(
    hostile, bombs, shape, tmp_path
):
    server = hostile(OVERSIZED[shape](bombs))
    cassette = tmp_path / "oversized.yaml"
    with recorder(tmp_path).use_cassette(str(cassette)) as tape:
        made = Client(settings(server.url), on_broken=lambda sent, broken: faults.record_broken(tape, sent, broken))
        outcome, peak = peak_of(lambda: made.call("GetApp"))
    assert_oversized(outcome, DEFAULT_MAX_RESPONSE_BYTES)
    assert peak < 4 * DEFAULT_MAX_RESPONSE_BYTES, peak
    # The stand-in a replay breaks the same way, and nothing of the answer itself.
    assert cassette.stat().st_size < 4096
    text = cassette.read_text()
    assert BROKEN_HEADER in text
    assert "oversized; the answer was larger than" in text


@pytest.mark.parametrize(
    "opening", [b"HTTP/1.1 200 OK\r\n" + b"X-Pad: y\r\n" * 20, b"HTTP/1.1 200 OK\r\n" + b"X-Pad: y\r\n" * 200]
)
def test_an_endless_header_block_is_a_server_fault_within_http_clients_own_limits(hostile, opening):
    # One endless header line, or endless header lines: http.client stops at 64 KB a line, 100 lines.
    server = hostile(endless(opening) if opening.count(b"\r\n") < 100 else whole(opening, b""))
    outcome, peak = peak_of(lambda: Client(settings(server.url)).call("GetApp"))
    assert isinstance(outcome, BrokenExchange), repr(outcome)
    assert "\n" not in outcome.broken.what
    assert peak < 4 * DEFAULT_MAX_RESPONSE_BYTES, peak


def test_replay_turns_the_oversized_stand_in_back_into_the_same_server_fault():
    found = Broken.parse("oversized; the answer was larger than 10 bytes on the wire (SUNCO_MAX_RESPONSE_BYTES)")
    assert found.kind == "oversized"
    assert found.what.startswith("the answer was larger than 10 bytes")


@pytest.mark.parametrize("limit", [1, 1000])
def test_sunco_max_response_bytes_sets_the_limit_and_an_answer_just_within_it_passes(hostile, limit):
    body = b'{"app": {"id": "' + APP.encode() + b'"}}'
    server = hostile(whole(head(f"Content-Length: {len(body)}"), body))
    made = Client(settings(server.url, max_response_bytes=limit))
    outcome, _ = peak_of(lambda: made.call("GetApp"))
    if limit < len(body):
        assert_oversized(outcome, limit)
    else:
        assert outcome.status == 200
        assert outcome.body == {"app": {"id": APP}}


def test_a_compressed_answer_within_the_limit_reads_as_usual(hostile):
    body = gzip.compress(b'{"app": {"id": "' + APP.encode() + b'"}}' + b" " * 100_000)
    server = hostile(bomb(body))
    exchange = Client(settings(server.url, max_response_bytes=200_000)).call("GetApp")
    assert exchange.status == 200
    assert exchange.body == {"app": {"id": APP}}


def test_the_preflight_check_refuses_an_oversized_answer_naming_the_setting(hostile, bombs):
    server = hostile(OVERSIZED["a 64 MB gzip bomb"](bombs))
    with pytest.raises(ConfigError) as caught:
        check_access(settings(server.url), lambda text: text)
    one_line_naming(str(caught.value), "SUNCO_MAX_RESPONSE_BYTES")


@pytest.mark.parametrize("value", ["0", "-1", "4MB", "1.5", "9999999999", "lots"])
def test_a_bad_sunco_max_response_bytes_is_one_line_naming_the_variable(value):
    env = {"SUNCO_API_URL": "http://127.0.0.1:9", "SUNCO_APP_ID": APP, "SUNCO_KEY_ID": "k", "SUNCO_KEY_SECRET": "s"}
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**env, "SUNCO_MAX_RESPONSE_BYTES": value})
    assert str(caught.value).startswith(f"SUNCO_MAX_RESPONSE_BYTES={value!r} is not allowed")
    one_line_naming(str(caught.value), "SUNCO_MAX_RESPONSE_BYTES")


def test_sunco_max_response_bytes_defaults_to_a_few_megabytes():
    env = {"SUNCO_API_URL": "http://127.0.0.1:9", "SUNCO_APP_ID": APP, "SUNCO_KEY_ID": "k", "SUNCO_KEY_SECRET": "s"}
    assert Settings.from_env(env).max_response_bytes == DEFAULT_MAX_RESPONSE_BYTES == 4 * MB
    assert Settings.from_env({**env, "SUNCO_MAX_RESPONSE_BYTES": "123"}).max_response_bytes == 123


# -- through a session: a server fault, recorded as a stand-in, replayed as the same fault ----------


def session(tape: Any, url: str | None) -> ConformanceSession:
    return ConformanceSession(
        cassette=tape,
        recording=url is not None,
        settings=settings(url) if url is not None else None,
        scrubber=Scrubber(fields=frozenset()),
        nodeid="t::x",
        record_command="pytest t::x --record-mode=rewrite",
    )


def test_get_app_past_the_limit_is_a_server_fault_that_replays_the_same_from_its_stand_in(hostile, bombs, tmp_path):
    server = hostile(OVERSIZED["a 512 MB gzip bomb"](bombs))
    cassette = tmp_path / "bomb.yaml"
    with recorder(tmp_path).use_cassette(str(cassette)) as tape:
        live = session(tape, server.url)
        live.pins.held()  # what a suite test pins first (the target), so replay needs no settings
        with pytest.raises(ServerFault) as recorded:
            live.call("GetApp")
    with recorder(tmp_path).use_cassette(str(cassette), record_mode="none") as tape:
        replayed_session = session(tape, None)
        with pytest.raises(ServerFault) as replayed:
            replayed_session.call("GetApp")
        replayed_session.close()
    for caught in (recorded, replayed):
        assert caught.value.title == (
            f"GetApp (GET /v2/apps/{{appId}}) got no whole answer: the answer was larger than "
            f"{DEFAULT_MAX_RESPONSE_BYTES} bytes once decompressed (SUNCO_MAX_RESPONSE_BYTES); reading stopped."
        )
    assert replayed_session.findings.failures == [replayed.value]
    assert cassette.stat().st_size < 4096
