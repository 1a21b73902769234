"""A small requests-based client that speaks to the API by operationId.

It knows nothing of cassettes: vcrpy patches the transport underneath it, so the same code
records, replays, or talks to a live app. An exchange the server broke off (a reset, a cut-off
answer) leaves no response for vcrpy to record: the client tells a listener (the session records a
stand-in), and in replay it reads that stand-in back as the same broken exchange.
"""

from __future__ import annotations

import email.utils
import hashlib
import http.client
import json
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import requests
import urllib3.exceptions

from conformance.cassettes.vcr_adapter import set_read_content
from conformance.contract.schemas import Contract, Operation, shipped
from conformance.model import FORM_TYPE, MULTIPART_TYPE, Exchange, FormBody, MultipartBody, RawBody
from conformance.transport.bounded import STEP, AnswerTooLarge, BoundedAdapter, deadline, too_large
from conformance.transport.prepared import prepare
from conformance.transport.settings import Settings

JSON_TYPE = "application/json"
# Repeating one of these has the effect of sending it once (RFC 9110 9.2.2): safe to retry after a 5xx.
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Marks a recorded exchange that got no whole answer, so replay breaks it the same way.
BROKEN_HEADER = "X-Conformance-Broken"
# Names the test a recorded request comes from: a seeded sandbox draws ids and times per test.
# Never recorded (the scrubber drops it) and never matched, so replay does not depend on it.
TEST_HEADER = "X-Conformance-Test"
# Told about each retry before its wait: (operation, attempt that failed, seconds to wait, what it got).
RetryListener = Callable[[Operation, int, float, str], None]


@dataclass(frozen=True)
class Broken:
    """An exchange the server broke off: ``reset`` (no answer at all) or ``truncated`` (part of one), or
    one whose answer went past SUNCO_MAX_RESPONSE_BYTES (``oversized``: reading stopped there)."""

    kind: str
    detail: str

    @property
    def what(self) -> str:
        if self.kind == "truncated":
            return f"the answer was cut off ({self.detail})"
        if self.kind == "oversized":
            return self.detail
        return f"the connection broke before an answer ({self.detail})"

    def marker(self) -> dict[str, Any]:
        """The recorded stand-in for the answer that never came (vcrpy's response layout)."""
        return {
            "status": {"code": 0, "message": "no answer"},
            "headers": {BROKEN_HEADER: [f"{self.kind}; {self.detail}"]},
            "body": {"string": b""},
        }

    @classmethod
    def parse(cls, value: str) -> Broken:
        kind, _, detail = value.partition("; ")
        return cls(kind if kind in ("reset", "truncated", "oversized") else "reset", detail)


def recorded_break(response: Mapping[str, Any]) -> Broken | None:
    """The broken exchange a recorded response stands for (see ``Broken.marker``), or None for a real answer."""
    headers = response.get("headers") or {}
    for name, values in headers.items():
        if name.lower() == BROKEN_HEADER.lower():
            value = values[0] if isinstance(values, list) and values else values
            return Broken.parse(value.decode() if isinstance(value, bytes) else str(value))
    return None


def recorded_outcome(response: Mapping[str, Any]) -> str:
    """A recorded answer in a few words: its status, or what broke."""
    found = recorded_break(response)
    return f"no answer ({found.kind})" if found else str(response["status"]["code"])


# Listener for each broken attempt, retried or not, with the request sent (to record it in order).
BrokenListener = Callable[[requests.PreparedRequest, Broken], None]


class BrokenExchange(requests.ConnectionError):
    """The server broke the exchange off, and it was not retried (or every retry broke too)."""

    def __init__(self, op: Operation, broken: Broken, attempts: int, retried: list[str]) -> None:
        super().__init__(broken.what)
        self.operation = op
        self.broken = broken
        self.attempts = attempts
        self.retried = retried


def retryable(method: str, status: int) -> bool:
    """A 429 is always retried; a 5xx only when repeating the request is safe (never POST or PATCH)."""
    return status == 429 or (status >= 500 and method.upper() in IDEMPOTENT)


