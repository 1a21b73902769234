"""A conformance suite for the Sunshine Conversations v2 REST API.

The public surface is small: the pytest plugin (``conformance.plugin.hooks``, loaded by the root
``conftest.py``), the ``sunco`` fixture's :class:`ConformanceSession`, the structured failures,
and the :class:`~conformance.sandbox.Sandbox`. Everything else is an implementation detail.
"""

from __future__ import annotations

import importlib
from typing import Any

# First: Hypothesis loads from its bytecode before pytest can rewrite it (see _startup).
from conformance import _startup  # noqa: F401  # isort: skip

__version__ = "0.1.0"
__all__ = ["ConformanceFailure", "ConformanceSession", "Expect", "FailureGroup", "Variant", "__version__"]

# The face is lazy: importing the sandbox (or the sunco_sandbox fixture, which pytest loads before
# pytest-recording) must not load the session, vcrpy and requests with it.
_PUBLIC = {
    "ConformanceFailure": "conformance.failures",
    "FailureGroup": "conformance.failures",
    "Expect": "conformance.model",
    "Variant": "conformance.model",
    "ConformanceSession": "conformance.session.session",
}


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'conformance' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
