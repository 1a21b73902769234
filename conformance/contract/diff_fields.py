"""The fields of one body or parameter list on two sides, compared: what came, went or changed, by place.

The input is two flattenings (:mod:`conformance.contract.shape`). Branches are taken into account: a
branch that came or went is one change at its root (not one per field), and a union that gained
a discriminator keeps its fields (each branch's field is paired with the same field before).
Classes are not decided here but by :mod:`conformance.contract.diff_rules`, from the kind and scope.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from conformance.contract import shape
from conformance.contract.diff_rules import field_kind

Facts = Mapping[shape.Place, shape.Field]


@dataclass(frozen=True)
class FieldChange:
    kind: str
    place: shape.Place
    before: Any
    after: Any
    origin: shape.Origin  # the component (and place in it) where the change was made

    @property
    def location(self) -> str:
        return shape.location(*self.place)


def compare(scope: str, before: Facts, after: Facts) -> Iterator[FieldChange]:
    """Every change from ``before`` to ``after``, for a body or parameters in ``scope``."""
    roots_before, roots_after = _roots(before), _roots(after)
    came, went, named, unnamed = _branches(roots_before, roots_after)
    discriminated = {(c[:-1], roots_after[c]) for c in named}
    skip_enum: dict[str, set[str]] = {}
    for condition in sorted(came):
        root = roots_after[condition]
        label = condition[-1]
        kind = "event-added" if scope == "webhook" and root.endswith("/events/*") else "branch-added"
        yield FieldChange(kind, (condition[:-1], root), None, label, after[(condition, root)].declared)
        _note_discriminator(skip_enum, root, label)
    for condition in sorted(went):
        root = roots_before[condition]
        label = condition[-1]
        kind = "event-removed" if scope == "webhook" and root.endswith("/events/*") else "branch-removed"
        yield FieldChange(kind, (condition[:-1], root), label, None, before[(condition, root)].declared)
        _note_discriminator(skip_enum, root, label)
    # A union whose branches carry conditions reports them above: its members are the same news.
    seen_branches = {roots_after[c] for c in came} | {roots_before[c] for c in went}
    members_came: set[str] = set()
    members_went: set[str] = set()
    for place in sorted(before.keys() & after.keys()):
        if place[1] not in seen_branches:
            for branch in _members(scope, place, before[place], after[place]):
                (members_came if branch.after else members_went).add(branch.after or branch.before)
                yield branch
    # Values only a branch that came brings are part of it.
    for value_place in after.keys() & before.keys():
        for text, components in after[value_place].enum_from:
            if components and components <= members_came:
                skip_enum.setdefault(value_place[1], set()).add(text)
    # The discriminator's own field is the union's, not a change to it (required and typed in each branch).
    quiet: set[shape.Place] = set()
    for parent, root in sorted(discriminated):
        names = sorted({c[-1].split("=")[0] for c in roots_after if c[:-1] == parent and roots_after[c] == root})
        quiet |= {(parent, f"{root}/{name}") for name in names}
        yield FieldChange("discriminator-added", (parent, root), None, names, after[(parent, root)].origin)

    def under(place: shape.Place, branches: set[shape.Condition]) -> bool:
        return any(place[0][: len(c)] == c for c in branches)

    removed = {p for p in before.keys() - after.keys() if not under(p, went)}
    added = {p for p in after.keys() - before.keys() if not under(p, came)}
    # A field of a newly discriminated branch is the same field as before, without the branch.
    paired: list[tuple[shape.Place, shape.Place]] = []
    for place in sorted(added):
        plain = _without(place[0], named)
        if plain == place[0]:
            continue
        twin = (plain, place[1])
        if twin in before:
            paired.append((twin, place))
            added.discard(place)
    for twin, _ in paired:
        removed.discard(twin)
    # A field of a branch no discriminator names any more is still there, in the union.
    removed = {p for p in removed if (_without(p[0], unnamed), p[1]) not in after}
    # A field under another branch condition, with the same facts, is the same field: a union's
    # branches told apart differently (or nested in a newly discriminated union) are not a removal.
    moved_in = {(p[1], _facts_key(after[p])) for p in added}
    moved_out = {(p[1], _facts_key(before[p])) for p in removed}
    removed = {p for p in removed if (p[1], _facts_key(before[p])) not in moved_in}
    added = {p for p in added if (p[1], _facts_key(after[p])) not in moved_out}

    def inside(place: shape.Place, others: set[shape.Place]) -> bool:
        # The fields of an object that came or went are part of it: the object is reported once.
        condition, pointer = place
        parent = pointer.rpartition("/")[0]
        return bool(parent) and (condition, parent) in others

    # The fields of a union's branch that came or went are part of it.
    removed = {p for p in removed if before[p].declared[0] not in members_went}
    added = {p for p in added if after[p].declared[0] not in members_came}
    for place in sorted(removed):
        if place[1] and not inside(place, removed):
            yield FieldChange(
                field_kind(scope, "field-removed"), place, _facts(before[place]), None, before[place].declared
            )
    for place in sorted(added):
        if place[1] and not inside(place, added):
            found = after[place]
            suffix = "field-required" if found.required and scope == "request" else "field-added"
            yield FieldChange(field_kind(scope, suffix), place, None, _facts(found), found.declared)
    for place in sorted(before.keys() & after.keys()):
        if place in quiet:
            yield from _enum(place, before[place], after[place], skip_enum.get(place[1], set()), False)
            continue
        yield from _same(scope, place, before[place], after[place], skip_enum, required=True)
    for twin, place in paired:
        yield from _same(scope, place, before[twin], after[place], skip_enum, required=False, wider_only=True)


def _members(scope: str, place: shape.Place, was: shape.Field, now: shape.Field) -> Iterator[FieldChange]:
    """A union's component branches that came or went (an undiscriminated union has no branch conditions)."""
    if was.members is None or now.members is None or was.members == now.members:
        return
    event = scope == "webhook" and place[1].endswith("/events/*")
    for name in sorted(now.members - was.members):
        yield FieldChange("event-added" if event else "branch-added", place, None, name, now.union)
    for name in sorted(was.members - now.members):
        yield FieldChange("event-removed" if event else "branch-removed", place, name, None, was.union)


