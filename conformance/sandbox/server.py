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

from conformance.contract.routing import Router
from conformance.contract.schemas import Contract, Operation, shipped
from conformance.sandbox.api import Handler, Incoming, Request, Response
from conformance.sandbox.auth import MINTED_KEYS, Credential, authenticate, authorize, check_key
from conformance.sandbox.behaviours import BEHAVIOURS, HANDLERS, SEEDS, wrapped
from conformance.sandbox.behaviours.webhooks import integration_key
from conformance.sandbox.crud import all_handlers
from conformance.sandbox.crud import titles as behaviour_titles
from conformance.sandbox.delivery import DeliveryPolicy, Outbox
from conformance.sandbox.errors import ApiError, bad_request, envelope, schema_error
from conformance.sandbox.faults import FaultPlan
from conformance.sandbox.fields import strip_write_only
from conformance.sandbox.params import read_query
from conformance.sandbox.parsing import load_json
from conformance.sandbox.realistic import REALISTIC, Profile
from conformance.sandbox.serving import BACKLOG, Serving
from conformance.sandbox.store import Store
from conformance.sandbox.wsgi import application

DEFAULT_APP_ID = "5a4db0c5a4db0c5a4db0c5a4"
DEFAULT_KEY_ID = "app_5a4db0c5a4db0c5a4db0c5a5"
DEFAULT_KEY_SECRET = "sandbox-secret-do-not-use-in-production"  # noqa: S105 - a fixed, public test value
DEFAULT_ACCOUNT_KEY_ID = "act_5a4db0c5a4db0c5a4db0c5a6"
DEFAULT_ACCOUNT_KEY_SECRET = "sandbox-account-secret-do-not-use-in-production"  # noqa: S105 - a fixed, public test value
APP_ID = re.compile(r"^[0-9a-f]{24}$")
# A Host header: a name or IPv4 address, or a bracketed IPv6 address, and an optional port.
_HOST = re.compile(r"^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$")
JSON_MEDIA_TYPE = "application/json"
# Names the test a request comes from (the suite sends it while recording): a seeded sandbox draws
# ids and times per test, so a test's cassette does not depend on the tests recorded before it.
TEST_HEADER = "X-Conformance-Test"
MAX_TEST_NAME = 1000
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
DEFAULT_READ_TIMEOUT = 10
DEFAULT_HEADER_TIMEOUT = 5
# Documented limits a test cannot reach as they are, so a sandbox may lower them.
DEFAULT_LIMITS = {
    "max_messages": 30_000,  # messages a conversation holds before a post answers 423
    "message_page_size": 100,  # messages per page of List Messages (page[size] does not apply)
}

log = logging.getLogger(__name__)


