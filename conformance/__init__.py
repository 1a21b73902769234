"""A conformance suite for the Sunshine Conversations v2 REST API.

The public surface is small: the pytest plugin (``conformance.plugin``, loaded by the root
``conftest.py``), the ``sunco`` fixture's :class:`ConformanceSession`, the structured failures,
and the :class:`~conformance.sandbox.Sandbox`. Everything else is an implementation detail.
"""

# First: Hypothesis loads from its bytecode before pytest can rewrite it (see _startup).
from conformance import _startup  # noqa: F401  # isort: skip
from conformance.core.failures import ConformanceFailure, FailureGroup
from conformance.core.model import Expect, Variant
from conformance.core.session import ConformanceSession

__version__ = "0.1.0"
__all__ = ["ConformanceFailure", "ConformanceSession", "Expect", "FailureGroup", "Variant", "__version__"]