def _facts_key(found: shape.Field) -> tuple[Any, ...]:
    return (found.types, found.enum, found.constraints)


def _note_discriminator(skip: dict[str, set[str]], root: str, label: str) -> None:
    for part in label.split(", "):
        name, _, value = part.partition("=")
        skip.setdefault(f"{root}/{name}", set()).add(json.dumps(value, ensure_ascii=False))


def _roots(facts: Facts) -> dict[shape.Condition, str]:
    """Each branch condition, and the pointer of the union it is a branch of (its shallowest place)."""
    roots: dict[shape.Condition, str] = {}
    for condition, pointer in facts:
        if condition and (condition not in roots or len(pointer) < len(roots[condition])):
            roots[condition] = pointer
    return roots


def _branches(
    before: dict[shape.Condition, str], after: dict[shape.Condition, str]
) -> tuple[set[shape.Condition], set[shape.Condition], set[shape.Condition], set[shape.Condition]]:
    """Branches that came, that went, that a new discriminator names, and that one no longer names."""
    came: set[shape.Condition] = set()
    went: set[shape.Condition] = set()
    named: set[shape.Condition] = set()
    for condition in sorted(after.keys() - before.keys(), key=len):
        if any(condition[: len(c)] == c for c in came):
            continue
        parent = _without(condition[:-1], named)
        if (*parent, condition[-1]) in before:
            continue  # the same branch, under a discriminator added further out
        root = after[condition]
        if any(c[:-1] == parent and r == root for c, r in before.items()):
            came.add(condition)
        else:
            named.add(condition)
    unnamed: set[shape.Condition] = set()
    for condition in sorted(before.keys() - after.keys(), key=len):
        if any(condition[: len(c)] == c for c in went):
            continue
        parent = _without(condition[:-1], unnamed)
        if (*parent, condition[-1]) in after:
            continue
        root = before[condition]
        if any(c[:-1] == parent and r == root for c, r in after.items()):
            went.add(condition)
        else:
            unnamed.add(condition)
    return came, went, named, unnamed


def _without(condition: shape.Condition, named: set[shape.Condition]) -> shape.Condition:
    """``condition`` without the labels only a new discriminator introduced."""
    return tuple(label for i, label in enumerate(condition) if condition[: i + 1] not in named)


def _same(
    scope: str,
    place: shape.Place,
    was: shape.Field,
    now: shape.Field,
    skip_enum: dict[str, set[str]],
    *,
    required: bool,
    wider_only: bool = False,
) -> Iterator[FieldChange]:
    if required and was.required != now.required and place[1]:
        suffix = "field-required" if now.required else "field-optional"
        yield FieldChange(field_kind(scope, suffix), place, was.required, now.required, now.declared)
    if was.types != now.types:
        wider, narrower = _within(was.types, now.types), _within(now.types, was.types)
        kind = "type-widened" if wider else "type-narrowed" if narrower else "type-changed"
        if not (wider_only and kind == "type-narrowed"):
            yield FieldChange(kind, place, _sorted(was.types), _sorted(now.types), now.origin)
    yield from _enum(place, was, now, skip_enum.get(place[1], set()), wider_only)
    yield from _constraints(place, was, now)


def _enum(
    place: shape.Place, was: shape.Field, now: shape.Field, known: set[str], wider_only: bool
) -> Iterator[FieldChange]:
    before, after = was.enum, now.enum
    if before == after:
        return
    if before is not None and after is not None:
        if after - before - known:
            added = [json.loads(v) for v in sorted(after - before - known)]
            # In a union's merged field, the values are the branches' that list them, not the first branch's.
            bringers = {name for text, names in now.enum_from if text in after - before for name in names}
            origin = now.origin
            if bringers and origin[0] and origin[0] not in bringers:
                origin = (min(bringers), origin[1], origin[2])
            yield FieldChange("enum-value-added", place, None, added, origin)
        if before - after - known and not wider_only:
            removed = [json.loads(v) for v in sorted(before - after - known)]
            yield FieldChange("enum-value-removed", place, removed, None, now.origin)
        return
    if after is not None:  # newly restricted to a list
        if not wider_only:
            yield FieldChange("enum-added", place, None, [json.loads(v) for v in sorted(after)], now.origin)
    elif before is not None:
        yield FieldChange("enum-removed", place, [json.loads(v) for v in sorted(before)], None, was.origin)


def _constraints(place: shape.Place, was: shape.Field, now: shape.Field) -> Iterator[FieldChange]:
    before, after = dict(was.constraints), dict(now.constraints)
    for keyword in sorted(before.keys() | after.keys()):
        old, new = before.get(keyword), after.get(keyword)
        if old == new:
            continue
        way = shape.CONSTRAINTS[keyword]
        if old is None:
            kind = "constraint-tightened"
        elif new is None:
            kind = "constraint-loosened"
        elif way == "exact" or not all(isinstance(v, int | float) for v in (old, new)):
            kind = "constraint-changed"
        else:
            tighter = new > old if way == "min" else new < old
            kind = "constraint-tightened" if tighter else "constraint-loosened"
        shown = ({keyword: old} if old is not None else None, {keyword: new} if new is not None else None)
        yield FieldChange(kind, place, shown[0], shown[1], now.origin if new is not None else was.origin)


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
    out.update(dict(found.constraints))
    return out
