"""Hypothesis and the package's own modules, imported as Python imports them under pytest.

pytest rewrites the asserts of every module of a distribution that ships a pytest plugin, and both
Hypothesis and this package ship one: wherever Python keeps no bytecode cache
(``PYTHONDONTWRITEBYTECODE``, a read-only install) each such module is parsed into a syntax tree,
rewritten and compiled again on every run, over half a second of a replay that needs none of it.
Hypothesis is imported here, first thing in the package, with the rewriter set aside; the package's
modules are found by a finder placed ahead of the rewriter. Nothing of the package needs its asserts
explained: a suite fails with a structured ``ConformanceFailure``, and the few asserts left guard
against programming errors, with their own messages. The project's own tests (``tests/``) are
rewritten as before. Outside pytest this does nothing.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

REWRITER = "AssertionRewritingHook"
PACKAGE = "conformance"


def _rewriters() -> list[tuple[int, Any]]:
    return [(index, finder) for index, finder in enumerate(sys.meta_path) if type(finder).__name__ == REWRITER]


def import_unrewritten(name: str) -> bool:
    """Import ``name`` with pytest's rewriting hook set aside; whether it did (False: nothing to do)."""
    if name in sys.modules:
        return False
    hooks = _rewriters()
    if not hooks:
        return False
    for _, finder in reversed(hooks):
        sys.meta_path.remove(finder)
    try:
        importlib.import_module(name)
    finally:
        for index, finder in hooks:
            sys.meta_path.insert(index, finder)
    return True


def in_package(name: str) -> bool:
    """A module of this package (the package itself is imported already when the finder is placed)."""
    return name.startswith(PACKAGE + ".")


class PackageFinder(importlib.abc.MetaPathFinder):
    """Finds the package's modules as Python's own path finder does, ahead of pytest's rewriter."""

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not in_package(name):
            return None
        return importlib.machinery.PathFinder.find_spec(name, path, target)


def skip_rewriting_package() -> bool:
    """Put a :class:`PackageFinder` just ahead of pytest's rewriter; whether it did (False: nothing to do)."""
    hooks = _rewriters()
    if not hooks or any(isinstance(finder, PackageFinder) for finder in sys.meta_path):
        return False
    sys.meta_path.insert(hooks[0][0], PackageFinder())
    return True


import_unrewritten("hypothesis")
skip_rewriting_package()
