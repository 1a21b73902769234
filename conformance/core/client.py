"""A small requests-based client that speaks to the API by operationId.

It knows nothing of cassettes: vcrpy patches the transport underneath it, so the same code
records, replays, or talks to a live app.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import requests

from conformance.core.model import FORM_TYPE, MULTIPART_TYPE, Exchange, FormBody, MultipartBody, RawBody
from conformance.core.settings import Settings
from conformance.spec.schemas import Operation, operation

JSON_TYPE = "application/json"


@dataclass(frozen=True)
class RetryPolicy:
    """How a 429 is retried: ``Retry-After`` when given, else exponential backoff with jitter."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_total: float = 120.0

    def delay(self, attempt: int, retry_after: str | None) -> float:
        parsed = parse_retry_after(retry_after)
        if parsed is not None:
            return min(parsed, self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class Client:
    def __init__(
        self,
        settings: Settings,
        *,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
    ) -> None:
        self.settings = settings
        self.session = session or requests.Session()
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.timeout = timeout
        self._authorization: dict[bool, str] = {}

    def authorization(self, op: Operation | None = None, app_id: str | None = None) -> str:
        """The Authorization header; an account-scope operation, or one on another app, uses the account key.

        Built by the settings, not by requests: its Basic auth encodes Latin-1, the API reads UTF-8.
        """
        other_app = app_id is not None and app_id != self.settings.app_id
        account = op is not None and bool(self.settings.account_key_id) and (needs_account(op) or other_app)
        if account not in self._authorization:
            self._authorization[account] = self.settings.authorization(account=account)
        return self._authorization[account]

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
        """Call an operation; ``authorization`` replaces the configured key's header (a key a test made)."""
        op = operation(operation_id)
        path = self.path_for(op, path_params or {})
        url = self.settings.api_url + path
        headers = {"Accept": JSON_TYPE}
        if authenticate:
            headers["Authorization"] = authorization or self.authorization(op, (path_params or {}).get("appId"))
        data, content_type = encode_body(body)
        if content_type:
            headers["Content-Type"] = content_type
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            response = self.session.request(
                op.method, url, params=dict(query or {}), data=data, headers=headers, timeout=self.timeout
            )
            if response.status_code != 429 or attempt >= self.retry.max_attempts:
                break
            wait = self.retry.delay(attempt, response.headers.get("Retry-After"))
            if waited + wait > self.retry.max_total:
                break
            self.sleep(wait)
            waited += wait
        return _exchange(op, response, path, body, attempt)


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


def _exchange(op: Operation, response: requests.Response, path: str, body: Any, attempts: int) -> Exchange:
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
    )
    if response.content:
        try:
            exchange.body = response.json()
            exchange.body_is_json = True
        except ValueError:
            exchange.body = None
    return exchange
