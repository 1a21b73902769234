"""Two imports of the vendor contract compared from a client's side: what changed, where, and what it reaches.

Both sides are imports (``importer.build``, or the committed ``schemas/`` folder), so the comparison
sees what the project checks against: JSON Schema fields by JSON pointer, statuses, headers, media
types, security and the webhook payloads, after the overlay's corrections. Each change is classed
by the table in :mod:`conformance.contract.diff_rules`.

A change made in a component schema is reported once, at that schema, with the operations it
reaches (a message's field shows in every operation that answers messages: one entry). A change
that comes from the overlay (an action that applies to one side only) names the action and why.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from conformance.contract import diff_fields, shape
from conformance.contract.diff_rules import CLASSES, Class, classify
from conformance.contract.importer import FORMAT, INDEX_FILE, OUTPUT_FOLDERS, Imported, build
from conformance.contract.openapi import Document, SpecError
from conformance.contract.overlay import Action, Overlay, effective_update
from conformance.contract.overlay import apply as apply_overlay
from conformance.contract.schemas import Contract

__all__ = ["CLASSES", "Change", "Class", "SpecDiff", "compare", "import_document", "side_of_folder", "side_of_import"]
PARAMETER_PLACES = ("path", "query", "header")
SCHEMA = "schema "  # the subject of a change made in a component schema: "schema message"
WEBHOOK = "webhook "


@dataclass(frozen=True)
class Change:
    operation: str  # the subject: an operationId, "webhook NAME" or "schema NAME"
    kind: str
    where: str  # "operation", "request body (application/json)", "schema message (response)", …
    pointer: str  # inside ``where``: a JSON pointer, maybe with its branch; "" for the whole of it
    before: Any
    after: Any
    klass: Class
    operations: tuple[str, ...] = ()  # the operations (and webhooks) it reaches
    shown_at: tuple[str, ...] = ()  # for a schema's change: each operation's body and pointer it shows at
    overlay: tuple[str, ...] = ()  # the overlay actions it comes from, with their reasons
    scope: str = ""  # the rule's scope (see diff_rules): operation, success, error, request, response, webhook

    def as_json(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "kind": self.kind,
            "class": self.klass,
            "where": self.where,
            "pointer": self.pointer,
            "before": self.before,
            "after": self.after,
            "operations": list(self.operations),
            "shownAt": list(self.shown_at),
            "overlay": list(self.overlay),
            "scope": self.scope,
        }


def _change(subject: str, kind: str, scope: str, where: str, pointer: str, before: Any, after: Any) -> Change:
    return Change(subject, kind, where, pointer, before, after, classify(kind, scope), (subject,), scope=scope)


@dataclass(frozen=True)
class Side:
    """One contract being compared, and how to name it."""

    label: str
    version: str
    import_hash: str
    contract: Contract

    def as_json(self) -> dict[str, Any]:
        return {"label": self.label, "version": self.version, "importHash": self.import_hash}


@dataclass(frozen=True)
class Skipped:
    """An overlay action left out of one side's import, and why."""

    action: Action
    message: str


@dataclass
class SpecDiff:
    old: Side
    new: Side
    changes: list[Change] = field(default_factory=list)
    # overlay actions that no longer apply to a side (it was imported without them)
    findings: list[str] = field(default_factory=list)
    # operation -> the cassettes whose exchanges call it (filled by the command from a cassette folder)
    exercised: dict[str, list[str]] = field(default_factory=dict)

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

    def cassettes_of(self, change: Change) -> list[str]:
        return sorted({c for op in change.operations for c in self.exercised.get(op, [])})

    def to_record(self) -> list[str]:
        """The cassettes that call an operation a breaking change reaches: their recordings may no longer conform."""
        return sorted({c for change in self.changes if change.klass == "breaking" for c in self.cassettes_of(change)})

    def as_json(self) -> dict[str, Any]:
        return {
            "old": self.old.as_json(),
            "new": self.new.as_json(),
            "counts": self.counts(),
            "changes": [{**change.as_json(), "cassettes": self.cassettes_of(change)} for change in self.changes],
            "overlayFindings": self.findings,
            "reRecord": self.to_record(),
        }


# -- the two sides -------------------------------------------------------------------------------


