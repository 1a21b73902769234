"""Apps and app keys: key ids with their prefix, and the secret a new key is handed."""

from __future__ import annotations

from typing import Any

from conformance.sandbox.api import Request
from conformance.sandbox.crud import Behaviour
from conformance.sandbox.store import Record


def _app_key_id(request: Request) -> str:
    return "app_" + request.store.tokens.new_id()


def _secret(record: Record, body: dict[str, Any], request: Request) -> None:
    record["secret"] = request.store.tokens.hex(32)


BEHAVIOURS: dict[str, Behaviour] = {"appKey": Behaviour(new_id=_app_key_id, on_create=_secret)}