def _registered() -> tuple[dict[str, Handler], dict[str, dict[str, str]]]:
    return wrapped({**all_handlers(BEHAVIOURS), **HANDLERS}), behaviour_titles(BEHAVIOURS)


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
        header_timeout: int = DEFAULT_HEADER_TIMEOUT,
        limits: Mapping[str, int] | None = None,
        delivery: DeliveryPolicy | None = None,
        faults: str | None = None,
        realistic: bool = False,
        contract: Contract | None = None,
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
        if realistic and seed is not None:
            raise ValueError("a realistic sandbox reads the wall clock and draws fresh ids: it takes no seed")
        # Realistic: what the live service does where it legitimately differs (realistic.py).
        self.profile: Profile | None = REALISTIC if realistic else None
        self.store = Store(seed, object_ids=realistic)
        # Webhook deliveries of the events requests cause, made from threads of their own.
        self.outbox = Outbox(delivery)
        self.reset()
        # Seeded: same ids, and no Date header, so re-recording unchanged behaviour changes nothing.
        self.deterministic = seed is not None
        # The contract it serves (the shipped one unless told): routes, schemas, what handlers read.
        self.contract = contract or shipped()
        # A copy: the contract's index is shared, and tests add operations to a sandbox.
        self.operations: dict[str, Operation] = dict(self.contract.operations)
        self.router = Router(self.operations)
        registered, self.titles = _registered()
        # handlers override or add to the registered ones (tests inject failing ones).
        self.handlers: dict[str, Handler] = {**registered, **(handlers or {})}
        if read_timeout < 1:
            raise ValueError(f"read_timeout must be at least 1 second, got {read_timeout}")
        # Seconds a connection may sit idle, or stuck mid-body (then answered 408), before it is closed.
        self.read_timeout = read_timeout
        if header_timeout < 1:
            raise ValueError(f"header_timeout must be at least 1 second, got {header_timeout}")
        # Seconds a request's line and headers may take, from its first byte (or the accept), before a 408.
        self.header_timeout = header_timeout
        self._serving: Serving | None = None
        # Every Nth request answers 429, so clients can rehearse rate limiting (0: never).
        if throttle_every < 0:
            raise ValueError(f"throttle_every must be 0 (off) or a positive count, got {throttle_every}")
        self.throttle_every = throttle_every
        unknown = sorted(set(limits or {}) - set(DEFAULT_LIMITS))
        if unknown:
            raise ValueError(f"unknown limits {unknown}; known limits: {', '.join(DEFAULT_LIMITS)}")
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        for limit, amount in self.limits.items():
            if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
                raise ValueError(f"limit {limit} must be a positive integer, got {amount!r}")
        # Injected faults (sandbox/faults.py), repeatable for the seed (0 when unseeded).
        self.faults = FaultPlan(faults, seed or 0) if faults else None
        self._requests = 0
        self._count_lock = threading.Lock()

    # -- state -------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything but the app the sandbox serves and what the behaviours seed into it."""
        self.store.clear()
        self.store.insert(("app",), {"id": self.app_id, "displayName": "Sandbox app"})
        for seed in SEEDS:
            seed(self.store, self.app_id)

    def credential(self, key_id: str) -> Credential | None:
        """The key with that id: the sandbox's own app and account keys, or an app or integration key created
        through the API."""
        if key_id == self.key_id:
            return Credential(self.key_id, self.key_secret, "app", self.app_id)
        if key_id == self.account_key_id:
            return Credential(self.account_key_id, self.account_key_secret, "account")
        for app in self.store.records(("app",)):
            for key in self.store.records(("appKey", str(app["id"]))):
                if key.get("id") == key_id and isinstance(key.get("secret"), str):
                    return Credential(key_id, key["secret"], "app", str(app["id"]))
        minted = self.store.get(MINTED_KEYS, key_id)
        if minted is not None:
            return Credential(
                key_id, minted["secret"], minted["scope"], minted.get("appId"), minted.get("integrationId")
            )
        found = integration_key(self.store, key_id)
        if found is not None and isinstance(found[2].get("secret"), str):
            app_id, integration_id, key = found
            return Credential(key_id, key["secret"], "integration", app_id, integration_id)
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
                application(self, self.faults),
                sock,
                deterministic=self.deterministic,
                read_timeout=self.read_timeout,
                header_timeout=self.header_timeout,
            )
        except BaseException:
            sock.close()
            raise
        self.outbox.start()
        return self

    def stop(self) -> None:
        serving, self._serving = self._serving, None
        if serving is not None:
            serving.stop()
        self.outbox.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        if self._port == 0:
            raise RuntimeError("the sandbox has no port until it is started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def base_url(self, host: str | None) -> str:
        """The URL the client reached the sandbox by (``localhost`` or 127.0.0.1, say), for the URLs it
        answers with and recognises as its own; the listening address when the Host header is unusable."""
        if host and _HOST.match(host):
            return f"http://{host}"
        return self.url

    # -- requests ----------------------------------------------------------------------------

    def handle(self, incoming: Incoming) -> Response:
        """Answer one request; never raises, so the HTTP layer always has a JSON answer to send."""
        scope = incoming.headers.get(TEST_HEADER)
        try:
            with self.store.scope.of(scope[:MAX_TEST_NAME] if scope else None):
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
        if op.request_content and not op.request:
            self._form(op, incoming)
        query = read_query(self.contract, op, query_text)
        handler = self.handlers.get(op.operation_id)
        if handler is None:
            raise ApiError(501, "not_implemented", f"The sandbox does not implement {op.operation_id} yet")
        request = Request(
            op,
            path,
            match.params,
            query,
            body,
            self.base_url(incoming.headers.get("Host")),
            self.app_id,
            self.store,
            credential,
            incoming.headers,
            incoming.media_type,
            incoming.form,
            incoming.files,
            self.limits,
            self.outbox,
            self.profile,
            self.contract,
        )
        response = handler(request)
        if response.content_type is not None:
            return response
        body = _without_write_only(self.contract, op, response)
        if self.profile is not None:
            body = self.profile.response(body)
        return Response(response.status, body, response.headers)

    def _body(self, op: Operation, incoming: Incoming) -> Any:
        sent = incoming.media_type or ("a body without Content-Type" if incoming.body else "")
        if not op.request_required and not incoming.body and not incoming.form:
            return None  # an optional body left out (Release Control, Sync User)
        ref = op.request
        if sent == FORM_MEDIA_TYPE and sent in op.request_content:
            # A form-encoded body is the object of its fields (OAuth token requests).
            body: Any = _form_object(incoming)
            ref = op.request_content[sent]
        elif sent and sent != JSON_MEDIA_TYPE:
            takes = " or ".join(media for media in op.request_content if media in (JSON_MEDIA_TYPE, FORM_MEDIA_TYPE))
            raise ApiError(415, "unsupported_media_type", f"{op.operation_id} takes {takes}, not {sent}")
        else:
            body = load_json(incoming.body)
        if not isinstance(body, dict):
            raise bad_request("Request body must be a JSON object")
        error = schema_error(
            self.contract.validator(str(ref), "request"), body, titles=self.titles.get(op.operation_id)
        )
        if error is not None:
            raise error
        return body

    def _form(self, op: Operation, incoming: Incoming) -> None:
        """A body of another media type than JSON (a multipart upload): its type, then its fields and files."""
        allowed = tuple(op.request_content)
        sent = incoming.media_type or ("a body without Content-Type" if incoming.body else "")
        if sent and sent not in allowed:
            shown = " or ".join(allowed)
            raise ApiError(415, "unsupported_media_type", f"{op.operation_id} takes {shown}, not {sent}")
        ref = op.request_content.get(sent) or next(iter(op.request_content.values()))
        if ref is None:
            return
        # Files stand as their file names: the schema says only that they are (binary) strings.
        instance = {**incoming.form.to_dict(), **{name: f.filename or "" for name, f in incoming.files.items()}}
        error = schema_error(self.contract.validator(ref, "request"), instance, titles=self.titles.get(op.operation_id))
        if error is not None:
            raise error


def _form_object(incoming: Incoming) -> dict[str, str]:
    """The fields of a form-encoded body; a field given twice is a 400 (which one would count?)."""
    fields: dict[str, str] = {}
    for name, values in incoming.form.lists():
        if len(values) > 1:
            raise bad_request(f"{name[:40]} is given more than once")
        fields[name] = values[0]
    return fields


def _split(target: str) -> tuple[str, str]:
    """Path and query of a request target (origin or absolute form), both still percent-encoded."""
    try:
        parts = urlsplit(target)
    except ValueError:
        raise bad_request("The request target is not a valid URI") from None
    return parts.path, parts.query


def _without_write_only(contract: Contract, op: Operation, response: Response) -> Any:
    """The handler's body with any writeOnly field removed: a last guard, logged as a bug."""
    body = {} if response.body is None else response.body
    ref = op.response_schema(response.status)
    if ref and response.status < 400:
        for pointer in strip_write_only(contract, ref, body):
            log.warning("sandbox: %s returned the write-only field %s; removed", op.operation_id, pointer)
    return body