def import_document(document: Document, overlay: Overlay | None) -> tuple[Imported, list[Skipped]]:
    """``document`` imported with each overlay action that still applies; the others, and why."""
    if overlay is None:
        return build(document), []
    data = copy.deepcopy(document.data)
    kept, skipped = [], []
    for action in overlay.actions:
        missing = _missing_refs(data, effective_update(action))
        if missing:
            message = (
                f"overlay {action.label} no longer applies: it refers to {missing[0]}, "
                "which the spec does not have; compared without it"
            )
            skipped.append(Skipped(action, message))
            continue
        try:
            apply_overlay(data, [action])  # refuses before changing anything
        except SpecError as error:
            skipped.append(Skipped(action, f"{error}; compared without it"))
            continue
        kept.append(action)
    return build(document, replace(overlay, actions=tuple(kept)) if kept else None), skipped


def _missing_refs(data: Mapping[str, Any], update: Any) -> list[str]:
    """The local references of an overlay update that name nothing in ``data`` (an older release lacks them)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            mapping = value.get("mapping")
            for ref in [
                value.get("$ref"),
                *(mapping.values() if isinstance(mapping, dict) else []),
            ]:  # a discriminator's mapping names schemas too
                if isinstance(ref, str) and ref.startswith("#/") and not _resolves(data, ref):
                    found.append(ref)
            for sub in value.values():
                walk(sub)
        elif isinstance(value, list):
            for sub in value:
                walk(sub)

    walk(update)
    return found


def _resolves(data: Mapping[str, Any], ref: str) -> bool:
    here: Any = data
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(here, dict) or part not in here:
            return False
        here = here[part]
    return True


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


def compare(
    old: Side,
    new: Side,
    findings: list[str] | None = None,
    *,
    skipped_old: list[Skipped] | None = None,
    skipped_new: list[Skipped] | None = None,
) -> SpecDiff:
    """The changes from ``old`` to ``new``; ``skipped_*``: overlay actions left out of one side's import."""
    result = SpecDiff(old, new, findings=list(findings or []))
    old_ops, new_ops = old.contract.index["operations"], new.contract.index["operations"]
    pairs = [(op_id, op_id) for op_id in sorted(old_ops.keys() & new_ops.keys())]
    gone = {op_id: old_ops[op_id] for op_id in sorted(old_ops.keys() - new_ops.keys())}
    came = {op_id: new_ops[op_id] for op_id in sorted(new_ops.keys() - old_ops.keys())}
    changes: list[Change] = []
    # A renamed operationId on the same method and path is the same operation.
    for old_id, entry in list(gone.items()):
        twin = next((n for n, e in came.items() if (e["method"], e["path"]) == (entry["method"], entry["path"])), None)
        if twin is not None:
            pairs.append((old_id, twin))
            changes.append(_change(twin, "operation-renamed", "operation", "operation", "", old_id, twin))
            del gone[old_id], came[twin]
    for op_id, entry in gone.items():
        changes.append(_change(op_id, "operation-removed", "operation", "operation", "", _route(entry), None))
    for op_id, entry in came.items():
        changes.append(_change(op_id, "operation-added", "operation", "operation", "", None, _route(entry)))
    for old_id, new_id in sorted(pairs, key=lambda pair: pair[1]):
        changes.extend(_operation(new_id, old, old_ops[old_id], new, new_ops[new_id]))
    changes.extend(_webhooks(old, new))
    changes = _at_schemas(changes)
    routes = {op: _route(entry) for op, entry in {**old_ops, **new_ops}.items()}
    changes = _tie_overlay(changes, routes, _one_sided(skipped_old or [], skipped_new or []))
    order = {subject: number for number, subject in enumerate(sorted({c.operation for c in changes}))}
    changes.sort(key=lambda c: (order[c.operation], CLASSES.index(c.klass)))
    result.changes = changes
    return result


def _webhooks(old: Side, new: Side) -> Iterator[Change]:
    """The webhook deliveries: their payloads are what the service sends, read like a response."""
    was, now = old.contract.index.get("webhooks") or {}, new.contract.index.get("webhooks") or {}
    for name in sorted(was.keys() - now.keys()):
        yield _change(WEBHOOK + name, "webhook-removed", "operation", "webhook", "", name, None)
    for name in sorted(now.keys() - was.keys()):
        yield _change(WEBHOOK + name, "webhook-added", "operation", "webhook", "", None, name)
    for name in sorted(was.keys() & now.keys()):
        before, after = was[name].get("request") or {}, now[name].get("request") or {}
        yield from _content(WEBHOOK + name, "payload", "webhook", old, before, new, after)


