"""Value hints and prose-only rules, per resource: what a schema cannot tell a generator.

A module here per resource group names the resources it speaks for (``RESOURCES``) and defines
``hints(name, role)``, optionally ``shape_hints(name, shape, role)`` (one integration type, say)
and ``parent_hints(name, child)`` (what a child needs of its parent). Every module in this package
is collected; a new group is a new module. Everything else comes from the schemas.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import ModuleType

from conformance.variants.strategies import Hints


@cache
def _modules() -> dict[str, ModuleType]:
    found: dict[str, ModuleType] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name in getattr(module, "RESOURCES", ()):
            found[name] = module
    return found


def hints_for(name: str, shape: str | None = None, *, role: str = "create", for_child: str | None = None) -> Hints:
    """Hints for ``name``'s bodies: the resource's own, then its shape's, then what a child needs of it."""
    module = _modules().get(name)
    if module is None:
        return Hints()
    hints: Hints = module.hints(name, role)
    if shape is not None and hasattr(module, "shape_hints"):
        hints = hints.merged(module.shape_hints(name, shape, role))
    if for_child is not None and hasattr(module, "parent_hints"):
        hints = hints.merged(module.parent_hints(name, for_child))
    return hints
