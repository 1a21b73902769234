"""What the pipeline receives from HTTP, what a handler receives, and what both return."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import FileStorage, Headers, MultiDict

from conformance.contract.schemas import Contract, Operation, shipped
from conformance.sandbox.auth import Credential
from conformance.sandbox.delivery import Outbox
from conformance.sandbox.realistic import Profile
from conformance.sandbox.store import Store

JSON_TYPE = "application/json; charset=utf-8"


def _fields() -> MultiDict[str, str]:
    return MultiDict()


def _files() -> MultiDict[str, FileStorage]:
    return MultiDict()


@dataclass(frozen=True)
class Incoming:
    """One request as it came off the wire, framing and form decoding done, before routing.

    ``target`` is the request target as sent (path and query, still percent-encoded), so an
    encoded slash stays inside its path segment. ``body`` is empty when ``form``/``files`` hold
    a decoded form.
    """

    method: str
    target: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    media_type: str = ""
    form: MultiDict[str, str] = field(default_factory=_fields)
    files: MultiDict[str, FileStorage] = field(default_factory=_files)


@dataclass(frozen=True)
class Request:
    """One authenticated request, already routed and checked against its operation's schemas.

    ``query`` holds only the parameters the operation declares; ``body`` is the parsed JSON body
    for operations that take one. ``media_type`` is the Content-Type without its parameters.
    """

    operation: Operation
    path: str
    params: Mapping[str, str]
    query: Mapping[str, Any]
    body: Any
    base_url: str
    app_id: str
    store: Store
    credential: Credential | None = None
    headers: Headers = field(default_factory=Headers)
    media_type: str = ""
    form: MultiDict[str, str] = field(default_factory=_fields)
    files: MultiDict[str, FileStorage] = field(default_factory=_files)
    # the sandbox's limits (``max_messages``, ``message_page_size``), lowered so tests can reach them
    limits: Mapping[str, int] = field(default_factory=dict)
    # where webhook deliveries of the events this request causes go (see events.emit)
    outbox: Outbox | None = None
    # how this sandbox deviates from the seeded one in what it sends (realistic.py), if it does
    profile: Profile | None = None
    # the contract the sandbox serves: what handlers read schemas from
    contract: Contract = field(default_factory=shipped)


@dataclass(frozen=True)
class Response:
    """An answer. ``body`` is sent as JSON unless ``content_type`` is given: then it is sent as
    it is (``str`` as UTF-8, or ``bytes``), for the few operations that do not answer JSON."""

    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = None


def redirect(location: str, status: int = 302) -> Response:
    """A redirect with an empty body (OAuth authorize answers this way)."""
    return Response(status, b"", {"Location": location}, content_type="text/plain; charset=utf-8")


Handler = Callable[[Request], Response]