def _at_schemas(changes: list[Change]) -> list[Change]:
    """Changes made in one component schema, shown in several operations, as one change at that schema."""
    merged: dict[tuple[Any, ...], Change] = {}
    out: list[Change] = []
    for change in changes:
        if not change.where.startswith(SCHEMA):
            out.append(change)
            continue
        key = (change.where, change.pointer, change.kind, json.dumps([change.before, change.after], sort_keys=True))
        if key in merged:
            have = merged[key]
            merged[key] = replace(
                have,
                operations=tuple(sorted({*have.operations, *change.operations})),
                shown_at=tuple(sorted({*have.shown_at, *change.shown_at})),
            )
        else:
            merged[key] = change
    return out + list(merged.values())


def _route(entry: Mapping[str, Any]) -> str:
    return f"{entry['method']} {entry['path']}"


def _operation(op_id: str, old: Side, was: Mapping[str, Any], new: Side, now: Mapping[str, Any]) -> Iterator[Change]:
    if _route(was) != _route(now):
        yield _change(op_id, "operation-moved", "operation", "operation", "", _route(was), _route(now))
    if was.get("tag") != now.get("tag"):
        yield _change(op_id, "tag-changed", "operation", "operation", "", was.get("tag"), now.get("tag"))
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
    # A client keeps working if each way it authenticated is still accepted, with at least its scopes.
    kept = not after or all(any(_covers(have, had) for have in after) for had in before)
    shown = (sorted(label for label, _, _ in before), sorted(label for label, _, _ in after))
    kind = "security-widened" if kept else "security-changed"
    yield _change(op_id, kind, "operation", "security", "", shown[0], shown[1])


Alternative = tuple[str, str, frozenset[tuple[str, frozenset[str]]]]


def _covers(have: Alternative, had: Alternative) -> bool:
    """``have`` accepts every credential ``had`` did: same schemes, same definitions, and more scopes or as many."""
    if have[1] != had[1]:
        return False
    scopes = dict(have[2])
    return all(name in scopes and wanted <= scopes[name] for name, wanted in had[2])


def _alternatives(side: Side, entry: Mapping[str, Any]) -> frozenset[Alternative]:
    """Each accepted way to authenticate: its label, its schemes' definitions (which may change), its scopes."""
    schemes = side.contract.index.get("securitySchemes") or {}
    found = set()
    for item in entry.get("security") or []:
        label = " + ".join(f"{name}[{', '.join(scopes)}]" for name, scopes in sorted(item.items()))
        definition = json.dumps({name: schemes.get(name) for name in sorted(item)}, sort_keys=True)
        scopes = frozenset((name, frozenset(wanted)) for name, wanted in item.items())
        found.add((label or "(none)", definition, scopes))
    return frozenset(found)


def _request(op_id: str, old: Side, was: Mapping[str, Any], new: Side, now: Mapping[str, Any]) -> Iterator[Change]:
    required_before, required_after = bool(was.get("required")), bool(now.get("required"))
    if required_before != required_after and (required_before or now.get("content")):
        kind = "request-body-required" if required_after else "request-body-optional"
        yield _change(op_id, kind, "request", "request body", "", required_before, required_after)
    yield from _content(op_id, "request body", "request", old, was, new, now)


def _content(
    subject: str, where: str, scope: str, old: Side, was: Mapping[str, Any], new: Side, now: Mapping[str, Any]
) -> Iterator[Change]:
    """A body's media types added or removed, and the fields of each media type both sides document."""
    view: shape.View = "request" if scope == "request" else "response"
    old_media, new_media = was.get("content") or {}, now.get("content") or {}
    for media in sorted(old_media.keys() - new_media.keys()):
        yield _change(subject, "media-type-removed", scope, where, "", media, None)
    for media in sorted(new_media.keys() - old_media.keys()):
        yield _change(subject, "media-type-added", scope, where, "", None, media)
    for media in sorted(old_media.keys() & new_media.keys()):
        old_ref, new_ref = old_media[media], new_media[media]
        yield from _fields(
            subject,
            f"{where} ({media})",
            scope,
            shape.fields(old.contract, old_ref, view) if old_ref else {},
            shape.fields(new.contract, new_ref, view) if new_ref else {},
        )


