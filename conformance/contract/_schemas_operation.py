"""An operation as the index describes it: method, path, parameters, bodies and answers by status."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

JSON_TYPE = "application/json"


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    required: bool = False
    style: str = "form"
    explode: bool = True


@dataclass(frozen=True)
class Response:
    content: Mapping[str, str | None] = field(default_factory=dict)
    error_codes: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operation:
    """One API operation as the index describes it."""

    operation_id: str
    method: str
    path: str
    tag: str = ""
    parameters: tuple[Parameter, ...] = ()
    params: Mapping[str, str] = field(default_factory=dict)
    request_content: Mapping[str, str | None] = field(default_factory=dict)
    request_required: bool = False
    responses: Mapping[str, Response] = field(default_factory=dict)
    vendor_statuses: tuple[str, ...] = ()
    security: tuple[Mapping[str, tuple[str, ...]], ...] = ()

    @property
    def label(self) -> str:
        """How failures name it: ``CreateIntegration (POST /v2/apps/{appId}/integrations)``."""
        return f"{self.operation_id} ({self.method} {self.path})"

    @property
    def request(self) -> str | None:
        """The JSON request body schema, if the operation takes one."""
        return self.request_content.get(JSON_TYPE)

    @property
    def query(self) -> str | None:
        return self.params.get("query")

    @property
    def documented_statuses(self) -> tuple[int, ...]:
        return tuple(sorted(int(status) for status in self.responses if status.isdigit()))

    @property
    def authenticated(self) -> bool:
        return bool(self.security)

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(scope for item in self.security for scopes in item.values() for scope in scopes)

    def refuses(self, scope: str) -> bool:
        """Whether a key of ``scope`` may not call it: its security names scopes, and not this one."""
        return bool(self.scopes) and scope not in self.scopes

    def documents(self, status: int) -> bool:
        return str(status) in self.responses

    def response_schema(self, status: int, media: str = JSON_TYPE) -> str | None:
        answer = self.responses.get(str(status)) or self.responses.get("default")
        return answer.content.get(media) if answer else None

    def response_media(self, status: int) -> tuple[str, ...]:
        answer = self.responses.get(str(status)) or self.responses.get("default")
        return tuple(answer.content) if answer else ()

    def error_codes(self, status: int) -> tuple[str, ...]:
        answer = self.responses.get(str(status))
        return answer.error_codes if answer else ()

    def parameter(self, name: str, location: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name and p.location == location), None)


def operation_from_index(operation_id: str, entry: Mapping[str, Any]) -> Operation:
    request = entry.get("request") or {}
    return Operation(
        operation_id=operation_id,
        method=str(entry["method"]).upper(),
        path=entry["path"],
        tag=entry.get("tag", ""),
        parameters=tuple(
            Parameter(p["name"], p["in"], bool(p.get("required")), p.get("style", "form"), bool(p.get("explode")))
            for p in entry.get("parameters", [])
        ),
        params=dict(entry.get("params") or {}),
        request_content=dict(request.get("content") or {}),
        request_required=bool(request.get("required")),
        responses={
            str(status): Response(
                content=dict(answer.get("content") or {}),
                error_codes=tuple(answer.get("errorCodes", ())),
                headers=tuple(answer.get("headers", ())),
            )
            for status, answer in entry.get("responses", {}).items()
        },
        vendor_statuses=tuple(entry.get("vendorStatuses", ())),
        security=tuple({k: tuple(v) for k, v in item.items()} for item in entry.get("security", [])),
    )
