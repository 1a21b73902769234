"""Things that happen in the sandbox that webhooks may subscribe to, and their delivery.

A handler calls :func:`emit` with a trigger name (``conversation:message``) and the event's
payload as the documentation shapes it. The store keeps every event in order; each webhook of
the app whose triggers name the event gets the documented body ``{app, webhook, events}`` by
POST to its target, with its secret in ``X-API-Key`` (``delivery.py``), shaped by its
``includeFullUser`` and ``includeFullSource`` settings.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from conformance.contract.resources import resource
from conformance.sandbox.api import Request
from conformance.sandbox.crud import collection_key
from conformance.sandbox.delivery import Delivery
from conformance.sandbox.store import Record, Store

# What a user is reduced to when a webhook does not ask for the full user (components/userTruncated).
TRUNCATED_USER = ("id", "authenticated", "externalId", "zendeskId", "brandId")
# What a source loses when a webhook does not ask for the full source.
FULL_SOURCE_ONLY = ("client", "device")


def emit(request: Request, trigger: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Record an event of the app the request is about, and deliver it to the webhooks subscribed to it."""
    store = request.store
    app_id = str(request.params.get("appId") or request.app_id)
    # Ids and times are drawn here, on the request's thread, so a seeded sandbox repeats them.
    event = {"id": store.tokens.new_id(), "type": trigger, "createdAt": store.tokens.now(), "payload": payload}
    store.events.append({"appId": app_id, **copy.deepcopy(event)})
    for hook in subscribers(store, app_id, trigger):
        body = {
            "app": {"id": app_id},
            "webhook": {"id": hook["id"], "version": hook.get("version", "v2")},
            "events": [shaped(event, hook)],
        }
        if request.profile is not None:
            body = request.profile.webhook(body, store.events[:-1])
        if request.outbox is not None:
            request.outbox.send(
                Delivery(
                    target=str(hook.get("target", "")),
                    secret=str(hook.get("secret", "")),
                    body=json.dumps(body, ensure_ascii=False).encode(),
                    webhook_id=str(hook["id"]),
                    events=(trigger,),
                )
            )
    return event


def webhooks_of(store: Store, app_id: str) -> list[Record]:
    """Every webhook of the app, integration by integration, oldest first."""
    hooks = resource("webhook")
    found: list[Record] = []
    for integration in store.records(("integration", app_id)):
        found += store.records(collection_key(hooks, {"appId": app_id, "integrationId": str(integration["id"])}))
    return found


def subscribers(store: Store, app_id: str, trigger: str) -> list[Record]:
    return [hook for hook in webhooks_of(store, app_id) if trigger in (hook.get("triggers") or [])]


def shaped(event: dict[str, Any], hook: Record) -> dict[str, Any]:
    """The event as one webhook receives it: a truncated user and a source without client and device, unless asked."""
    out = copy.deepcopy(event)
    payload = out.get("payload")
    if not isinstance(payload, dict):
        return out
    user = payload.get("user")
    if isinstance(user, dict) and not hook.get("includeFullUser"):
        payload["user"] = {name: user[name] for name in TRUNCATED_USER if name in user}
    source = payload.get("source")
    if isinstance(source, dict) and not hook.get("includeFullSource"):
        payload["source"] = {name: value for name, value in source.items() if name not in FULL_SOURCE_ONLY}
    return out
