"""What resources do that their schemas cannot say, one module per resource group.

Each module holds ``BEHAVIOURS`` (resource name -> :class:`~conformance.sandbox.crud.Behaviour`,
hooks on the generic handlers) and may hold ``HANDLERS`` (operationId -> handler) for operations
the resource table has no role for (join, pass control, upload), and ``WRAPPERS`` (operationId
-> a function that wraps whatever handler answers it: the events an operation of another group
causes). Every module in this package is collected; a new group is a new module, and nothing
else changes.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from conformance.sandbox.api import Handler
from conformance.sandbox.crud import Behaviour

Wrapper = Callable[[Handler], Handler]
BEHAVIOURS: dict[str, Behaviour] = {}
HANDLERS: dict[str, Handler] = {}
WRAPPERS: dict[str, list[Wrapper]] = {}

for _module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    _loaded = importlib.import_module(f"{__name__}.{_module.name}")
    BEHAVIOURS.update(getattr(_loaded, "BEHAVIOURS", {}))
    HANDLERS.update(getattr(_loaded, "HANDLERS", {}))
    for _operation_id, _wrapper in getattr(_loaded, "WRAPPERS", {}).items():
        WRAPPERS.setdefault(_operation_id, []).append(_wrapper)


def wrapped(handlers: dict[str, Handler]) -> dict[str, Handler]:
    """``handlers`` with every registered wrapper applied, in module order."""
    out = dict(handlers)
    for operation_id, wrappers in WRAPPERS.items():
        for wrap in wrappers:
            if operation_id in out:
                out[operation_id] = wrap(out[operation_id])
    return out
