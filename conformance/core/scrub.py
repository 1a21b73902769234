"""Secrets out before anything is written.

Credentials are replaced by fixed placeholders in every request and response vcrpy is about to
store, in the pinned variants, and, as a last guard, in the serialized cassette text. The
placeholders are stable, so a replayed request that carries them matches the recording.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from typing import Any

from vcr.request import Request

from conformance.spec.schemas import load_index, write_only_fields

PLACEHOLDER = "<scrubbed>"
SECRET_PLACEHOLDER = "<scrubbed-secret>"  # noqa: S105 - the placeholder, not a secret
# Server-generated secrets: read-only, so not in the writeOnly set, yet still credentials.
RESPONSE_SECRET_FIELDS = frozenset({"secret", "webhookSecret"})
# Credentials the documentation does not mark writeOnly (so the API may even return them).
UNMARKED_CREDENTIALS = frozenset(
    {
        "channelSecret",
        "channelAccessToken",
        "switcherSecret",
        "accountManagementAccessToken",
        "authenticationMessageSecret",
    }
)
DROPPED_HEADERS = ("cookie", "set-cookie", "x-api-key")


def write_only_names() -> frozenset[str]:
    """Every writeOnly property name of every request schema in the index, and known credentials."""
    names: set[str] = set()
    for op in load_index().values():
        if op.request:
            names |= write_only_fields(op.request)
    return frozenset(names | UNMARKED_CREDENTIALS)


class Scrubber:
    def __init__(self, secrets: Iterable[str] = (), fields: frozenset[str] | None = None) -> None:
        self.fields = write_only_names() if fields is None else fields
        # Longest first, so a secret that contains another is replaced whole.
        self.secrets = sorted({value for value in secrets if value and len(value) >= 4}, key=len, reverse=True)

    def text(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, SECRET_PLACEHOLDER)
        return text

    def json_value(self, value: Any, fields: frozenset[str]) -> Any:
        """A copy of ``value`` with string values under secret keys replaced, at any depth."""
        if isinstance(value, dict):
            return {
                key: PLACEHOLDER if key in fields and isinstance(item, str) else self.json_value(item, fields)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self.json_value(item, fields) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def body(self, raw: bytes | str | None, fields: frozenset[str]) -> bytes | str | None:
        if raw is None or raw in (b"", ""):
            return raw
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        try:
            parsed = json.loads(text)
        except ValueError:
            cleaned = self.text(text)
        else:
            cleaned = json.dumps(self.json_value(parsed, fields), ensure_ascii=False, separators=(",", ":"))
        return cleaned.encode() if isinstance(raw, bytes) else cleaned

    def request(self, request: Request) -> Request:
        """vcrpy's ``before_record_request``: it also runs on every replayed request, so it must be idempotent."""
        request = copy.copy(request)
        request.headers = dict(request.headers)
        for name in list(request.headers):
            lower = name.lower()
            if lower == "authorization":
                scheme = str(request.headers[name]).split(" ", 1)[0]
                request.headers[name] = f"{scheme} {PLACEHOLDER}"
            elif lower in DROPPED_HEADERS:
                del request.headers[name]
            else:
                request.headers[name] = self.text(str(request.headers[name]))
        request.uri = self.text(request.uri)
        request.body = self.body(request.body, self.fields)
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        """vcrpy's ``before_record_response`` (it receives a copy already)."""
        headers = response.get("headers", {})
        for name in list(headers):
            if name.lower() in DROPPED_HEADERS:
                del headers[name]
            else:
                headers[name] = [self.text(str(value)) for value in headers[name]]
        body = response.get("body", {})
        if "string" in body:
            body["string"] = self.body(body["string"], self.fields | RESPONSE_SECRET_FIELDS)
        return response

    def variant_body(self, body: Any) -> Any:
        return self.json_value(body, self.fields)
