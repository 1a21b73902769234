"""Value hints and prose-only rules, per resource: what a schema cannot tell a generator.

``hints_for(resource, shape)`` gives the hints for one resource (and one shape of it, such as an
integration type); a module here per resource holds them. Everything else comes from the schemas.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from conformance.core.strategies import Hints

MODULES = {"integration": "integrations", "app": "apps", "appKey": "apps", "user": "users", "client": "users"}


@cache
def _module(name: str) -> Any:
    module_name = MODULES.get(name)
    return importlib.import_module(f"conformance.definitions.{module_name}") if module_name else None


def hints_for(name: str, shape: str | None = None, *, role: str = "create", for_child: str | None = None) -> Hints:
    """Hints for ``name``'s bodies: the resource's own, then its shape's, then what a child needs of it."""
    module = _module(name)
    if module is None:
        return Hints()
    hints: Hints = module.hints(name, role)
    if shape is not None and hasattr(module, "shape_hints"):
        hints = hints.merged(module.shape_hints(name, shape, role))
    if for_child is not None and hasattr(module, "parent_hints"):
        hints = hints.merged(module.parent_hints(name, for_child))
    return hints
