"""The project's corrections to the vendor's contract, as an OpenAPI Overlay 1.0 document.

Each action names a JSONPath ``target`` (evaluated by jsonpath-ng), a one-line ``description``
(the reason) and an ``update`` (merged into every match) or ``remove: true``. Two extensions:

* ``x-proof``: evidence that the correction matters, checked at import time against the contract
  built with and without the action (see :mod:`conformance.spec.proofs`);
* an action that matches nothing, or whose update changes nothing (the vendor fixed the defect),
  no longer applies: the import refuses it, so a fixed defect is noticed and its entry removed.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
from jsonpath_ng.ext.parser import parse as parse_path

from conformance.spec.openapi import SpecError, parse


@dataclass(frozen=True)
class Action:
    number: int
    target: str
    description: str
    update: Any = None
    remove: bool = False
    proof: list[dict[str, Any]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"action {self.number} ({self.target})"


@dataclass(frozen=True)
class Overlay:
    name: str
    sha256: str
    title: str
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Applied:
    action: Action
    matches: int


def load(path: Path | str) -> Overlay:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise SpecError(f"overlay {path} cannot be read: {error.strerror or error}") from None
    data = parse(raw.decode("utf-8", "replace"), f"overlay {path}")
    version = str(data.get("overlay", ""))
    if not version.startswith("1."):
        raise SpecError(f"overlay {path} is not an OpenAPI Overlay 1.x document (overlay: {version or 'missing'})")
    raw_actions = data.get("actions")
    if not isinstance(raw_actions, list) or not raw_actions:
        raise SpecError(f"overlay {path} has no actions")
    actions = tuple(_action(number, item, path) for number, item in enumerate(raw_actions, 1))
    title = str((data.get("info") or {}).get("title", ""))
    return Overlay(name=path.name, sha256=hashlib.sha256(raw).hexdigest(), title=title, actions=actions)


def _action(number: int, item: Any, path: Path) -> Action:
    where = f"overlay {path.name} action {number}"
    if not isinstance(item, dict):
        raise SpecError(f"{where} is not a mapping")
    target, description = item.get("target"), item.get("description")
    if not isinstance(target, str) or not target.startswith("$"):
        raise SpecError(f"{where} has no JSONPath target (a string starting with $)")
    if not isinstance(description, str) or not description.strip() or "\n" in description.strip():
        raise SpecError(f"{where} ({target}) needs a one-line description: the reason for the correction")
    has_update, remove = "update" in item, item.get("remove") is True
    if has_update == remove:
        raise SpecError(f"{where} ({target}) must have exactly one of update or remove: true")
    try:
        parse_path(target)
    except (JsonPathLexerError, JsonPathParserError, Exception) as error:
        raise SpecError(f"{where}: target {target!r} is not a JSONPath: {error}") from None
    proof = item.get("x-proof") or []
    if not isinstance(proof, list):
        raise SpecError(f"{where} ({target}): x-proof must be a list")
    return Action(number, target, description.strip(), item.get("update"), remove, proof)


def merge(target: Any, update: Any) -> Any:
    """Overlay 1.0 merge: objects merge recursively, arrays take the update appended, the rest is replaced."""
    if isinstance(target, dict) and isinstance(update, dict):
        for key, value in update.items():
            target[key] = merge(target[key], value) if key in target else copy.deepcopy(value)
        return target
    if isinstance(target, list):
        return [*target, *(copy.deepcopy(update) if isinstance(update, list) else [copy.deepcopy(update)])]
    return copy.deepcopy(update)


def contains(target: Any, update: Any) -> bool:
    """Whether ``target`` already holds everything ``update`` would add (so the action changes nothing)."""
    if isinstance(target, dict) and isinstance(update, dict):
        return all(key in target and contains(target[key], value) for key, value in update.items())
    if isinstance(target, list):
        items = update if isinstance(update, list) else [update]
        return all(any(contains(have, item) for have in target) for item in items)
    return bool(target == update)


def apply(
    data: dict[str, Any], actions: tuple[Action, ...] | list[Action], *, skip: int | None = None
) -> list[Applied]:
    """Apply ``actions`` to ``data`` in place (``skip``: the number of one to leave out)."""
    applied: list[Applied] = []
    for action in actions:
        if action.number == skip:
            continue
        matches = parse_path(action.target).find(data)
        if not matches:
            raise SpecError(f"overlay {action.label} no longer applies: its target matches nothing in the spec")
        if not action.remove and all(contains(match.value, action.update) for match in matches):
            raise SpecError(
                f"overlay {action.label} no longer applies: the spec already says what it sets "
                "(the vendor fixed it?); remove the action"
            )
        if action.remove:
            # Deepest first, so removing one match cannot move another.
            for match in reversed(matches):
                _remove(match)
            applied.append(Applied(action, len(matches)))
            continue
        for match in matches:
            if isinstance(match.value, dict):
                merge(match.value, action.update)
            else:
                match.full_path.update(data, merge(match.value, action.update))
        applied.append(Applied(action, len(matches)))
    return applied


def _remove(match: Any) -> None:
    holder = match.context.value if match.context is not None else None
    field_path = match.path
    if isinstance(holder, dict):
        for name in getattr(field_path, "fields", ()):
            holder.pop(name, None)
    elif isinstance(holder, list):
        index = getattr(field_path, "index", None)
        if isinstance(index, int) and 0 <= index < len(holder):
            del holder[index]
