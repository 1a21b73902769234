"""Serving the sandbox's WSGI application with waitress, from a daemon thread, on one bound socket.

waitress does the HTTP/1.1 framing (keep-alive, pipelining, chunked bodies, size limits). Its own
error answers (a malformed request line, a bad Content-Length, headers or body over the limit)
are rendered here as the API's JSON errors envelope, like everything the application answers.

Hostile clients cannot hold it: a request's line and headers must arrive within ``header_timeout``
seconds of its first byte (of the accept, for a connection's first request) or it is answered 408
and closed, however steadily the bytes trickle; a bare LF or CR, or headers cut off by the client's
half-close, are answered 400 at once rather than waited on; and the connection limit is far above
waitress's 100, so a crowd of slow clients leaves room for others while the deadline sweeps them out.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import struct
import threading
import time
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, cast

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import ClientDisconnected, HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, Task, WSGITask
from waitress.utilities import BadRequest, Error, find_double_newline

from conformance.sandbox.api import JSON_TYPE
from conformance.sandbox.errors import envelope

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

# The documented limits: 100kb for a JSON body, 50mb for a file upload. A multipart body may
# carry one 50 MiB file plus its part headers and form fields, hence 1 MiB more.
MAX_JSON_BODY = 100 * 1024
MAX_UPLOAD_BODY = 51 * 1024 * 1024
MAX_HEADERS = 64 * 1024
BACKLOG = 256
THREADS = 8
# Open connections before waitress stops accepting (its default, 100, is what a slowloris needs);
# well under a typical 1,024 open files, with the header deadline below clearing slow ones out.
CONNECTION_LIMIT = 500
IDENT = "sunco-sandbox"
# How long the loop waits in poll(); waitress checks idle connections once per wake-up.
LOOP_WAIT = 0.5
_DATE_LINE = re.compile(rb"\r\nDate: [^\r]*")
# A line end that is not CRLF: waitress waits for CRLF CRLF, so such headers would never end.
_BARE_EOL = re.compile(rb"(?<!\r)\n|\r[^\n]")

# waitress's error statuses, as the API's envelope: (status, code, title).
_WAITRESS_ERRORS: dict[int, tuple[int, str, str]] = {
    413: (413, "payload_too_large", f"Request body exceeds {MAX_UPLOAD_BODY // (1024 * 1024)}mb"),
    431: (431, "request_header_fields_too_large", f"Request line and headers exceed {MAX_HEADERS // 1024}kb"),
    # An unknown Transfer-Encoding: RFC 9112 suggests 501, but the client is the one to fix it.
    501: (400, "bad_request", "Transfer-Encoding must be chunked (or absent, with a Content-Length)"),
    500: (500, "internal_error", "The sandbox failed to handle the request"),
}


class DropConnection(Exception):
    """Raised by the application to end the connection without (the rest of) an answer: an injected fault.

    ``reset``: abort it (the peer gets a TCP reset) before anything is written; otherwise whatever
    was written is flushed and the connection closes, cutting the answer short.
    """

    def __init__(self, *, reset: bool) -> None:
        super().__init__("reset" if reset else "cut off")
        self.reset = reset


class RequestTimeout(Error):
    code = 408
    reason = "Request Timeout"


def _describe(error: Error) -> tuple[int, str, str]:
    if error.code in _WAITRESS_ERRORS:
        return _WAITRESS_ERRORS[error.code]
    if error.code == RequestTimeout.code:
        return 408, "request_timeout", f"The request did not arrive in full; {error.body}"
    # 400: waitress says what it could not parse (a header line, Content-Length, the request line).
    return 400, "bad_request", " ".join(f"Malformed HTTP request: {error.body}".split())[:200]


def _stable_head(task: Task, head: bytes) -> bytes:
    """The response head without waitress's Date when the sandbox is seeded, so recordings repeat."""
    server = task.channel.server
    return _DATE_LINE.sub(b"", head) if isinstance(server, SandboxServer) and server.deterministic else head


class JsonErrorTask(ErrorTask):
    def execute(self) -> None:
        error = cast(Error, cast(Any, self.request).error)
        status, code, title = _describe(error)
        body = json.dumps(envelope(code, title), ensure_ascii=False).encode("utf-8")
        self.status = f"{status} {HTTPStatus(status).phrase}"
        cast(list[tuple[str, str]], self.response_headers).append(("Content-Type", JSON_TYPE))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)

    def build_response_header(self) -> bytes:
        return _stable_head(self, super().build_response_header())


class StableTask(WSGITask):
    def build_response_header(self) -> bytes:
        return _stable_head(self, super().build_response_header())

    def execute(self) -> None:
        try:
            super().execute()
        except DropConnection as drop:
            if drop.reset:
                # Linger on, for 0 s: close() aborts the connection with a RST instead of a FIN.
                with contextlib.suppress(OSError, AttributeError):
                    cast(socket.socket, self.channel.socket).setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
            # waitress then closes the connection once what was written is flushed, and writes nothing more.
            raise ClientDisconnected(str(drop)) from None


class SandboxParser(HTTPRequestParser):
    """waitress's parser, with a start time and an immediate 400 for line ends waitress would wait past."""

    def __init__(self, adj: Adjustments) -> None:
        super().__init__(adj)
        # Created when the request's first bytes arrive: its header deadline counts from here.
        self.started = time.time()

    def received(self, data: bytes) -> int:
        if self.completed or self.headers_finished:
            return super().received(data)
        text = self.header_plus + data
        end = find_double_newline(text)
        head = text if end < 0 else text[:end]
        # Blank lines before a request are skipped (RFC 9112, 2.2), as waitress strips them.
        lead = len(head) - len(head.lstrip())
        if _BARE_EOL.search(head, max(lead, len(self.header_plus) - 1)):
            self.refuse("a line of the request line or headers ends without CRLF (a bare LF or CR)")
            return len(data)
        return super().received(data)

    def refuse(self, why: str) -> None:
        """Complete this request as a 400 that closes the connection, whatever of it has arrived."""
        self.parse_header(b"GET / HTTP/1.0\r\n")
        self.error = BadRequest(why)
        self.completed = True

    def parse_header(self, header_plus: bytes) -> None:
        try:
            super().parse_header(header_plus)
        except ValueError as error:
            # urlsplit refuses a target such as "http://[::1/"; uncaught, waitress drops the connection.
            raise ParsingError(f"Bad request target ({error})") from None


