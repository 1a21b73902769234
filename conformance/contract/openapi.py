"""Reading a vendor OpenAPI 3.x document: one file, local ``$ref``s only.

Everything that goes wrong here is a :class:`SpecError` whose message is one line a user can act
on; the command-line tools print it and exit 2, never a traceback.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from conformance import pointer as pointers

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SpecError(Exception):
    """A document that cannot be used; the message is one line naming what and where."""


@dataclass(frozen=True)
class Document:
    """A loaded OpenAPI document, with the facts about where it came from."""

    data: dict[str, Any]
    name: str
    sha256: str

    @property
    def version(self) -> str:
        return str(self.data.get("info", {}).get("version", ""))

    @property
    def openapi(self) -> str:
        return str(self.data.get("openapi", ""))

    def resolve(self, ref: str, where: str = "") -> Any:
        """The node a local ``$ref`` (``#/components/schemas/x``) points to."""
        return resolve_ref(self.data, ref, where)

    def deref(self, node: Any, where: str = "") -> Any:
        """``node`` itself, or what its ``$ref`` points to (followed until a node without one)."""
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen:
                raise SpecError(f"{where or 'the document'}: $ref {ref} refers to itself")
            seen.add(ref)
            node = self.resolve(ref, where)
        return node

    def operations(self) -> Iterator[OperationNode]:
        """Every operation, with path-level parameters merged in (an operation's own win)."""
        for path, item in (self.data.get("paths") or {}).items():
            item = self.deref(item, f"paths {path}")
            if not isinstance(item, dict):
                continue
            shared = item.get("parameters") or []
            for method in METHODS:
                op = item.get(method)
                if not isinstance(op, dict):
                    continue
                where = f"{method.upper()} {path}"
                merged: dict[tuple[str, str], dict[str, Any]] = {}
                for raw in [*shared, *(op.get("parameters") or [])]:
                    param = self.deref(raw, where)
                    merged[(str(param.get("name")), str(param.get("in")))] = param
                yield OperationNode(
                    path=path,
                    method=method.upper(),
                    node=op,
                    operation_id=op.get("operationId"),
                    parameters=list(merged.values()),
                )


@dataclass(frozen=True)
class OperationNode:
    path: str
    method: str
    node: dict[str, Any]
    operation_id: str | None
    parameters: list[dict[str, Any]] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.method} {self.path}"


def resolve_ref(data: Mapping[str, Any], ref: str, where: str = "") -> Any:
    place = f"{where}: " if where else ""
    if not ref.startswith("#"):
        raise SpecError(f"{place}$ref {ref!r} points outside the document; only local references (#/...) are read")
    found = pointers.resolve(data, ref[1:])
    if found is pointers.MISSING:
        raise SpecError(f"{place}$ref {ref!r} cannot be resolved: nothing is at {ref[1:] or '/'}")
    return found


def parse(text: str, name: str) -> dict[str, Any]:
    """YAML or JSON text as a mapping; a SpecError when it is neither."""
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else yaml.load(text, Loader=_Loader)  # noqa: S506
    except (ValueError, yaml.YAMLError) as error:
        mark = getattr(error, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise SpecError(f"{name} is neither YAML nor JSON{line}: {reason}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{name} does not hold a mapping at the top level, so it is not an OpenAPI document")
    return data


def load(path: Path | str) -> Document:
    """Load an OpenAPI 3.x document and check it is one; every ``$ref`` in it must resolve."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise SpecError(f"{path} is a folder: give an OpenAPI file") from None
    except OSError as error:
        raise SpecError(f"{path} cannot be read: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError(f"{path} is not UTF-8 text, so it is not an OpenAPI document") from None
    data = parse(text, str(path))
    version = str(data.get("openapi", ""))
    if not version.startswith("3."):
        found = (
            f"openapi: {version}"
            if version
            else ("swagger: " + str(data["swagger"]) if "swagger" in data else "no openapi field")
        )
        raise SpecError(f"{path} is not an OpenAPI 3.x document ({found})")
    if not isinstance(data.get("paths"), dict):
        raise SpecError(f"{path} has no paths object")
    document = Document(data=data, name=path.name, sha256=hashlib.sha256(raw).hexdigest())
    check_refs(document)
    return document


def check_refs(document: Document) -> None:
    """Every ``$ref`` resolves; the first that does not is the error."""
    stack: list[tuple[Any, str]] = [(document.data, "")]
    while stack:
        node, where = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                document.resolve(ref, where or "/")
            for key, value in node.items():
                stack.append((value, pointers.child(where, key)))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                stack.append((value, pointers.child(where, index)))
