"""What resources do that their schemas cannot say, one module per resource group.

Each module holds ``BEHAVIOURS`` (resource name -> :class:`~conformance.sandbox.crud.Behaviour`,
hooks on the generic handlers) and may hold ``HANDLERS`` (operationId -> handler) for operations
the resource table has no role for (join, pass control, upload), ``WRAPPERS`` (operationId -> a
function that wraps whatever handler answers it: the events an operation of another group causes),
and ``SEED`` (store, app id) for what a fresh sandbox holds that the API cannot create (an SDK
user's devices). Every module in this package is collected; a new group is a new module, and
nothing else changes. Two modules may hook the same resource (a new conversation matters to
conversations and to switchboards): their hooks both run, in module order.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

from conformance.sandbox.api import Handler, Request
from conformance.sandbox.crud import Behaviour, Hook
from conformance.sandbox.store import Record, Store

Wrapper = Callable[[Handler], Handler]
BEHAVIOURS: dict[str, Behaviour] = {}
HANDLERS: dict[str, Handler] = {}
SEEDS: list[Callable[[Store, str], None]] = []
WRAPPERS: dict[str, list[Wrapper]] = {}


def _chain(first: Hook, second: Hook) -> Hook:
    def both(record: Record, body: dict[str, Any], request: Request) -> None:
        first(record, body, request)
        second(record, body, request)

    return both


def combine(first: Behaviour, second: Behaviour) -> Behaviour:
    """One resource's behaviour from two modules: hooks (``on_*``) chained, titles merged, the rest from one."""
    merged: dict[str, Any] = {}
    for spec in dataclasses.fields(Behaviour):
        mine, theirs = getattr(first, spec.name), getattr(second, spec.name)
        if spec.name == "titles":
            merged[spec.name] = {op: {**mine.get(op, {}), **theirs.get(op, {})} for op in {*mine, *theirs}}
        elif mine and theirs and spec.name.startswith("on_"):
            merged[spec.name] = _chain(mine, theirs)
        elif mine and theirs:
            raise ValueError(f"two behaviour modules set {spec.name}, which only one can: merge them")
        else:
            merged[spec.name] = mine or theirs
    return Behaviour(**merged)


def _collect(register: Callable[[str, Behaviour], None]) -> None:
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        for name, behaviour in getattr(loaded, "BEHAVIOURS", {}).items():
            register(name, behaviour)
        HANDLERS.update(getattr(loaded, "HANDLERS", {}))
        if hasattr(loaded, "SEED"):
            SEEDS.append(loaded.SEED)
        for operation_id, wrapper in getattr(loaded, "WRAPPERS", {}).items():
            WRAPPERS.setdefault(operation_id, []).append(wrapper)


def _register(name: str, behaviour: Behaviour) -> None:
    BEHAVIOURS[name] = combine(BEHAVIOURS[name], behaviour) if name in BEHAVIOURS else behaviour


_collect(_register)


def wrapped(handlers: dict[str, Handler]) -> dict[str, Handler]:
    """``handlers`` with every registered wrapper applied, in module order."""
    out = dict(handlers)
    for operation_id, wrappers in WRAPPERS.items():
        for wrap in wrappers:
            if operation_id in out:
                out[operation_id] = wrap(out[operation_id])
    return out
