"""The sandbox: its lifecycle, and the generic steps (routing, authentication, validation) in front of handlers.

Nothing here knows any one operation: routes come from the schema index, checks from the
operation's schemas, and behaviour from the handler registered under its operationId. HTTP
itself is ``wsgi.py`` (werkzeug) served by ``serving.py`` (waitress).
"""

from __future__ import annotations

import logging
import re
import socket
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from conformance.sandbox.api import Handler, Incoming, Request, Response
from conformance.sandbox.auth import Credential, authenticate, authorize, check_key
from conformance.sandbox.behaviours import BEHAVIOURS, HANDLERS
from conformance.sandbox.crud import all_handlers
from conformance.sandbox.crud import titles as behaviour_titles
from conformance.sandbox.errors import ApiError, bad_request, envelope, schema_error
from conformance.sandbox.faults import FaultPlan
from conformance.sandbox.fields import strip_write_only
from conformance.sandbox.params import read_query
from conformance.sandbox.parsing import load_json
from conformance.sandbox.serving import BACKLOG, Serving
from conformance.sandbox.store import Store
from conformance.sandbox.wsgi import application
from conformance.spec.routing import Router
from conformance.spec.schemas import Operation, load_index, validator

DEFAULT_APP_ID = "5a4db0c5a4db0c5a4db0c5a4"
DEFAULT_KEY_ID = "app_5a4db0c5a4db0c5a4db0c5a5"
DEFAULT_KEY_SECRET = "sandbox-secret-do-not-use-in-production"  # noqa: S105 - a fixed, public test value
DEFAULT_ACCOUNT_KEY_ID = "act_5a4db0c5a4db0c5a4db0c5a6"
DEFAULT_ACCOUNT_KEY_SECRET = "sandbox-account-secret-do-not-use-in-production"  # noqa: S105 - a fixed, public test value
APP_ID = re.compile(r"^[0-9a-f]{24}$")
JSON_MEDIA_TYPE = "application/json"
DEFAULT_READ_TIMEOUT = 10

log = logging.getLogger(__name__)