def _success(status: str) -> bool:
    return status[:1] in ("1", "2", "3")


def _responses(op_id: str, old: Side, was: Mapping[str, Any], new: Side, now: Mapping[str, Any]) -> Iterator[Change]:
    for status in sorted(was.keys() - now.keys()):
        scope = "success" if _success(status) else "error"
        yield _change(op_id, "status-removed", scope, "responses", "", status, None)
    for status in sorted(now.keys() - was.keys()):
        scope = "success" if _success(status) else "error"
        yield _change(op_id, "status-added", scope, "responses", "", None, status)
    for status in sorted(was.keys() & now.keys()):
        headers_before, headers_after = set(was[status].get("headers") or []), set(now[status].get("headers") or [])
        for header in sorted(headers_before - headers_after):
            yield _change(op_id, "header-removed", "response", f"response {status} headers", "", header, None)
        for header in sorted(headers_after - headers_before):
            yield _change(op_id, "header-added", "response", f"response {status} headers", "", None, header)
        yield from _content(op_id, f"response {status}", "response", old, was[status], new, now[status])


def _fields(
    subject: str,
    where: str,
    scope: str,
    before: Mapping[shape.Place, shape.Field],
    after: Mapping[shape.Place, shape.Field],
) -> Iterator[Change]:
    for found in diff_fields.compare(scope, before, after):
        component, pointer, condition = found.origin
        klass = classify(found.kind, scope)
        if component:
            # Made in a component: reported at it, and where it shows in this operation.
            at = shape.location(condition, pointer)
            shown = f"{subject} {where} {found.location}"
            yield Change(
                SCHEMA + component,
                found.kind,
                f"{SCHEMA}{component} ({scope})",
                at,
                found.before,
                found.after,
                klass,
                (subject,),
                (shown,),
                scope=scope,
            )
        else:
            yield Change(
                subject, found.kind, where, found.location, found.before, found.after, klass, (subject,), scope=scope
            )


# -- the overlay's part ----------------------------------------------------------------------------


def _one_sided(old: list[Skipped], new: list[Skipped]) -> list[Skipped]:
    """The actions left out of exactly one side: the differences they make come from the overlay."""
    old_numbers, new_numbers = {s.action.number for s in old}, {s.action.number for s in new}
    return [s for s in old if s.action.number not in new_numbers] + [
        s for s in new if s.action.number not in old_numbers
    ]


_SCHEMAS = re.compile(r"components\.schemas(?:\.(\w+)|\[([^\]]+)\])")
_PATHS = re.compile(r"paths(?:\[([^\]]+)\]|\.(\*))")


def _targets(target: str) -> tuple[set[str], set[str], bool]:
    """The component schemas and paths an action's JSONPath names (``*``: every path), and whether webhooks."""
    schemas = {name.strip().strip("'\"") for one, many in _SCHEMAS.findall(target) for name in (one or many).split(",")}
    paths = {name.strip().strip("'\"") for many, star in _PATHS.findall(target) for name in (many or star).split(",")}
    return schemas, paths, "x-webhooks" in target


def _tie_overlay(changes: list[Change], routes: Mapping[str, str], skipped: list[Skipped]) -> list[Change]:
    if not skipped:
        return changes
    tied = []
    for change in changes:
        notes = []
        for item in skipped:
            schemas, paths, webhooks = _targets(item.action.target)
            subject = change.operation
            hit = (subject.startswith(SCHEMA) and subject.removeprefix(SCHEMA) in schemas) or (
                webhooks and any(op.startswith(WEBHOOK) for op in change.operations)
            )
            for op in change.operations:
                route = routes.get(op, "")
                if paths and route and ("*" in paths or route.split(" ", 1)[1] in paths):
                    hit = True
            if hit:
                notes.append(f"overlay action {item.action.number}: {item.action.description}")
        tied.append(replace(change, overlay=tuple(notes)) if notes else change)
    return tied
