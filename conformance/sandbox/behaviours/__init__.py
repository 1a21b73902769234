"""What resources do that their schemas cannot say, one module per resource group.

Each module holds ``BEHAVIOURS`` (resource name -> :class:`~conformance.sandbox.crud.Behaviour`,
hooks on the generic handlers) and may hold ``HANDLERS`` (operationId -> handler) for operations
the resource table has no role for (join, pass control, upload), and may hold ``SEED`` (store,
app id) for what a fresh sandbox holds that the API cannot create (an SDK user's devices). Every
module in this package is collected; a new group is a new module, and nothing else changes.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from conformance.sandbox.api import Handler
from conformance.sandbox.crud import Behaviour
from conformance.sandbox.store import Store

BEHAVIOURS: dict[str, Behaviour] = {}
HANDLERS: dict[str, Handler] = {}
SEEDS: list[Callable[[Store, str], None]] = []

for _module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    _loaded = importlib.import_module(f"{__name__}.{_module.name}")
    BEHAVIOURS.update(getattr(_loaded, "BEHAVIOURS", {}))
    HANDLERS.update(getattr(_loaded, "HANDLERS", {}))
    if hasattr(_loaded, "SEED"):
        SEEDS.append(_loaded.SEED)
