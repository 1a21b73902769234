"""A local HTTP server that keeps the webhook deliveries it receives, for the tests that wait for them.

It listens on 127.0.0.1 only (a public URL, ``SUNCO_WEBHOOK_URL``, forwards to it when the API is
not on this machine), answers every POST 200 at once, and hands each delivery to the first test
that claims it. It holds at most a bounded number of unclaimed deliveries.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOST = "127.0.0.1"
MAX_BODY = 1024 * 1024
MAX_KEPT = 500
# How often the serving thread looks for a stop request (seconds).
POLL = 0.05


@dataclass(frozen=True)
class Received:
    """One request the receiver got: headers with lower-case names, and the body as sent."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self._answer(413)
            return
        body = self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.server.owner.keep(Received("POST", self.path, headers, body))
        self._answer(200)

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: deliveries are reported by the tests that claim them


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: Receiver


class Receiver:
    """Deliveries received and not yet claimed, in the order they came."""

    def __init__(self, port: int = 0) -> None:
        self._requested_port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._kept: list[Received] = []
        self._changed = threading.Condition()

    def start(self) -> Receiver:
        if self._server is None:
            server = _Server((HOST, self._requested_port), _Handler)
            server.owner = self
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever, args=(POLL,), name="webhook-receiver", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the receiver has no port until it is started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/webhooks"

    def keep(self, received: Received) -> None:
        with self._changed:
            self._kept.append(received)
            del self._kept[:-MAX_KEPT]
            self._changed.notify_all()

    def claim(self, accept: Callable[[Received], bool], timeout: float) -> Received | None:
        """The oldest unclaimed delivery ``accept`` takes, waiting up to ``timeout`` seconds for one."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for index, received in enumerate(self._kept):
                    if accept(received):
                        return self._kept.pop(index)
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)

    def discard(self, accept: Callable[[Received], bool]) -> int:
        """Forget the unclaimed deliveries ``accept`` takes (a finished test's late ones)."""
        with self._changed:
            before = len(self._kept)
            self._kept = [received for received in self._kept if not accept(received)]
            return before - len(self._kept)
