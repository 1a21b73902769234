"""A vendor OpenAPI 3.x document (plus the overlay) to ``schemas/``: JSON Schema files and an index.

Output, all JSON, written so that re-importing the same input is byte-identical:

* ``components/<name>.json``: one file per component schema, ``$id`` under :data:`BASE_URI`;
* ``operations/<operationId>.json``: ``$defs`` for what an operation states inline (query and path
  parameter objects, inline bodies);
* ``index.json``: operationId -> method, path, tag, parameters, request and response media types
  and schemas, documented error codes, security; where it came from (spec version and hash, overlay
  hash, the overlay actions left out because they no longer apply; no file names, so the same
  bytes under another name are the same import) and a hash of everything imported.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.contract.convert import DIALECT, Converter, component_name, polymorphic_bases
from conformance.contract.ids import BASE_URI as BASE_URI  # kept apart: readers of the contract need no importer
from conformance.contract.ids import INDEX_FILE as INDEX_FILE
from conformance.contract.openapi import Document, OperationNode, SpecError
from conformance.contract.overlay import Applied, Overlay, Stale
from conformance.contract.overlay import apply as apply_overlay

FORMAT = 1
OUTPUT_FOLDERS = ("components", "operations")
MEDIA_NAMES = {
    "application/json": "json",
    "multipart/form-data": "multipart",
    "application/x-www-form-urlencoded": "form",
}
DEFAULT_STYLE = {"query": "form", "path": "simple", "header": "simple", "cookie": "form"}
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class Imported:
    """What an import produces: file texts by path relative to ``schemas/``, and what it did."""

    files: dict[str, str]
    index: dict[str, Any]
    applied: list[Applied] = field(default_factory=list)
    # overlay actions that no longer apply to this spec, left out (a lenient import only)
    stale: list[Stale] = field(default_factory=list)

    @property
    def operations(self) -> dict[str, Any]:
        operations: dict[str, Any] = self.index["operations"]
        return operations

    def pairs(self) -> tuple[int, int]:
        """(operation/status pairs after corrections, pairs the vendor documents)."""
        total = sum(len(op["responses"]) for op in self.operations.values())
        vendor = sum(len(op["vendorStatuses"]) for op in self.operations.values())
        return total, vendor


def media_name(media: str) -> str:
    return MEDIA_NAMES.get(media, _SAFE.sub("-", media))


def component_file(name: str) -> str:
    return f"components/{name}.json"


class Importer:
    """One import. ``strict``: an overlay action that no longer applies is refused (the project's
    own import); otherwise it is left out and noted in :attr:`stale` (another release)."""

    def __init__(
        self,
        document: Document,
        overlay: Overlay | None = None,
        *,
        skip_action: int | None = None,
        strict: bool = True,
    ) -> None:
        self.document = document
        self.overlay = overlay
        self.data = copy.deepcopy(document.data)
        self.stale: list[Stale] = []
        self.applied = (
            apply_overlay(self.data, overlay.actions, skip=skip_action, stale=None if strict else self.stale)
            if overlay
            else []
        )
        schemas = (self.data.get("components") or {}).get("schemas") or {}
        self.components: dict[str, Any] = schemas
        self.converter = Converter(self._component_ref, polymorphic_bases(schemas))
        self.operation_defs: dict[str, dict[str, Any]] = {}

    # -- references ------------------------------------------------------------------------

    def _component_ref(self, ref: str) -> str:
        """A component ``$ref`` as seen from another component file (same folder)."""
        name = component_name(ref)
        if name is None or name not in self.components:
            raise SpecError(f"$ref {ref!r} does not name a component schema")
        return f"{name}.json"

    def _from_operation(self, schema: Any) -> Any:
        """Component references as seen from ``operations/``: one folder up."""
        if isinstance(schema, dict):
            return {
                key: (
                    f"../components/{value}"
                    if key == "$ref" and not value.startswith("#")
                    else self._from_operation(value)
                )
                for key, value in schema.items()
            }
        if isinstance(schema, list):
            return [self._from_operation(item) for item in schema]
        return schema

    def _schema_ref(self, operation_id: str, def_name: str, raw: Any) -> str:
        """Where the index points for a schema: the component itself, or a ``$defs`` entry of the operation."""
        node = raw
        # allOf of a single reference, with only prose beside it, is that reference.
        if isinstance(node, dict) and set(node) - {"description", "example", "examples", "title"} == {"allOf"}:
            members = node["allOf"]
            if len(members) == 1 and isinstance(members[0], dict) and set(members[0]) == {"$ref"}:
                node = members[0]
        if isinstance(node, dict) and set(node) == {"$ref"}:
            name = component_name(node["$ref"])
            if name in self.components:
                return component_file(str(name))
        converted = self._from_operation(self.converter.schema(node))
        self.operation_defs.setdefault(operation_id, {})[def_name] = converted
        return f"operations/{operation_id}.json#/$defs/{def_name}"

    # -- operations ------------------------------------------------------------------------

    def operation(self, op: OperationNode) -> dict[str, Any]:
        node = op.node
        operation_id = str(op.operation_id)
        entry: dict[str, Any] = {
            "method": op.method,
            "path": op.path,
            "tag": (node.get("tags") or [""])[0],
            "parameters": [],
        }
        groups: dict[str, dict[str, Any]] = {}
        for param in op.parameters:
            where, name = str(param.get("in")), str(param.get("name"))
            style = str(param.get("style") or DEFAULT_STYLE.get(where, "simple"))
            described = {
                "name": name,
                "in": where,
                "required": bool(param.get("required")) or where == "path",
                "style": style,
                "explode": bool(param.get("explode", style == "form")),
            }
            entry["parameters"].append(described)
            group = groups.setdefault(where, {"type": "object", "properties": {}, "required": []})
            group["properties"][name] = self._from_operation(self.converter.schema(param.get("schema") or {}))
            if described["required"]:
                group["required"].append(name)
        for where in ("path", "query", "header"):
            if where in groups:
                group = groups[where]
                if not group["required"]:
                    del group["required"]
                self.operation_defs.setdefault(operation_id, {})[where] = group
                entry.setdefault("params", {})[where] = f"operations/{operation_id}.json#/$defs/{where}"
        body = self.document.deref(node.get("requestBody"), op.where) if node.get("requestBody") else None
        if isinstance(body, dict):
            entry["request"] = {
                "required": bool(body.get("required")),
                "content": {
                    media: self._schema_ref(
                        operation_id, f"request-{media_name(media)}", (spec or {}).get("schema") or {}
                    )
                    for media, spec in (body.get("content") or {}).items()
                },
            }
        entry["responses"] = {
            str(status): self.response(operation_id, str(status), self.document.deref(answer, op.where))
            for status, answer in sorted((node.get("responses") or {}).items(), key=lambda item: str(item[0]))
        }
        security = node.get("security", self.data.get("security") or [])
        entry["security"] = [{scheme: list(scopes) for scheme, scopes in item.items()} for item in security]
        return entry

    def response(self, operation_id: str, status: str, answer: Any) -> dict[str, Any]:
        answer = answer if isinstance(answer, dict) else {}
        content: dict[str, str | None] = {}
        codes: set[str] = set()
        for media, spec in (answer.get("content") or {}).items():
            spec = spec or {}
            schema = spec.get("schema")
            content[media] = (
                self._schema_ref(operation_id, f"response-{status}-{media_name(media)}", schema) if schema else None
            )
            codes |= set(self._error_codes(spec))
        described: dict[str, Any] = {"content": content}
        if answer.get("headers"):
            described["headers"] = sorted(answer["headers"])
        if codes:
            described["errorCodes"] = sorted(codes)
        return described

    def _error_codes(self, spec: Mapping[str, Any]) -> Iterable[str]:
        """Error codes the documentation's examples show for a response (facts, not prose)."""
        examples = list((spec.get("examples") or {}).values())
        if "example" in spec:
            examples.append({"value": spec["example"]})
        for example in examples:
            value = (self.document.deref(example) or {}).get("value") if isinstance(example, dict) else None
            for error in (value or {}).get("errors", []) if isinstance(value, dict) else []:
                if isinstance(error, dict) and isinstance(error.get("code"), str):
                    yield error["code"]

    # -- the whole import ------------------------------------------------------------------

    def run(self) -> Imported:
        vendor = {
            op.operation_id: sorted(map(str, op.node.get("responses") or {})) for op in self.document.operations()
        }
        operations: dict[str, Any] = {}
        for op in self._operations(self.data):
            entry = self.operation(op)
            entry["vendorStatuses"] = vendor.get(op.operation_id, [])
            operations[str(op.operation_id)] = entry
        webhooks = {}
        for name, item in sorted((self.data.get("x-webhooks") or self.data.get("webhooks") or {}).items()):
            for method, op in (item or {}).items():
                if isinstance(op, dict) and op.get("operationId"):
                    node = OperationNode(path=str(name), method=method.upper(), node=op, operation_id=op["operationId"])
                    hook = self.operation(node)
                    hook["name"] = name
                    webhooks[str(op["operationId"])] = hook
        files = {
            component_file(name): self._file(component_file(name), self.converter.component(name, node))
            for name, node in sorted(self.components.items())
        }
        for operation_id, defs in sorted(self.operation_defs.items()):
            path = f"operations/{operation_id}.json"
            files[path] = self._file(path, {"$defs": defs})
        index: dict[str, Any] = {
            "$comment": "Made by `python -m conformance import-spec`; do not edit. Corrections go in overlay.yaml.",
            "format": FORMAT,
            # No file names: the same bytes under another name are the same import (and hash).
            "source": {
                "title": str((self.data.get("info") or {}).get("title", "")),
                "version": self.document.version,
                "openapi": self.document.openapi,
                "sha256": self.document.sha256,
            },
            "overlay": self._overlay_facts(),
            "servers": [
                {"url": s.get("url"), **({"variables": sorted(s["variables"])} if s.get("variables") else {})}
                for s in self.data.get("servers") or []
            ],
            "securitySchemes": {
                name: {
                    key: value
                    for key, value in scheme.items()
                    if key in ("type", "scheme", "in", "name", "bearerFormat")
                }
                for name, scheme in sorted(((self.data.get("components") or {}).get("securitySchemes") or {}).items())
            },
            "operations": operations,
            "webhooks": webhooks,
        }
        index["importHash"] = import_hash(files, index)
        files[INDEX_FILE] = json.dumps(index, indent=2, ensure_ascii=False) + "\n"
        return Imported(files=files, index=index, applied=self.applied, stale=self.stale)

    def _overlay_facts(self) -> dict[str, Any] | None:
        if self.overlay is None:
            return None
        facts: dict[str, Any] = {"sha256": self.overlay.sha256, "actions": len(self.applied)}
        if self.stale:
            facts["leftOut"] = [stale.action.number for stale in self.stale]
        return facts

    def _operations(self, data: dict[str, Any]) -> list[OperationNode]:
        view = Document(data=data, name=self.document.name, sha256=self.document.sha256)
        found: list[OperationNode] = []
        seen: dict[str, str] = {}
        for op in view.operations():
            if not op.operation_id:
                raise SpecError(f"{op.where} has no operationId; every operation needs one to be called by name")
            if op.operation_id in seen:
                raise SpecError(f"operationId {op.operation_id} is used twice: {seen[op.operation_id]} and {op.where}")
            seen[op.operation_id] = op.where
            found.append(op)
        return found

    @staticmethod
    def _file(path: str, schema: Any) -> str:
        document = {"$schema": DIALECT, "$id": BASE_URI + path, **schema}
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def import_hash(files: Mapping[str, str], index: Mapping[str, Any]) -> str:
    """What identifies an import: every schema file and the index (without the hash itself)."""
    return hashlib.sha256(
        "".join(f"{path}\n{text}" for path, text in sorted(files.items()) if path != INDEX_FILE).encode()
        + json.dumps({key: value for key, value in index.items() if key != "importHash"}, sort_keys=True).encode()
    ).hexdigest()


def build(
    document: Document, overlay: Overlay | None = None, *, skip_action: int | None = None, strict: bool = True
) -> Imported:
    return Importer(document, overlay, skip_action=skip_action, strict=strict).run()


def write(imported: Imported, out: Path) -> list[str]:
    """Write the import into ``out``; files no longer produced are removed. Returns what changed."""
    changed: list[str] = []
    for folder in OUTPUT_FOLDERS:
        for stale in sorted((out / folder).glob("*.json")) if (out / folder).is_dir() else []:
            relative = f"{folder}/{stale.name}"
            if relative not in imported.files:
                stale.unlink()
                changed.append(relative)
    for relative, text in sorted(imported.files.items()):
        target = out / relative
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(target)
        changed.append(relative)
    return changed