def _registered() -> tuple[dict[str, Handler], dict[str, dict[str, str]]]:
    return {**all_handlers(BEHAVIOURS), **HANDLERS}, behaviour_titles(BEHAVIOURS)


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
        account_key_id: str = DEFAULT_ACCOUNT_KEY_ID,
        account_key_secret: str = DEFAULT_ACCOUNT_KEY_SECRET,
        read_timeout: int = DEFAULT_READ_TIMEOUT,
        faults: str | None = None,
    ) -> None:
        if not APP_ID.match(app_id):
            raise ValueError(f"app_id must be 24 lowercase hexadecimal characters, got {app_id!r}")
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be from 0 to 65535, got {port}")
        for name, value in (("key_id", key_id), ("key_secret", key_secret), ("account_key_id", account_key_id),
                            ("account_key_secret", account_key_secret)):  # fmt: skip
            check_key(name, value)
        self.host, self.app_id, self.key_id, self.key_secret = host, app_id, key_id, key_secret
        self._port = port
        self.account_key_id, self.account_key_secret = account_key_id, account_key_secret
        self.store = Store(seed)
        self.reset()
        # Seeded: same ids, and no Date header, so re-recording unchanged behaviour changes nothing.
        self.deterministic = seed is not None
        # A copy: load_index() is cached, and tests add operations to a sandbox.
        self.operations: dict[str, Operation] = dict(load_index())
        self.router = Router(self.operations)
        registered, self.titles = _registered()
        # handlers override or add to the registered ones (tests inject failing ones).
        self.handlers: dict[str, Handler] = {**registered, **(handlers or {})}
        if read_timeout < 1:
            raise ValueError(f"read_timeout must be at least 1 second, got {read_timeout}")
        # Seconds a connection may sit idle, or stuck mid-body (then answered 408), before it is closed.
        self.read_timeout = read_timeout
        self._serving: Serving | None = None
        # Every Nth request answers 429, so clients can rehearse rate limiting (0: never).
        if throttle_every < 0:
            raise ValueError(f"throttle_every must be 0 (off) or a positive count, got {throttle_every}")
        self.throttle_every = throttle_every
        # Injected faults (sandbox/faults.py), repeatable for the seed (0 when unseeded).
        self.faults = FaultPlan(faults, seed or 0) if faults else None
        self._requests = 0
        self._count_lock = threading.Lock()

    # -- state -------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything but the app the sandbox serves."""
        self.store.clear()
        self.store.insert(("app",), {"id": self.app_id, "displayName": "Sandbox app"})

    def credential(self, key_id: str) -> Credential | None:
        """The key with that id: the sandbox's own app and account keys, or an app key created through the API."""
        if key_id == self.key_id:
            return Credential(self.key_id, self.key_secret, "app", self.app_id)
        if key_id == self.account_key_id:
            return Credential(self.account_key_id, self.account_key_secret, "account")
        for app in self.store.records(("app",)):
            for key in self.store.records(("appKey", str(app["id"]))):
                if key.get("id") == key_id and isinstance(key.get("secret"), str):
                    return Credential(key_id, key["secret"], "app", str(app["id"]))
        return None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Sandbox:
        if self._serving is not None:
            return self
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.create_server((self.host, self._port), family=family, backlog=BACKLOG)
        # Keep the bound port: the URL stays valid after stop(), and a restart reuses it.
        self._port = int(sock.getsockname()[1])
        try:
            self._serving = Serving(
                application(self, self.faults), sock, deterministic=self.deterministic, read_timeout=self.read_timeout
            )
        except BaseException:
            sock.close()
            raise
        return self

    def stop(self) -> None:
        serving, self._serving = self._serving, None
        if serving is not None:
            serving.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._serving is not None

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

    def handle(self, incoming: Incoming) -> Response:
        """Answer one request; never raises, so the HTTP layer always has a JSON answer to send."""
        try:
            return self._handle(incoming)
        except ApiError as error:
            return Response(error.status, error.body(), error.headers)
        except Exception:
            log.exception("sandbox: unhandled error answering %s %s", incoming.method, incoming.target[:200])
            return Response(500, envelope("internal_error", "The sandbox failed to handle the request"))

    def _throttled(self) -> bool:
        if not self.throttle_every:
            return False
        with self._count_lock:
            self._requests += 1
            return self._requests % self.throttle_every == 0

    def _handle(self, incoming: Incoming) -> Response:
        if self._throttled():
            raise ApiError(429, "too_many_requests", "Too many requests; retry later", headers={"Retry-After": "0"})
        method = incoming.method.upper()
        path, query_text = _split(incoming.target)
        match = self.router.match(method, path)
        if match is None:
            raise ApiError(404, "not_found", f"No such resource: {path[:200]}")
        if match.operation is None:
            allowed = ", ".join(match.allowed)
            raise ApiError(
                405, "method_not_allowed", f"{method} is not allowed here; use {allowed}", headers={"Allow": allowed}
            )
        op = match.operation
        credential = authenticate(incoming.headers.get("Authorization"), self.credential) if op.authenticated else None
        app_id = match.params.get("appId")
        if app_id is not None and self.store.get(("app",), app_id) is None:
            raise ApiError(404, "app_not_found", "App not found")
        if credential is not None:
            authorize(credential, op.scopes, app_id)
        body = self._body(op, incoming) if op.request else None
        query = read_query(op, query_text)
        handler = self.handlers.get(op.operation_id)
        if handler is None:
            raise ApiError(501, "not_implemented", f"The sandbox does not implement {op.operation_id} yet")
        request = Request(
            op,
            path,
            match.params,
            query,
            body,
            self.url,
            self.app_id,
            self.store,
            credential,
            incoming.headers,
            incoming.media_type,
            incoming.form,
            incoming.files,
        )
        response = handler(request)
        if response.content_type is not None:
            return response
        return Response(response.status, _without_write_only(op, response), response.headers)

    def _body(self, op: Operation, incoming: Incoming) -> Any:
        sent = incoming.media_type or ("a body without Content-Type" if incoming.body else "")
        if sent and sent != JSON_MEDIA_TYPE:
            raise ApiError(415, "unsupported_media_type", f"{op.operation_id} takes {JSON_MEDIA_TYPE}, not {sent}")
        body = load_json(incoming.body)
        if not isinstance(body, dict):
            raise bad_request("Request body must be a JSON object")
        error = schema_error(validator(str(op.request), "request"), body, titles=self.titles.get(op.operation_id))
        if error is not None:
            raise error
        return body


def _split(target: str) -> tuple[str, str]:
    """Path and query of a request target (origin or absolute form), both still percent-encoded."""
    try:
        parts = urlsplit(target)
    except ValueError:
        raise bad_request("The request target is not a valid URI") from None
    return parts.path, parts.query


def _without_write_only(op: Operation, response: Response) -> Any:
    """The handler's body with any writeOnly field removed: a last guard, logged as a bug."""
    body = {} if response.body is None else response.body
    ref = op.response_schema(response.status)
    if ref and response.status < 400:
        for pointer in strip_write_only(ref, body):
            log.warning("sandbox: %s returned the write-only field %s; removed", op.operation_id, pointer)
    return body
