"""The sandbox's HTTP server: generic routing, authentication and validation in front of handlers.

Nothing here knows any one operation: routes come from the schema index, checks from the
operation's schemas, and behaviour from the handler registered under its operationId.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from conformance.sandbox import integrations
from conformance.sandbox.api import Handler, Request, Response
from conformance.sandbox.auth import authenticate
from conformance.sandbox.errors import ApiError, bad_request, envelope, schema_error
from conformance.sandbox.routing import Router
from conformance.sandbox.store import Store
from conformance.schemas import Operation, annotated_pointers, load_index, validator, write_only_fields

DEFAULT_APP_ID = "5a4db0c5a4db0c5a4db0c5a4"
DEFAULT_KEY_ID = "app_5a4db0c5a4db0c5a4db0c5a5"
DEFAULT_KEY_SECRET = "sandbox-secret-do-not-use-in-production"  # noqa: S105 - a fixed, public test value
JSON_TYPE = "application/json; charset=utf-8"
# The API's documented limit for a JSON request body.
MAX_BODY = 100 * 1024
APP_ID = re.compile(r"^[0-9a-f]{24}$")
HANDLER_MODULES = (integrations,)

log = logging.getLogger(__name__)


def _registered() -> tuple[dict[str, Handler], dict[str, dict[str, str]]]:
    handlers: dict[str, Handler] = {}
    titles: dict[str, dict[str, str]] = {}
    for module in HANDLER_MODULES:
        handlers.update(module.HANDLERS)
        titles.update(getattr(module, "TITLES", {}))
    return handlers, titles


class Sandbox:
    """A local, stateful stand-in for the API, served on a real socket from a daemon thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        app_id: str = DEFAULT_APP_ID,
        key_id: str = DEFAULT_KEY_ID,
        key_secret: str = DEFAULT_KEY_SECRET,
        *,
        handlers: Mapping[str, Handler] | None = None,
    ) -> None:
        if not APP_ID.match(app_id):
            raise ValueError(f"app_id must be 24 lowercase hexadecimal characters, got {app_id!r}")
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be from 0 to 65535, got {port}")
        self.host, self.app_id, self.key_id, self.key_secret = host, app_id, key_id, key_secret
        self._port = port
        self.store = Store()
        self.operations: dict[str, Operation] = load_index()
        self.router = Router(self.operations)
        registered, self.titles = _registered()
        # handlers override or add to the registered ones (tests inject failing ones).
        self.handlers: dict[str, Handler] = {**registered, **(handlers or {})}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        server_class = _Server6 if ":" in self.host else _Server
        self._server = server_class((self.host, self._port), _HTTPHandler)
        self._server.sandbox = self
        # Keep the bound port: the URL stays valid after stop(), and a restart reuses it.
        self._port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="sunco-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        if self._port == 0:
            raise RuntimeError("the sandbox has no port until it is started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # -- requests ----------------------------------------------------------------------------

    def handle(self, method: str, target: str, authorization: str | None, raw: bytes) -> Response:
        """Answer one request; never raises, so the HTTP layer always has a JSON answer to send."""
        try:
            return self._handle(method.upper(), target, authorization, raw)
        except ApiError as error:
            return Response(error.status, error.body(), error.headers)
        except Exception:
            log.exception("sandbox: unhandled error answering %s %s", method, target)
            return Response(500, envelope("internal_error", "The sandbox failed to handle the request"))

    def _handle(self, method: str, target: str, authorization: str | None, raw: bytes) -> Response:
        parts = urlsplit(target)
        match = self.router.match(method, parts.path)
        if match is None:
            raise ApiError(404, "not_found", f"No such resource: {parts.path}")
        if match.operation is None:
            allowed = ", ".join(match.allowed)
            raise ApiError(
                405, "method_not_allowed", f"{method} is not allowed here; use {allowed}", headers={"Allow": allowed}
            )
        op = match.operation
        authenticate(authorization, self.key_id, self.key_secret)
        if "appId" in match.params and match.params["appId"] != self.app_id:
            raise ApiError(404, "app_not_found", "App not found")
        body = self._body(op, raw) if op.request else None
        query = self._query(op, parts.query)
        handler = self.handlers.get(op.operation_id)
        if handler is None:
            raise ApiError(501, "not_implemented", f"The sandbox does not implement {op.operation_id} yet")
        request = Request(op, parts.path, match.params, query, body, self.url, self.app_id, self.store)
        response = handler(request)
        return Response(response.status, _without_write_only(op, response), response.headers)

    def _body(self, op: Operation, raw: bytes) -> Any:
        try:
            body = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
        except (UnicodeDecodeError, ValueError):
            raise bad_request("Request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise bad_request("Request body must be a JSON object")
        error = schema_error(validator(str(op.request)), body, titles=self.titles.get(op.operation_id))
        if error is not None:
            raise error
        return body

    def _query(self, op: Operation, text: str) -> dict[str, str]:
        parsed = parse_qs(text, keep_blank_values=True)
        if op.query is None:
            return {name: values[-1] for name, values in parsed.items()}
        repeated = sorted(name for name, values in parsed.items() if len(values) > 1)
        if repeated:
            raise bad_request(f"{repeated[0]} may be given only once")
        query = {name: values[0] for name, values in parsed.items()}
        error = schema_error(
            validator(op.query), query, titles=self.titles.get(op.operation_id), noun="query parameter"
        )
        if error is not None:
            raise error
        return query


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        yield from value
        for item in value.values():
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _without_write_only(op: Operation, response: Response) -> Any:
    """The handler's body with any writeOnly field removed: a last guard, logged as a bug."""
    body = {} if response.body is None else response.body
    ref = op.response_schema(response.status)
    if not ref or response.status >= 400 or not isinstance(body, (dict, list)):
        return body
    # The exact check is slow on long lists; most bodies have no key that could be write-only.
    if write_only_fields(ref).isdisjoint(_keys(body)):
        return body
    for pointer in sorted(annotated_pointers(ref, body), reverse=True):
        log.warning("sandbox: %s returned the write-only field %s; removed", op.operation_id, pointer)
        *parents, last = [token.replace("~1", "/").replace("~0", "~") for token in pointer.split("/")[1:]]
        holder: Any = body
        for token in parents:
            holder = holder[int(token)] if isinstance(holder, list) else holder[token]
        holder.pop(last, None)
    return body


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    sandbox: Sandbox


class _Server6(_Server):
    address_family = socket.AF_INET6


class _HTTPHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sunco-sandbox"
    sys_version = ""
    # Headers and body go out as two writes; with Nagle on, each answer waits ~40 ms for an ACK.
    disable_nagle_algorithm = True
    server: _Server

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
