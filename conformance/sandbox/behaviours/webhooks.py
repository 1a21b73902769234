"""Webhooks and custom integration API keys: what their records and the documentation say beyond the table.

* Both belong to custom integrations. Webhooks of another type's integration: List and Create
  answer 403, the others 404 (there are none); keys: List and Create answer 400, the others 404.
* An app holds at most 10 webhooks, across its integrations (a custom integration's own
  webhooks count); a custom integration at most 10 keys (the table's limit).
* A webhook's id, version and secret are the server's: one sent is ignored.
* An integration key (``int_…``) authenticates with integration scope; such a key sees only its
  own integration's webhooks, which it may also name ``me``. Another integration's webhooks:
  List and Create answer 403, the others 404.
* A custom integration's record shows the webhook it was created with, as it is now.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from conformance.sandbox.api import Handler, Request, Response
from conformance.sandbox.auth import forbidden
from conformance.sandbox.crud import Behaviour, collection_key, handlers_for, not_found, resource
from conformance.sandbox.errors import bad_request
from conformance.sandbox.events import webhooks_of
from conformance.sandbox.store import Record, Store

WEBHOOK_LIMIT = 10
ME = "me"
WEBHOOK_SERVER_FIELDS = ("id", "version", "secret")
WEBHOOKS, KEYS, INTEGRATIONS = resource("webhook"), resource("integrationKey"), resource("integration")


def new_webhook(sent: dict[str, Any], request: Request) -> Record:
    """A webhook record from a body: the documented defaults, and the server's id, version and secret."""
    return {"id": request.store.tokens.new_id(), **_webhook_from(sent, request)}


def _webhook_from(sent: dict[str, Any], request: Request) -> Record:
    """A webhook's fields but its id (the generic create gives it one)."""
    kept = {k: v for k, v in sent.items() if k not in WEBHOOK_SERVER_FIELDS and v is not None}
    hook: Record = {"version": "v2", **kept}
    hook.setdefault("includeFullUser", False)
    hook.setdefault("includeFullSource", False)
    hook["secret"] = request.store.tokens.hex(16)
    return hook


def _limit(store: Store, app_id: str, adding: int) -> None:
    held = len(webhooks_of(store, app_id))
    if held + adding > WEBHOOK_LIMIT:
        raise bad_request(f"An app may hold at most {WEBHOOK_LIMIT} webhooks; it holds {held}")


def _hooks_key(app_id: str, integration_id: str) -> tuple[str, ...]:
    return collection_key(WEBHOOKS, {"appId": app_id, "integrationId": integration_id})


def custom_integration_created(record: Record, body: dict[str, Any], request: Request) -> None:
    """A custom integration's webhooks, given in its create body, become webhook records of it."""
    app_id = str(request.params["appId"])
    sent = [hook for hook in body.get("webhooks") or [] if isinstance(hook, dict)]
    _limit(request.store, app_id, len(sent))
    hooks = [new_webhook(hook, request) for hook in sent]
    for hook in hooks:
        request.store.insert(_hooks_key(app_id, str(record["id"])), hook)
    record["webhooks"] = hooks


def _mirror(store: Store, app_id: str, integration_id: str) -> None:
    """The integration's record shows the webhooks it was created with as they are now (the documented
    custom integration holds exactly one: webhooks added later are listed by List Webhooks only)."""
    current = {str(hook["id"]): hook for hook in store.records(_hooks_key(app_id, integration_id))}

    def change(record: Record) -> Record:
        own = [str(hook.get("id")) for hook in record.get("webhooks") or [] if isinstance(hook, dict)]
        return {**record, "webhooks": [current[hook_id] for hook_id in own if hook_id in current]}

    store.update(("integration", app_id), integration_id, change)


def _webhook_created(record: Record, body: dict[str, Any], request: Request) -> None:
    _limit(request.store, str(request.params["appId"]), 1)


def _key_id(request: Request) -> str:
    return "int_" + request.store.tokens.new_id()


def _key_secret(record: Record, body: dict[str, Any], request: Request) -> None:
    record["secret"] = request.store.tokens.hex(32)


BEHAVIOURS: dict[str, Behaviour] = {
    "webhook": Behaviour(build=_webhook_from, on_create=_webhook_created),
    "integrationKey": Behaviour(new_id=_key_id, on_create=_key_secret),
}


# -- the integration a request names, and who may touch it --------------------------------------


def _integration(request: Request) -> tuple[Request, Record]:
    """The request with ``me`` replaced by the key's own integration, and that integration's record."""
    given = str(request.params.get("integrationId", ""))
    credential = request.credential
    if given == ME and credential is not None and credential.scope == "integration" and credential.integration_id:
        given = credential.integration_id
        request = replace(request, params={**request.params, "integrationId": given})
    found = request.store.get(("integration", str(request.params["appId"])), given)
    if found is None:
        raise not_found(INTEGRATIONS)
    return request, found


def _guarded(operation_id: str, inner: Handler, *, keys: bool) -> Handler:
    on_collection = operation_id.startswith(("List", "Create"))

    def handler(request: Request) -> Response:
        request, integration = _integration(request)
        credential = request.credential
        if (
            credential is not None
            and credential.scope == "integration"
            and credential.integration_id != integration["id"]
        ):
            if on_collection:
                raise forbidden("An integration key may only manage its own integration's webhooks")
            raise not_found(WEBHOOKS)
        if integration.get("type") != "custom":
            item = KEYS if keys else WEBHOOKS
            if not on_collection:
                raise not_found(item)
            if keys:
                raise bad_request("API keys belong to custom integrations only")
            raise forbidden("Webhooks belong to custom integrations only")
        response = inner(request)
        if not keys and not operation_id.startswith(("List", "Get")) and response.status < 300:
            _mirror(request.store, str(request.params["appId"]), str(integration["id"]))
        return response

    return handler


def _handlers() -> dict[str, Handler]:
    out: dict[str, Handler] = {}
    for item in (WEBHOOKS, KEYS):
        generic = handlers_for(item, BEHAVIOURS[item.name])
        for operation_id, inner in generic.items():
            out[operation_id] = _guarded(operation_id, inner, keys=item is KEYS)
    return out


HANDLERS: dict[str, Handler] = _handlers()


def integration_key(store: Store, key_id: str) -> tuple[str, str, Record] | None:
    """(app id, integration id, key record) of an integration key, by its id."""
    if not key_id.startswith("int_"):
        return None
    for app in store.records(("app",)):
        for integration in store.records(("integration", str(app["id"]))):
            key = collection_key(KEYS, {"appId": str(app["id"]), "integrationId": str(integration["id"])})
            found = store.get(key, key_id)
            if found is not None:
                return str(app["id"]), str(integration["id"]), found
    return None