@dataclass(frozen=True)
class RetryPolicy:
    """How answers worth another attempt are retried: ``Retry-After`` when given, else exponential
    backoff with jitter, within ``max_attempts`` and ``max_total`` seconds of waiting."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_total: float = 120.0

    def delay(self, attempt: int, retry_after: str | None, now: float | None = None) -> float:
        parsed = parse_retry_after(retry_after, now)
        if parsed is not None:
            return min(parsed, self.max_delay)
        ceiling = self.ceiling(attempt)
        return random.uniform(ceiling / 2, ceiling)

    def bound(self, attempt: int, retry_after: str | None, now: float | None = None) -> float:
        """The most ``delay`` can be. It is what counts against ``max_total``, so whether a retry happens
        never depends on the jitter, and replay retries exactly where the recording did."""
        parsed = parse_retry_after(retry_after, now)
        return min(parsed, self.max_delay) if parsed is not None else self.ceiling(attempt)

    def ceiling(self, attempt: int) -> float:
        return float(min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds, or an HTTP date counted from ``now``)."""
    if not value:
        return None
    value = value.strip()
    # str.isdigit() holds for '²' (a 0xB2 byte read as Latin-1) and other digits float() refuses.
    if value.isascii() and value.isdigit():
        return float(value)
    when = _http_date(value)
    if when is None:
        return None
    return max(0.0, when - (time.time() if now is None else now))


