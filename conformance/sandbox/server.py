"""The sandbox's HTTP server: generic routing, authentication and validation in front of handlers.

Nothing here knows any one operation: routes come from the schema index, checks from the
operation's schemas, and behaviour from the handler registered under its operationId.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from conformance.sandbox import integrations
from conformance.sandbox.api import Handler, Request, Response
from conformance.sandbox.auth import authenticate, check_key
from conformance.sandbox.errors import ApiError, bad_request, envelope, schema_error
from conformance.sandbox.fields import strip_write_only
from conformance.sandbox.routing import Router
from conformance.sandbox.store import Store
from conformance.sandbox.transport import HTTPServer4, HTTPServer6, RequestHandler
from conformance.spec.schemas import Operation, load_index, validator

DEFAULT_APP_ID = "5a4db0c5a4db0c5a4db0c5a4"
DEFAULT_KEY_ID = "app_5a4db0c5a4db0c5a4db0c5a5"
DEFAULT_KEY_SECRET = "sandbox-secret-do-not-use-in-production"  # noqa: S105 - a fixed, public test value
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
        throttle_every: int = 0,
        seed: int | None = None,
    ) -> None:
        if not APP_ID.match(app_id):
            raise ValueError(f"app_id must be 24 lowercase hexadecimal characters, got {app_id!r}")
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be from 0 to 65535, got {port}")
        check_key("key_id", key_id)
        check_key("key_secret", key_secret)
        self.host, self.app_id, self.key_id, self.key_secret = host, app_id, key_id, key_secret
        self._port = port
        self.store = Store(seed)
        # Seeded: same ids, and no Date header, so re-recording unchanged behaviour changes nothing.
        self.deterministic = seed is not None
        self.operations: dict[str, Operation] = load_index()
        self.router = Router(self.operations)
        registered, self.titles = _registered()
        # handlers override or add to the registered ones (tests inject failing ones).
        self.handlers: dict[str, Handler] = {**registered, **(handlers or {})}
        self._server: HTTPServer4 | None = None
        self._thread: threading.Thread | None = None
        # Every Nth request answers 429, so clients can rehearse rate limiting (0: never).
        if throttle_every < 0:
            raise ValueError(f"throttle_every must be 0 (off) or a positive count, got {throttle_every}")
        self.throttle_every = throttle_every
        self._requests = 0
        self._count_lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        server_class = HTTPServer6 if ":" in self.host else HTTPServer4
        self._server = server_class((self.host, self._port), RequestHandler)
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
            server.close_connections()
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

    def _throttled(self) -> bool:
        if not self.throttle_every:
            return False
        with self._count_lock:
            self._requests += 1
            return self._requests % self.throttle_every == 0

    def _handle(self, method: str, target: str, authorization: str | None, raw: bytes) -> Response:
        if self._throttled():
            raise ApiError(429, "too_many_requests", "Too many requests; retry later", headers={"Retry-After": "0"})
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
        query = _expand_deep_objects({name: values[0] for name, values in parsed.items()})
        error = schema_error(
            validator(op.query), query, titles=self.titles.get(op.operation_id), noun="query parameter"
        )
        if error is not None:
            raise error
        return query


def _expand_deep_objects(query: dict[str, str]) -> dict[str, str]:
    """``page={"size": 3}`` read as ``page[size]=3``.

    The vendor's generated Python client sends deepObject parameters as JSON; accepting both forms
    lets that client drive the sandbox as it would the API.
    """
    expanded: dict[str, str] = {}
    for name, value in query.items():
        try:
            parsed = json.loads(value) if value.startswith("{") else None
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and "[" not in name:
            for key, item in parsed.items():
                if item is not None:
                    expanded[f"{name}[{key}]"] = item if isinstance(item, str) else json.dumps(item)
        else:
            expanded[name] = value
    return expanded


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _without_write_only(op: Operation, response: Response) -> Any:
    """The handler's body with any writeOnly field removed: a last guard, logged as a bug."""
    body = {} if response.body is None else response.body
    ref = op.response_schema(response.status)
    if ref and response.status < 400:
        for pointer in strip_write_only(ref, body):
            log.warning("sandbox: %s returned the write-only field %s; removed", op.operation_id, pointer)
    return body
