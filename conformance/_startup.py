"""Hypothesis, imported before pytest's assertion rewriter sees it.

pytest rewrites the asserts of every module of a distribution that ships a pytest plugin, and
Hypothesis ships one: wherever Python keeps no bytecode cache (``PYTHONDONTWRITEBYTECODE``, a
read-only install) its hundred-odd modules are parsed and compiled again on every run, about half
a second of a replay that needs none of Hypothesis' own asserts rewritten. Imported here, first
thing in the package, they load from their ordinary bytecode, as they would outside pytest; the
tests' own asserts are rewritten as before. Outside pytest this does nothing.
"""

from __future__ import annotations

import importlib
import sys

REWRITER = "AssertionRewritingHook"


def import_unrewritten(name: str) -> bool:
    """Import ``name`` with pytest's rewriting hook set aside; whether it did (False: nothing to do)."""
    if name in sys.modules:
        return False
    hooks = [(index, finder) for index, finder in enumerate(sys.meta_path) if type(finder).__name__ == REWRITER]
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


import_unrewritten("hypothesis")
