"""The data model of one exchange: what to send (a variant and its body), what it must get, what came back.

This module imports nothing of the project's, so every other part can depend on it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"
MULTIPART_TYPE = "multipart/form-data"


@dataclass(frozen=True)
class RawBody:
    """A body sent as it is, for requests that must not be valid JSON (or are not JSON at all)."""

    text: str
    content_type: str = JSON_TYPE


@dataclass(frozen=True)
class FormBody:
    """``application/x-www-form-urlencoded`` fields, in order."""

    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class FilePart:
    name: str
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class MultipartBody:
    """``multipart/form-data``: plain fields and files. The boundary is the client's business."""

    fields: tuple[tuple[str, str], ...] = ()
    files: tuple[FilePart, ...] = ()


Body = Any  # a JSON value, None (no body), RawBody, FormBody or MultipartBody


def media_type(body: Body) -> str | None:
    """The media type a body is sent as; None when there is no body."""
    if body is None:
        return None
    if isinstance(body, RawBody):
        return body.content_type
    if isinstance(body, FormBody):
        return FORM_TYPE
    if isinstance(body, MultipartBody):
        return MULTIPART_TYPE
    return JSON_TYPE


@dataclass(frozen=True)
class Expect:
    """The outcome a variant must get.

    An expected error names its error code: a status alone would pass on any error of that status.
    ``echo`` pairs a JSON pointer in the request body with one in the response body whose values
    must be equal (a created resource reflects what was sent).
    """

    status: int
    error_code: str | None = None
    echo: tuple[tuple[str, str], ...] = ()
    # where the response holds the record the request created, to check documented defaults
    defaults_at: str | None = None

    def __post_init__(self) -> None:
        if self.status >= 400 and not self.error_code:
            raise ValueError(f"an expected {self.status} must name its error code: a status alone passes on any error")

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.error_code:
            out["errorCode"] = self.error_code
        if self.echo:
            out["echo"] = [list(pair) for pair in self.echo]
        if self.defaults_at is not None:
            out["defaultsAt"] = self.defaults_at
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Expect:
        return cls(
            status=int(data["status"]),
            error_code=data.get("errorCode"),
            echo=tuple((a, b) for a, b in data.get("echo", ())),
            defaults_at=data.get("defaultsAt"),
        )


def body_as_json(body: Body, scrub: Callable[[Any], Any]) -> dict[str, Any]:
    """How a body is pinned in a cassette (scrubbed first)."""
    if body is None:
        return {"none": True}
    if isinstance(body, RawBody):
        return {"raw": scrub(body.text), "contentType": body.content_type}
    if isinstance(body, FormBody):
        names = [name for name, _ in body.fields]
        if len(set(names)) == len(names):
            # Scrubbed as the object the fields stand for, so a field is judged by its name too.
            fields = scrub(dict(body.fields))
            return {"form": [[name, fields[name]] for name in names]}
        return {"form": [[name, scrub(value)] for name, value in body.fields]}
    if isinstance(body, MultipartBody):
        return {
            "multipart": {
                "fields": [[name, scrub(value)] for name, value in body.fields],
                "files": [
                    {
                        "name": part.name,
                        "filename": part.filename,
                        "contentType": part.content_type,
                        "base64": base64.b64encode(part.content).decode("ascii"),
                    }
                    for part in body.files
                ],
            }
        }
    return {"json": scrub(body)}


def body_from_json(stored: Mapping[str, Any]) -> Body:
    if "none" in stored:
        return None
    if "raw" in stored:
        return RawBody(stored["raw"], stored["contentType"])
    if "form" in stored:
        return FormBody(tuple((name, value) for name, value in stored["form"]))
    if "multipart" in stored:
        parts = stored["multipart"]
        return MultipartBody(
            fields=tuple((name, value) for name, value in parts.get("fields", ())),
            files=tuple(
                FilePart(f["name"], f["filename"], f["contentType"], base64.b64decode(f["base64"]))
                for f in parts.get("files", ())
            ),
        )
    return stored["json"]


@dataclass(frozen=True)
class Variant:
    """One request to send (body, path and query parameters) and the outcome it must get."""

    label: str
    body: Body
    expect: Expect
    id: str = ""
    params: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def media_type(self) -> str | None:
        return media_type(self.body)

    def as_json(self, scrub: Callable[[Any], Any]) -> dict[str, Any]:
        out = {
            "id": self.id,
            "label": self.label,
            "body": body_as_json(self.body, scrub),
            "expect": self.expect.as_json(),
        }
        if self.params:
            out["params"] = {kind: dict(values) for kind, values in self.params.items()}
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Variant:
        return cls(
            id=data["id"],
            label=data["label"],
            body=body_from_json(data["body"]),
            expect=Expect.from_json(data["expect"]),
            params=data.get("params", {}),
        )


@dataclass
class Exchange:
    """One request and the response it got."""

    operation: Any  # the index's Operation (operation_id, method, path, label and the documented answers)
    method: str
    url: str
    path: str
    request_body: Body
    status: int
    headers: Mapping[str, str]
    text: str
    attempts: int = 1
    body: Any = None
    body_is_json: bool = False
    # What each earlier attempt got ("answered 503", "the answer was cut off (…)"), oldest first.
    retried: list[str] = field(default_factory=list)
    # How many earlier attempts the server broke off: a retry after one may find the request already acted.
    broken_attempts: int = 0
    # The Contract the operation was looked up in: what the checks hold the answer to.
    contract: Any = None

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    @property
    def media_type(self) -> str:
        return self.content_type.split(";")[0].strip().lower()

    @property
    def error_codes(self) -> list[str]:
        """The ``code`` of each entry in an error envelope (``{"errors": [{"code": …}]}``)."""
        errors = self.body.get("errors") if isinstance(self.body, dict) else None
        if not isinstance(errors, list):
            return []
        return [str(error["code"]) for error in errors if isinstance(error, dict) and "code" in error]
