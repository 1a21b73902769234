"""What resources do that their schemas cannot say, one module per resource group.

Each module holds ``BEHAVIOURS`` (resource name -> :class:`~conformance.sandbox.crud.Behaviour`,
hooks on the generic handlers) and may hold ``HANDLERS`` (operationId -> handler) for operations
the resource table has no role for (join, pass control, upload). Every module in this package is
collected; a new group is a new module, and nothing else changes.
"""

from __future__ import annotations

import importlib
import pkgutil

from conformance.sandbox.api import Handler
from conformance.sandbox.crud import Behaviour

BEHAVIOURS: dict[str, Behaviour] = {}
HANDLERS: dict[str, Handler] = {}

for _module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    _loaded = importlib.import_module(f"{__name__}.{_module.name}")
    BEHAVIOURS.update(getattr(_loaded, "BEHAVIOURS", {}))
    HANDLERS.update(getattr(_loaded, "HANDLERS", {}))