class SandboxChannel(HTTPChannel):
    task_class = StableTask
    error_task_class = JsonErrorTask
    parser_class = SandboxParser
    # True once a request of this connection was taken up: later ones' deadlines count from their first byte.
    served = False

    def service(self) -> None:
        self.served = True
        super().service()

    def handle_read(self) -> None:
        """waitress's, except that a half-close with a request partly sent answers 400 instead of dropping it."""
        try:
            data = cast(socket.socket, self.socket).recv(self.adj.recv_bytes)
        except OSError:
            self.handle_close()
            return
        if data:
            self.last_activity = time.time()
            self.received(data)
            return
        pending = cast(SandboxParser | None, self.request)
        if pending is None or pending.completed or not (pending.headers_finished or pending.header_plus.strip()):
            self.handle_close()  # nothing was asked: close, as waitress does
            return
        why = "the request body" if pending.headers_finished else "the headers (no blank line)"
        pending.refuse(f"the client closed its side of the connection before the end of {why}")
        self.queue(pending)

    def queue(self, request: HTTPRequestParser) -> None:
        """Answer ``request`` (completed, with an error) through waitress's own error path."""
        with cast(Any, self).requests_lock:
            self.request = None
            cast(list[Any], self.requests).append(request)
        self.server.add_task(cast(Any, self))


class SandboxServer(TcpWSGIServer):
    channel_class = SandboxChannel
    deterministic = False
    header_timeout = 5

    def maintenance(self, now: int) -> None:
        """Close idle connections, as waitress does; one stuck in its body, or past its header deadline, gets a 408."""
        cutoff = now - self.adj.channel_timeout
        for channel in list(cast(dict[int, SandboxChannel], self.active_channels).values()):
            if channel.requests:
                continue
            pending = cast(SandboxParser | None, channel.request)
            started = channel.creation_time
            if pending is not None and channel.served:
                started = pending.started
            heading = pending is None or not pending.headers_finished
            if heading and not (pending is None and channel.served) and started <= now - self.header_timeout:
                if pending is None:
                    channel.will_close = True  # connected and never said a word: nothing to answer
                else:
                    timeout = RequestTimeout(f"the request line and headers took over {self.header_timeout} s")
                    channel.queue(_timed_out(channel, timeout))
                continue
            if channel.last_activity >= cutoff:
                continue
            if pending is None or not pending.headers_finished or pending.completed:
                channel.will_close = True
                continue
            channel.queue(_timed_out(channel, RequestTimeout(f"no data for {self.adj.channel_timeout} s"), pending))


def _timed_out(channel: SandboxChannel, error: Error, pending: SandboxParser | None = None) -> SandboxParser:
    """A request that answers ``error``: ``pending`` itself if its headers were read, else a stand-in."""
    request = pending or SandboxParser(channel.adj)
    if pending is None:
        request.parse_header(b"GET / HTTP/1.0\r\n")
    request.error = error
    request.completed = True
    return request


class Serving:
    """A waitress server for ``app`` on ``sock`` (bound already), run by a daemon thread until ``stop``."""

    def __init__(
        self, app: WSGIApplication, sock: socket.socket, *, deterministic: bool, read_timeout: int, header_timeout: int
    ) -> None:
        adjustments = Adjustments(
            ident=IDENT,
            backlog=BACKLOG,
            threads=THREADS,
            connection_limit=CONNECTION_LIMIT,
            # Idle or stuck connections are closed (stuck ones after a 408) after this many seconds.
            channel_timeout=read_timeout,
            cleanup_interval=1,
            max_request_header_size=MAX_HEADERS,
            # waitress refuses a body of this size or more.
            max_request_body_size=MAX_UPLOAD_BODY + 1,
            # Handlers see every header as sent; the sandbox trusts no proxy and reads none.
            clear_untrusted_proxy_headers=False,
            asyncore_use_poll=True,
        )
        self._map: dict[int, Any] = {}
        sockinfo = (sock.family, sock.type, sock.proto, sock.getsockname())
        self.server = SandboxServer(app, self._map, _sock=sock, adj=adjustments, sockinfo=sockinfo, bind_socket=False)
        self.server.deterministic = deterministic
        self.server.header_timeout = header_timeout
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sunco-sandbox", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                wasyncore.loop(timeout=LOOP_WAIT, use_poll=True, map=self._map, count=1)
        finally:
            # Here, in the loop's own thread: the listening socket, the trigger and every
            # connection, kept-alive ones included, so a stopped sandbox answers nobody.
            for dispatcher in list(self._map.values()):
                with contextlib.suppress(OSError):
                    if isinstance(dispatcher, HTTPChannel):
                        dispatcher.handle_close()
                    else:
                        dispatcher.close()

    def stop(self, timeout: int = 5) -> None:
        # New connections wait in the backlog (and are reset at close); tasks already running
        # finish their answers while the loop still flushes them; then the loop closes everything.
        self.server.accepting = False
        self.server.task_dispatcher.shutdown(timeout=timeout)
        self._stopping.set()
        with contextlib.suppress(OSError):
            self.server.pull_trigger()
        self._thread.join(timeout)
