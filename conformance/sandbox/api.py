"""What a handler receives and returns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.sandbox.auth import Credential
from conformance.sandbox.store import Store
from conformance.spec.schemas import Operation


@dataclass(frozen=True)
class Request:
    """One authenticated request, already routed and checked against its operation's schemas."""

    operation: Operation
    path: str
    params: Mapping[str, str]
    query: Mapping[str, Any]
    body: Any
    base_url: str
    app_id: str
    store: Store
    credential: Credential | None = None


@dataclass(frozen=True)
class Response:
    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Response]
