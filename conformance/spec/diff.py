"""Two imports of the vendor contract compared from a client's side: what changed per operation, and how much.

Both sides are imports (``importer.build``, or the committed ``schemas/`` folder), so the comparison
sees what the project checks against: JSON Schema fields by JSON pointer, statuses, media types
and security, after the overlay's corrections. Each change is classed for a client written
against the old contract:

* ``breaking``: such a client may now send something that is refused, or get an answer it does
  not expect (an operation or field removed, a field newly required, a type or enum narrowed in a
  request or widened in a response, a success status added or removed, credentials it used that
  no longer work);
* ``additive``: there is more it may use, and nothing it did stops working (an operation, an
  optional request field or a response field added, a request enum or type widened, an error
  status documented);
* ``cosmetic``: what it may send and receive stays within what it knew (a response enum or type
  narrowed, an error status no longer listed, a renamed operationId or tag).
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from conformance.spec import shape
from conformance.spec.importer import FORMAT, INDEX_FILE, OUTPUT_FOLDERS, Imported, build
from conformance.spec.openapi import Document, SpecError
from conformance.spec.overlay import Overlay
from conformance.spec.overlay import apply as apply_overlay
from conformance.spec.schemas import Contract

Class = Literal["breaking", "additive", "cosmetic"]
CLASSES: tuple[Class, ...] = ("breaking", "additive", "cosmetic")
PARAMETER_PLACES = ("path", "query", "header")


@dataclass(frozen=True)
class Change:
    operation: str
    kind: str
    where: str  # "operation", "request body (application/json)", "response 201 (application/json)", …
    pointer: str  # inside ``where``: a JSON pointer, maybe with its branch; "" for the whole of it
    before: Any
    after: Any
    klass: Class

    def as_json(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "kind": self.kind,
            "class": self.klass,
            "where": self.where,
            "pointer": self.pointer,
            "before": self.before,
            "after": self.after,
        }


@dataclass(frozen=True)
class Side:
    """One contract being compared, and how to name it."""

    label: str
    version: str
    import_hash: str
    contract: Contract

    def as_json(self) -> dict[str, Any]:
        return {"label": self.label, "version": self.version, "importHash": self.import_hash}


@dataclass
class SpecDiff:
    old: Side
    new: Side
    changes: list[Change] = field(default_factory=list)
    # overlay actions that no longer apply to the new spec (it was imported without them)
    findings: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        found = Counter(change.klass for change in self.changes)
        return {klass: found[klass] for klass in CLASSES}

    @property
    def breaking(self) -> bool:
        return any(change.klass == "breaking" for change in self.changes)

    def by_operation(self) -> dict[str, list[Change]]:
        grouped: dict[str, list[Change]] = {}
        for change in self.changes:
            grouped.setdefault(change.operation, []).append(change)
        return grouped

    def as_json(self) -> dict[str, Any]:
        return {
            "old": self.old.as_json(),
            "new": self.new.as_json(),
            "counts": self.counts(),
            "changes": [change.as_json() for change in self.changes],
            "overlayFindings": self.findings,
        }


# -- the two sides -------------------------------------------------------------------------------


def import_document(document: Document, overlay: Overlay | None) -> tuple[Imported, list[str]]:
    """``document`` imported with each overlay action that still applies; the others, as findings."""
    if overlay is None:
        return build(document), []
    data = copy.deepcopy(document.data)
    kept, findings = [], []
    for action in overlay.actions:
        try:
            apply_overlay(data, [action])  # refuses before changing anything
        except SpecError as error:
            findings.append(f"{error}; compared without it")
            continue
        kept.append(action)
    return build(document, replace(overlay, actions=tuple(kept)) if kept else None), findings


def side_of_import(imported: Imported, label: str) -> Side:
    return _side(imported.files, label)


def read_folder(folder: Path) -> dict[str, str]:
    """The files of an imported ``schemas/`` folder, as ``build`` would return them."""
    if not folder.exists():
        raise SpecError(f"{folder} does not exist: give the folder import-spec wrote (schemas/)")
    if not folder.is_dir():
        raise SpecError(f"{folder} is a file: give the folder import-spec wrote (schemas/)")
    if not (folder / INDEX_FILE).is_file():
        raise SpecError(f"{folder} holds no {INDEX_FILE}: it is not a folder import-spec wrote")
    try:
        files = {
            f"{sub}/{path.name}": path.read_text(encoding="utf-8")
            for sub in OUTPUT_FOLDERS
            for path in sorted((folder / sub).glob("*.json"))
        }
        files[INDEX_FILE] = (folder / INDEX_FILE).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(f"{folder} cannot be read: {error}") from None
    return files


def side_of_folder(folder: Path) -> Side:
    files = read_folder(folder)
    try:
        source = json.loads(files[INDEX_FILE]).get("source") or {}
    except (ValueError, AttributeError):
        source = {}
    return _side(files, f"{folder} (import of {source['file']})" if source.get("file") else str(folder))


def _side(files: Mapping[str, str], label: str) -> Side:
    try:
        contract = Contract.from_files(files)
    except ValueError as error:
        raise SpecError(f"{label}: a schema file is not JSON ({error})") from None
    index = contract.index
    if index.get("format") != FORMAT or not isinstance(index.get("operations"), dict):
        raise SpecError(f"{label}: its {INDEX_FILE} is not in the format this version writes; re-import it")
    source = index.get("source") or {}
    return Side(label, str(source.get("version", "")), str(index.get("importHash", "")), contract)


# -- the comparison --------------------------------------------------------------------------------


def compare(old: Side, new: Side, findings: list[str] | None = None) -> SpecDiff:
    result = SpecDiff(old, new, findings=list(findings or []))
    old_ops, new_ops = old.contract.index["operations"], new.contract.index["operations"]
    pairs = [(op_id, op_id) for op_id in sorted(old_ops.keys() & new_ops.keys())]
    gone = {op_id: old_ops[op_id] for op_id in sorted(old_ops.keys() - new_ops.keys())}
    came = {op_id: new_ops[op_id] for op_id in sorted(new_ops.keys() - old_ops.keys())}
    # A renamed operationId on the same method and path is the same operation.
    for old_id, entry in list(gone.items()):
        twin = next((n for n, e in came.items() if (e["method"], e["path"]) == (entry["method"], entry["path"])), None)
        if twin is not None:
            pairs.append((old_id, twin))
            result.changes.append(Change(twin, "operation-renamed", "operation", "", old_id, twin, "cosmetic"))
            del gone[old_id], came[twin]
    for op_id, entry in gone.items():
        result.changes.append(Change(op_id, "operation-removed", "operation", "", _route(entry), None, "breaking"))
    for op_id, entry in came.items():
        result.changes.append(Change(op_id, "operation-added", "operation", "", None, _route(entry), "additive"))
    for old_id, new_id in sorted(pairs, key=lambda pair: pair[1]):
        result.changes.extend(_operation(new_id, old, old_ops[old_id], new, new_ops[new_id]))
    order = {op_id: number for number, op_id in enumerate(sorted({c.operation for c in result.changes}))}
    result.changes.sort(key=lambda c: (order[c.operation], CLASSES.index(c.klass)))
    return result


def _route(entry: Mapping[str, Any]) -> str:
    return f"{entry['method']} {entry['path']}"


def _operation(op_id: str, old: Side, was: Mapping[str, Any], new: Side, now: Mapping[str, Any]) -> Iterator[Change]:
    if _route(was) != _route(now):
        yield Change(op_id, "operation-moved", "operation", "", _route(was), _route(now), "breaking")
    if was.get("tag") != now.get("tag"):
        yield Change(op_id, "tag-changed", "operation", "", was.get("tag"), now.get("tag"), "cosmetic")
    yield from _security(op_id, old, was, new, now)
    for place in PARAMETER_PLACES:
        old_ref, new_ref = (was.get("params") or {}).get(place), (now.get("params") or {}).get(place)
        yield from _fields(
            op_id,
            f"{place} parameters",
            "request",
            shape.fields(old.contract, old_ref, "request") if old_ref else {},
            shape.fields(new.contract, new_ref, "request") if new_ref else {},
        )
    yield from _request(op_id, old, was.get("request") or {}, new, now.get("request") or {})
    yield from _responses(op_id, old, was.get("responses") or {}, new, now.get("responses") or {})


def _security(op_id: str, old: Side, was: Mapping[str, Any], new: Side, now: Mapping[str, Any]) -> Iterator[Change]:
    before, after = _alternatives(old, was), _alternatives(new, now)
    if before == after:
        return
    # A client keeps working if every way it could authenticate is still accepted.
    klass: Class = "additive" if not after or before <= after else "breaking"
    shown = (sorted(label for label, _ in before), sorted(label for label, _ in after))
    yield Change(op_id, "security-changed", "security", "", shown[0], shown[1], klass)


def _alternatives(side: Side, entry: Mapping[str, Any]) -> frozenset[tuple[str, str]]:
    """Each accepted way to authenticate: its label, and its schemes' definitions (which can change under a name)."""
    schemes = side.contract.index.get("securitySchemes") or {}
    found = set()
    for item in entry.get("security") or []:
        label = " + ".join(f"{name}[{', '.join(scopes)}]" for name, scopes in sorted(item.items()))
        definition = json.dumps({name: schemes.get(name) for name in item}, sort_keys=True)
        found.add((label or "(none)", definition))
    return frozenset(found)


