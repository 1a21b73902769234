"""The project's corrections to the vendor's contract, as an OpenAPI Overlay 1.0 document.

Each action names a JSONPath ``target`` (evaluated by jsonpath-ng), a one-line ``description``
(the reason) and an ``update`` (merged into every match) or ``remove: true``. Extensions:

* ``x-proof``: evidence that the correction matters, checked at import time against the contract
  built with and without the action (see :mod:`conformance.contract.proofs`);
* ``x-direction``: what the correction is about: ``request`` (what a client may send),
  ``response`` (what the service answers or delivers) or ``both``. A directed update on a schema
  lands under ``x-conformance-request`` / ``x-conformance-response``, which only that view of the
  contract applies; a directed ``remove`` takes the keywords out of that view only (they move under
  the other view's key);
* ``x-observed``: what the live service was seen sending, the evidence an action needs when it
  makes responses stricter than the vendor's spec (import-spec enforces it);
* an action that matches nothing, or whose update changes nothing (the vendor fixed the defect),
  no longer applies. The project's own import refuses it (strict), so a fixed defect is noticed and
  its entry removed; an import of another release skips it and says so (:class:`Stale`).
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
from jsonpath_ng.ext.parser import parse as parse_path

from conformance import pointer as pointers
from conformance.contract.openapi import SpecError, parse

Direction = Literal["request", "response", "both"]
DIRECTIONS: tuple[Direction, ...] = ("request", "response", "both")
# Where a directed correction lands in a schema: only that view of the contract applies it.
VIEW_KEYS = {"request": "x-conformance-request", "response": "x-conformance-response"}
OTHER = {"request": "response", "response": "request"}
SCHEMA_SEGMENTS = frozenset({"schema", "schemas"})


@dataclass(frozen=True)
class Action:
    number: int
    target: str
    description: str
    update: Any = None
    remove: bool = False
    proof: list[dict[str, Any]] = field(default_factory=list)
    direction: Direction = "both"
    observed: str | None = None

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


@dataclass(frozen=True)
class Stale:
    """An action that no longer applies to the spec at hand, and why."""

    action: Action
    why: str

    @property
    def message(self) -> str:
        return f"overlay {self.action.label} no longer applies: {self.why}"


NO_MATCH = "its target matches nothing in the spec"
NO_CHANGE = "the spec already says what it sets (the vendor fixed it?)"


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
    direction = item.get("x-direction")
    if direction not in DIRECTIONS:
        raise SpecError(f"{where} ({target}): x-direction must be one of {', '.join(DIRECTIONS)} (got {direction!r})")
    observed = item.get("x-observed")
    if observed is not None and (not isinstance(observed, str) or not observed.strip() or "\n" in observed.strip()):
        raise SpecError(f"{where} ({target}): x-observed must be one line saying what the live service sends")
    return Action(
        number,
        target,
        description.strip(),
        item.get("update"),
        remove,
        proof,
        direction,
        observed.strip() if isinstance(observed, str) else None,
    )


def _directed(action: Action, match: Any) -> None:
    """A directed action changes schemas only: a view has no meaning for a status or a security list."""
    segments = {str(part) for part in str(match.full_path).replace("[", ".").replace("]", "").split(".")}
    if action.direction != "both" and not segments & SCHEMA_SEGMENTS:
        raise SpecError(
            f"overlay {action.label}: x-direction {action.direction} applies to schemas only, "
            f"and {match.full_path} is not one; use x-direction: both"
        )


def effective_update(action: Action) -> Any:
    """What a match receives: the update, or for a directed action the update under its view's key."""
    if action.direction == "both":
        return action.update
    return {VIEW_KEYS[action.direction]: action.update}


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
    data: dict[str, Any],
    actions: tuple[Action, ...] | list[Action],
    *,
    skip: int | None = None,
    stale: list[Stale] | None = None,
) -> list[Applied]:
    """Apply ``actions`` to ``data`` in place (``skip``: the number of one to leave out).

    An action that no longer applies is refused with a SpecError, or, when ``stale`` is a list,
    left out and noted there.
    """
    applied: list[Applied] = []
    for action in actions:
        if action.number == skip:
            continue
        matches = parse_path(action.target).find(data)
        for match in matches:
            _directed(action, match)
        update = effective_update(action)
        why = _why_stale(action, matches, update)
        if why is not None:
            if stale is None:
                raise SpecError(Stale(action, why).message + ("; remove the action" if why == NO_CHANGE else ""))
            stale.append(Stale(action, why))
            continue
        if action.remove:
            # Deepest first, so removing one match cannot move another.
            for match in reversed(matches):
                _remove(match, action)
            applied.append(Applied(action, len(matches)))
            continue
        # A reference the update brings that the spec cannot resolve (a component an older release
        # lacks) would break the import: the action is kept out, the spec left as it was.
        before = copy.deepcopy(data) if _dangling(data, update) else None
        for match in matches:
            if isinstance(match.value, dict):
                merge(match.value, update)
            else:
                match.full_path.update(data, merge(match.value, update))
        dangling = _dangling(data, update) if before is not None else []
        if before is not None and dangling:
            data.clear()
            data.update(before)
            why = f"it refers to {dangling[0]}, which the spec does not hold"
            if stale is None:
                raise SpecError(Stale(action, why).message)
            stale.append(Stale(action, why))
            continue
        applied.append(Applied(action, len(matches)))
    return applied


def references(update: Any) -> list[str]:
    """The local references an update brings: ``$ref`` values and discriminator mapping targets."""
    found: list[str] = []
    if isinstance(update, dict):
        for key, value in update.items():
            if key == "$ref" and isinstance(value, str):
                found.append(value)
            elif key == "mapping" and isinstance(value, dict):
                found.extend(target for target in value.values() if isinstance(target, str))
            else:
                found.extend(references(value))
    elif isinstance(update, list):
        for item in update:
            found.extend(references(item))
    return found


def _dangling(data: dict[str, Any], update: Any) -> list[str]:
    return [
        ref for ref in references(update) if ref.startswith("#") and pointers.resolve(data, ref[1:]) is pointers.MISSING
    ]


def _why_stale(action: Action, matches: list[Any], update: Any) -> str | None:
    if not matches:
        return NO_MATCH
    if not action.remove and all(contains(match.value, update) for match in matches):
        return NO_CHANGE
    return None


def _remove(match: Any, action: Action) -> None:
    holder = match.context.value if match.context is not None else None
    field_path = match.path
    if isinstance(holder, dict):
        for name in getattr(field_path, "fields", ()):
            if name not in holder:
                continue
            removed = holder.pop(name)
            if action.direction != "both":
                # Out of this view only: the other view keeps the keyword.
                holder.setdefault(VIEW_KEYS[OTHER[action.direction]], {})[name] = removed
    elif action.direction != "both":
        raise SpecError(f"overlay {action.label}: a directed remove must name object members, not list items")
    elif isinstance(holder, list):
        index = getattr(field_path, "index", None)
        if isinstance(index, int) and 0 <= index < len(holder):
            del holder[index]