def _http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(email.utils.parsedate_to_datetime(value).timestamp())
    except (TypeError, ValueError):
        return None


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and every exception inside it: causes, contexts, and exceptions passed as arguments."""
    seen: set[int] = set()
    todo: list[BaseException] = [error]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend(arg for arg in current.args if isinstance(arg, BaseException))
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def broken(error: BaseException) -> Broken | None:
    """What a transport error says of the exchange: broken off by a server that was reached, or None
    when no server was reached at all (refused, unresolvable, timed out), which is another story."""
    chain = list(_chain(error))
    unreached = (urllib3.exceptions.ConnectTimeoutError, requests.Timeout, ConnectionRefusedError)
    if any(isinstance(e, unreached) for e in chain):
        return None
    cut = (http.client.IncompleteRead, urllib3.exceptions.IncompleteRead, requests.exceptions.ChunkedEncodingError)
    dropped = (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, urllib3.exceptions.ProtocolError)
    for kind, types in (("truncated", cut), ("reset", dropped)):
        if any(isinstance(e, types) for e in chain):
            inner = chain[-1]
            return Broken(kind, f"{type(inner).__name__}: {inner}" if str(inner) else type(inner).__name__)
    return None


@dataclass
class _Attempts:
    """What the attempts of one call got so far, and the waiting they cost against the bound."""

    retried: list[str] = field(default_factory=list)
    waited: float = 0.0
    broken: int = 0


class Client:
    def __init__(
        self,
        settings: Settings,
        *,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: tuple[float, float] | None = None,
        on_retry: RetryListener | None = None,
        on_broken: BrokenListener | None = None,
        replaying: bool = False,
        transport: requests.adapters.BaseAdapter | None = None,
        test: str | None = None,
        contract: Contract | None = None,
    ) -> None:
        """``transport`` answers every request in place of the network (replay's cassette adapter);
        ``test`` names the test every request comes from (``TEST_HEADER``); ``contract`` is where
        operations are looked up (the shipped one for a caller given none)."""
        self.settings = settings
        self.contract = contract or shipped()
        self.session = session or _session(settings, replaying, transport)
        if test is not None:
            self.session.headers[TEST_HEADER] = test
        # A session of our own whose transport answers in-process holds no cookies, auth, params or
        # hooks, and needs no redirect bookkeeping: its requests are prepared and handed over directly.
        self._direct = session is None and transport is not None
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.timeout = timeout or settings.timeout
        self.on_retry = on_retry
        self.on_broken = on_broken
        # Replay turns recorded broken exchanges back into broken exchanges.
        self.replaying = replaying
        self._authorization: dict[bool, str] = {}

    def authorization(self, op: Operation | None = None, app_id: str | None = None) -> str:
        """The Authorization header; an account-scope operation, or one on another app, uses the account key.

        Built by the settings, not by requests: its Basic auth encodes Latin-1, the API reads UTF-8.
        """
        account = self.uses_account(op, app_id)
        if account not in self._authorization:
            self._authorization[account] = self.settings.authorization(account=account)
        return self._authorization[account]

    def uses_account(self, op: Operation | None, app_id: str | None = None) -> bool:
        """Whether a call of ``op`` on ``app_id`` signs with the account key rather than the configured one."""
        other_app = app_id is not None and app_id != self.settings.app_id
        return op is not None and bool(self.settings.account_key_id) and (needs_account(op) or other_app)

    def path_for(self, op: Operation, path_params: Mapping[str, str]) -> str:
        params = {"appId": self.settings.app_id, **path_params}
        return op.path.format(**{name: quote(str(value), safe="") for name, value in params.items()})

    def call(
        self,
        operation_id: str,
        *,
        path_params: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        authenticate: bool = True,
        authorization: str | None = None,
    ) -> Exchange:
        """One operation, retried within the policy's bounds where that is safe.

        ``authorization`` replaces the settings' credentials (an OAuth access token). Raises
        BrokenExchange when the server broke the last attempt off, and requests' own errors when
        no server answered at all.
        """
        op = self.contract.operation(operation_id)
        path = self.path_for(op, path_params or {})
        headers = {"Accept": accepted(op)}
        if authorization is not None:
            headers["Authorization"] = authorization
        elif authenticate:
            headers["Authorization"] = self.authorization(op, (path_params or {}).get("appId"))
        data, content_type = encode_body(body)
        if content_type:
            headers["Content-Type"] = content_type
        request = {
            "method": op.method,
            "url": self.settings.base_url(op.tag) + path,
            "params": dict(query) if query else None,
            "data": data,
            "headers": headers,
        }
        attempts = _Attempts()
        while True:
            outcome = self._send(request)
            if not self._again(op, outcome, attempts):
                break
        count = len(attempts.retried) + 1
        if isinstance(outcome, Broken):
            raise BrokenExchange(op, outcome, count, attempts.retried)
        exchange = _exchange(op, outcome, path, body, count, attempts.retried)
        exchange.broken_attempts = attempts.broken
        exchange.contract = self.contract
        return exchange

    def _send(self, request: dict[str, Any]) -> requests.Response | Broken:
        try:
            if self._direct:
                response = self._send_direct(request)
            else:
                # A redirect is the answer under test (OAuth authorize), never a place to go.
                response = self.session.request(**request, timeout=self.timeout, allow_redirects=False, stream=True)
            self._read_whole(response)
        except AnswerTooLarge as error:
            return self._broke(request, Broken("oversized", str(error)), None)
        except requests.RequestException as error:
            late = deadline(error)
            if late is not None:
                raise requests.ReadTimeout(str(late)) from error
            oversized = too_large(error)
            if oversized is not None:
                return self._broke(request, Broken("oversized", str(oversized)), None)
            found = broken(error)
            if found is None:
                raise
            return self._broke(request, found, error.request)
        if self.replaying and BROKEN_HEADER in response.headers:
            return Broken.parse(response.headers[BROKEN_HEADER])
        return response

    def _send_direct(self, request: dict[str, Any]) -> requests.Response:
        """``request`` through the session's own transport, as ``Session.request`` would send it.

        That session holds nothing to merge in but its default headers, so the request is prepared
        as ``Session.prepare_request`` would prepare it, less the steps that find nothing there
        (cookies, environment, hooks); what ``Session.send`` adds afterwards (elapsed time, cookies
        from the answer, the next redirect) reads a socket's answer, and there is none.
        """
        session = self.session
        prepared = prepare(session, request)
        adapter = session.get_adapter(prepared.url or "")
        return adapter.send(
            prepared,
            stream=True,
            timeout=self.timeout,
            verify=True if session.verify is None else session.verify,
            cert=session.cert,
            proxies={},
        )

    def _broke(self, request: dict[str, Any], found: Broken, sent: Any) -> Broken:
        """Tell the listener (it records a stand-in in order) and give the broken exchange back."""
        if self.on_broken is not None:
            prepared = sent if isinstance(sent, requests.PreparedRequest) else None
            self.on_broken(prepared or self.session.prepare_request(requests.Request(**request)), found)
        return found

    def _read_whole(self, response: requests.Response) -> None:
        """The body, read a step at a time and decompressed, up to SUNCO_MAX_RESPONSE_BYTES; past it,
        reading stops (the transport counts what vcrpy reads itself while recording)."""
        limit = None if self.replaying else self.settings.max_response_bytes
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(STEP):
                size += len(chunk)
                if limit is not None and size > limit:
                    raise AnswerTooLarge(limit, "once decompressed")
                chunks.append(chunk)
        except BaseException:
            response.close()
            raise
        set_read_content(response, b"".join(chunks))

    def _again(self, op: Operation, outcome: requests.Response | Broken, attempts: _Attempts) -> bool:
        """Whether to send the request once more; waits first when so."""
        attempt = len(attempts.retried) + 1
        if isinstance(outcome, Broken):
            # An answer too large would be as large again.
            safe = op.method in IDEMPOTENT and outcome.kind != "oversized"
            got, retry_after, now = outcome.what, None, None
        else:
            safe, got = retryable(op.method, outcome.status_code), f"answered {outcome.status_code}"
            # An HTTP-date Retry-After counts from the answer's own Date, so replay computes the same wait.
            retry_after, now = outcome.headers.get("Retry-After"), _http_date(outcome.headers.get("Date"))
        if not safe or attempt >= self.retry.max_attempts:
            return False
        bound = self.retry.bound(attempt, retry_after, now)
        if attempts.waited + bound > self.retry.max_total:
            return False
        wait = self.retry.delay(attempt, retry_after, now)
        attempts.retried.append(got)
        attempts.broken += isinstance(outcome, Broken)
        if self.on_retry is not None:
            self.on_retry(op, attempt, wait, got)
        self.sleep(wait)
        attempts.waited += bound
        return True


def _session(
    settings: Settings, replaying: bool, transport: requests.adapters.BaseAdapter | None = None
) -> requests.Session:
    """A session that reads the environment's proxy and CA settings once, not on every request.

    requests would look them up for each call (a scan of the environment, most of a replayed
    exchange's cost); replay never leaves the process, so it needs none of them.
    """
    session = requests.Session()
    if not replaying:
        found = session.merge_environment_settings(settings.api_url, {}, None, None, None)
        session.proxies.update(found.get("proxies") or {})
        session.verify = found.get("verify", True)
    session.trust_env = False
    # The network's answers are bounded in time and size; replay's cassette adapter reads no socket.
    adapter = transport or BoundedAdapter(settings.max_response_bytes)
    for prefix in ("http://", "https://"):
        session.mount(prefix, adapter)
    return session


def accepted(op: Operation) -> str:
    """The Accept header: the media types the operation documents (JSON for errors), JSON first."""
    documented = {media for status in op.documented_statuses for media in op.response_media(status)}
    return ", ".join([JSON_TYPE, *sorted(documented - {JSON_TYPE})])


def needs_account(op: Operation) -> bool:
    """An operation that app-scope keys may not call (apps, app keys)."""
    return bool(op.scopes) and "app" not in op.scopes and "account" in op.scopes


def encode_body(body: Any) -> tuple[bytes | None, str | None]:
    """The bytes and Content-Type of a body. Multipart boundaries derive from the content, so a
    re-recording of the same variant sends the same bytes."""
    if body is None:
        return None, None
    if isinstance(body, RawBody):
        return body.text.encode(), body.content_type
    if isinstance(body, FormBody):
        return urlencode(body.fields).encode(), FORM_TYPE
    if isinstance(body, MultipartBody):
        return encode_multipart(body)
    return json.dumps(body).encode(), JSON_TYPE


def encode_multipart(body: MultipartBody) -> tuple[bytes, str]:
    digest = hashlib.sha256(repr(body).encode()).hexdigest()[:32]
    boundary = f"conformance-{digest}"
    chunks: list[bytes] = []
    for name, value in body.fields:
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        chunks.append(value.encode() + b"\r\n")
    for part in body.files:
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{part.name}"; filename="{part.filename}"\r\n'
            f"Content-Type: {part.content_type}\r\n\r\n".encode()
        )
        chunks.append(part.content + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"{MULTIPART_TYPE}; boundary={boundary}"


def _exchange(
    op: Operation, response: requests.Response, path: str, body: Any, attempts: int, retried: list[str]
) -> Exchange:
    exchange = Exchange(
        operation=op,
        method=op.method,
        url=response.url,
        path=path,
        request_body=body,
        status=response.status_code,
        headers=dict(response.headers),
        text=response.text,
        attempts=attempts,
        retried=list(retried),
    )
    if response.content:
        try:
            exchange.body = response.json()
            exchange.body_is_json = True
        except ValueError:
            exchange.body = None
    return exchange