def _request(op_id: str, old: Side, was: Mapping[str, Any], new: Side, now: Mapping[str, Any]) -> Iterator[Change]:
    if bool(was.get("required")) != bool(now.get("required")) and was.get("content") and now.get("content"):
        klass: Class = "breaking" if now.get("required") else "additive"
        kind = "request-field-required" if now.get("required") else "request-field-optional"
        yield Change(op_id, kind, "request body", "", bool(was.get("required")), bool(now.get("required")), klass)
    yield from _content(op_id, "request body", "request", old, was, new, now)


def _content(
    op_id: str, where: str, view: shape.View, old: Side, was: Mapping[str, Any], new: Side, now: Mapping[str, Any]
) -> Iterator[Change]:
    """A body's media types added or removed, and the fields of each media type both sides document."""
    old_media, new_media = was.get("content") or {}, now.get("content") or {}
    for media in sorted(old_media.keys() - new_media.keys()):
        yield Change(op_id, "media-type-removed", where, "", media, None, "breaking")
    for media in sorted(new_media.keys() - old_media.keys()):
        yield Change(op_id, "media-type-added", where, "", None, media, "additive")
    for media in sorted(old_media.keys() & new_media.keys()):
        old_ref, new_ref = old_media[media], new_media[media]
        yield from _fields(
            op_id,
            f"{where} ({media})",
            view,
            shape.fields(old.contract, old_ref, view) if old_ref else {},
            shape.fields(new.contract, new_ref, view) if new_ref else {},
        )


