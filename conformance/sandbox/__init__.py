"""A local, stateful HTTP server that behaves like the documented Sunshine Conversations v2 API.

Run it with ``python -m conformance sandbox``, or in-process with ``Sandbox().start()``.
"""

from conformance.sandbox.server import DEFAULT_APP_ID, DEFAULT_KEY_ID, DEFAULT_KEY_SECRET, Sandbox

__all__ = ["DEFAULT_APP_ID", "DEFAULT_KEY_ID", "DEFAULT_KEY_SECRET", "Sandbox"]
