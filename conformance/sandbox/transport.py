"""HTTP/1.1 on a real socket: reads a request, hands it to the sandbox, writes its JSON answer."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from conformance.sandbox.api import Response
from conformance.sandbox.errors import envelope

JSON_TYPE = "application/json; charset=utf-8"
# The API's documented limit for a JSON request body.
MAX_BODY = 100 * 1024


class Answerer(Protocol):
    deterministic: bool

    def handle(self, method: str, target: str, authorization: str | None, raw: bytes) -> Response: ...


class HTTPServer4(ThreadingHTTPServer):
    daemon_threads = True
    sandbox: Answerer

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End kept-alive connections too, so a stopped sandbox answers nobody."""
        with self._connections_lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class HTTPServer6(HTTPServer4):
    address_family = socket.AF_INET6


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sunco-sandbox"
    sys_version = ""
    # Headers and body go out as two writes; with Nagle on, each answer waits ~40 ms for an ACK.
    disable_nagle_algorithm = True
    server: HTTPServer4

    def __getattr__(self, name: str) -> Any:
        # Every method, known or not, goes through the same pipeline (and gets a JSON answer).
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _serve(self) -> None:
        raw = self._read_body()
        if raw is None:
            return
        response = self.server.sandbox.handle(self.command, self.path, self.headers.get("Authorization"), raw)
        self._send(response)

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            self._send(Response(411, envelope("length_required", "Send the body with a Content-Length")))
            return None
        length_header = self.headers.get("Content-Length", "0").strip() or "0"
        if not length_header.isdigit():
            self.close_connection = True
            self._send(Response(400, envelope("bad_request", "Content-Length is not a number")))
            return None
        length = int(length_header)
        if length > MAX_BODY:
            # The body stays unread, so this connection cannot carry another request.
            self.close_connection = True
            self._send(Response(413, envelope("payload_too_large", "Request body exceeds 100kb")))
            return None
        return self.rfile.read(length) if length else b""

    def _send(self, response: Response) -> None:
        data = json.dumps(response.body, ensure_ascii=False).encode("utf-8")
        if self.server.sandbox.deterministic:
            self.log_request(response.status)
            self.send_response_only(response.status)
            self.send_header("Server", self.version_string())
        else:
            self.send_response(response.status)
        self.send_header("Content-Type", JSON_TYPE)
        self.send_header("Content-Length", str(len(data)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass
