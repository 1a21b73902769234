"""Things that happen in the sandbox that webhooks may subscribe to.

A handler calls :func:`emit` with a trigger name (``conversation:message``) and the event's
payload as the documentation shapes it; the store keeps the events in order, and delivery to the
webhooks whose triggers name the event happens from here.
"""

from __future__ import annotations

from typing import Any

from conformance.sandbox.api import Request


def emit(request: Request, trigger: str, payload: dict[str, Any]) -> None:
    """Record an event of the app the request is about."""
    request.store.events.append({"appId": request.params.get("appId"), "type": trigger, "payload": payload})