def _success(status: str) -> bool:
    return status[:1] in ("1", "2", "3")


def _responses(op_id: str, old: Side, was: Mapping[str, Any], new: Side, now: Mapping[str, Any]) -> Iterator[Change]:
    for status in sorted(was.keys() - now.keys()):
        klass: Class = "breaking" if _success(status) else "cosmetic"
        yield Change(op_id, "status-removed", "responses", "", status, None, klass)
    for status in sorted(now.keys() - was.keys()):
        klass = "breaking" if _success(status) else "additive"
        yield Change(op_id, "status-added", "responses", "", None, status, klass)
    for status in sorted(was.keys() & now.keys()):
        yield from _content(op_id, f"response {status}", "response", old, was[status], new, now[status])


def _fields(
    op_id: str,
    where: str,
    view: shape.View,
    before: Mapping[shape.Place, shape.Field],
    after: Mapping[shape.Place, shape.Field],
) -> Iterator[Change]:
    request = view == "request"

    def change(kind: str, place: shape.Place, was: Any, now: Any, klass: Class) -> Change:
        return Change(op_id, kind, where, shape.location(*place), was, now, klass)

    def inside(place: shape.Place, others: set[shape.Place]) -> bool:
        # The fields of an object that came or went are part of it: the object is reported once.
        condition, pointer = place
        return (condition, pointer.rpartition("/")[0]) in others

    removed, added = before.keys() - after.keys(), after.keys() - before.keys()
    for place in sorted(removed):
        if place[1] and not inside(place, removed):
            kind = "request-field-removed" if request else "response-field-removed"
            yield change(kind, place, _facts(before[place]), None, "breaking")
    for place in sorted(added):
        if place[1] and not inside(place, added):
            if request:
                required = after[place].required
                kind = "request-field-required" if required else "request-field-added"
                yield change(kind, place, None, _facts(after[place]), "breaking" if required else "additive")
            else:
                yield change("response-field-added", place, None, _facts(after[place]), "additive")
    for place in sorted(before.keys() & after.keys()):
        was, now = before[place], after[place]
        if was.required != now.required and place[1]:
            if request:
                kind = "request-field-required" if now.required else "request-field-optional"
                yield change(kind, place, was.required, now.required, "breaking" if now.required else "additive")
            else:
                kind = "response-field-required" if now.required else "response-field-optional"
                yield change(kind, place, was.required, now.required, "cosmetic" if now.required else "breaking")
        if was.types != now.types:
            wider = _within(was.types, now.types)
            narrower = _within(now.types, was.types)
            if request:
                klass: Class = "additive" if wider else "breaking"
            else:
                klass = "cosmetic" if narrower else "breaking"
            yield change("type-changed", place, _sorted(was.types), _sorted(now.types), klass)
        yield from _enum(change, place, was.enum, now.enum, request)


def _enum(change: Any, place: shape.Place, was: Any, now: Any, request: bool) -> Iterator[Change]:
    if was == now:
        return
    if was is not None and now is not None:
        if now - was:
            added = [json.loads(v) for v in sorted(now - was)]
            yield change("enum-value-added", place, None, added, "additive" if request else "breaking")
        if was - now:
            removed = [json.loads(v) for v in sorted(was - now)]
            yield change("enum-value-removed", place, removed, None, "breaking" if request else "cosmetic")
        return
    values = [json.loads(v) for v in sorted(now if now is not None else was)]
    if now is not None:  # newly restricted to a list
        yield change("enum-added", place, None, values, "breaking" if request else "cosmetic")
    else:
        yield change("enum-removed", place, values, None, "additive" if request else "breaking")


def _within(inner: frozenset[str] | None, outer: frozenset[str] | None) -> bool:
    """Every value ``inner`` allows, ``outer`` allows too (None allows any; an integer is a number)."""
    if outer is None:
        return True
    if inner is None:
        return False
    return all(kind in outer or (kind == "integer" and "number" in outer) for kind in inner)


def _sorted(types: frozenset[str] | None) -> list[str] | str:
    return sorted(types) if types is not None else "(any)"


def _facts(found: shape.Field) -> dict[str, Any]:
    out: dict[str, Any] = {"type": _sorted(found.types), "required": found.required}
    if found.enum is not None:
        out["enum"] = [json.loads(v) for v in sorted(found.enum)]
    return out
