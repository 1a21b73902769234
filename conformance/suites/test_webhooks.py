"""Webhooks, custom integration API keys and webhook events.

The table implies the generic tests of both resources. The flows here cover what it cannot say:
a custom integration with its webhooks and keys, what an integration key may reach, the limit of
10 webhooks per app, that both belong to custom integrations only, and the events webhooks
subscribe to, delivered to the run's receiver, checked against the event schemas and their
``X-API-Key`` against the webhook's secret.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from conformance.contract.resources import resource
from conformance.deliveries.inbox import Inbox, webhooks_in
from conformance.model import Exchange, Expect, Variant
from conformance.session.session import ConformanceSession
from conformance.suites import flows
from conformance.suites.expectations import created
from conformance.suites.flows import Records
from conformance.suites.generic.generated import Generated
from conformance.suites.paging import walk_pages
from conformance.variants import negative

GENERATED = Generated("webhook", "integrationKey")

INTEGRATION, WEBHOOK, KEY = resource("integration"), resource("webhook"), resource("integrationKey")
USER, CLIENT = resource("user"), resource("client")
WEBHOOKS_PER_APP = 10
# A user as a webhook sees it unless it asks for the full user (components/userTruncated).
TRUNCATED_USER = frozenset({"id", "authenticated", "externalId", "zendeskId", "brandId"})
ME = "me"


def _one(sunco: ConformanceSession, group: str, body: Any, expect: Expect, label: str | None = None) -> Variant:
    return sunco.variants(group, st.just(Variant(label or group, body, expect)), 1)[0]


def _ids(exchange: Exchange, collection: str) -> list[str]:
    body = exchange.body if isinstance(exchange.body, dict) else {}
    return [str(item.get("id")) for item in body.get(collection) or [] if isinstance(item, dict)]


def _contains(sunco: ConformanceSession, exchange: Exchange, collection: str, wanted: list[str], rule: str) -> None:
    listed = _ids(exchange, collection)
    sunco.expect_state(
        exchange,
        all(item in listed for item in wanted),
        title=f"does not list every one of the {collection} just created.",
        pointer=f"/{collection}",
        rule=rule,
        expected=wanted,
        actual=listed,
    )


def test_custom_integration_with_webhooks_and_keys(sunco: ConformanceSession) -> None:
    """A custom integration's webhooks and keys: created, listed and fetched, the webhook's secret kept."""
    sunco.require_scope(*WEBHOOK.operations.values())
    hooks = Records(sunco, WEBHOOK)
    integration_id = hooks.parents()[WEBHOOK.parent_params[-1]]
    made = sunco.variants("webhook", flows.valid_bodies(WEBHOOK).map(lambda b: created(WEBHOOK, b, "webhook")), 1)[0]
    hook = hooks.create(made)
    hook_id = sunco.require(hook.id, "a webhook", made)
    secret = next((h.get("secret") for h in webhooks_in(hook.exchange.body)), None)
    listed = hooks.call("list", expect=Expect(200))
    _contains(sunco, listed, "webhooks", [hook_id], "a created webhook is listed")
    fetched = hooks.call("get", hook_id, expect=Expect(200))
    again = (fetched.body or {}).get("webhook", {}) if isinstance(fetched.body, dict) else {}
    sunco.expect_state(
        fetched,
        secret is not None and again.get("secret") == secret,
        title="does not show the secret the webhook was created with.",
        pointer="/webhook/secret",
        rule="a webhook's secret is in its create response and in every fetch of it",
        expected="the secret from the create response",
        actual="another value" if again.get("secret") else "(absent)",
    )
    keys = Records(sunco, KEY, parents={"integrationId": integration_id})
    key_variant = sunco.variants("key", flows.valid_bodies(KEY).map(lambda b: created(KEY, b, "key")), 1)[0]
    key_id = sunco.require(keys.create(key_variant).id, "an integration key", key_variant)
    _contains(sunco, keys.call("list", expect=Expect(200)), "keys", [key_id], "a created key is listed")
    keys.call("get", key_id, expect=Expect(200))
    sunco.finish()


def test_integration_key_reaches_only_its_own_integration(sunco: ConformanceSession) -> None:
    """An integration key has integration scope: its own integration's webhooks (also as ``me``), nothing else."""
    sunco.require_scope(*WEBHOOK.operations.values())
    hooks = Records(sunco, WEBHOOK)
    own = hooks.parents()["integrationId"]
    keys = Records(sunco, KEY, parents={"integrationId": own})
    key_variant = sunco.variants("key", flows.setup_variants(KEY), 1)[0]
    key = keys.create(key_variant)
    key_id = sunco.require(key.id, "an integration key", key_variant)
    secret = str(key.record.get("secret", ""))
    as_key = (key_id, secret, "integration")
    mine = sunco.call("ListWebhooks", path_params={"integrationId": own}, key=as_key, expect=Expect(200))
    also = sunco.call("ListWebhooks", path_params={"integrationId": ME}, key=as_key, expect=Expect(200))
    sunco.expect_state(
        also,
        _ids(also, "webhooks") == _ids(mine, "webhooks"),
        title="as 'me' did not list the key's own integration's webhooks.",
        pointer="/webhooks",
        rule="an integration-scope key names its own integration 'me'",
        expected=_ids(mine, "webhooks"),
        actual=_ids(also, "webhooks"),
    )
    made = sunco.variants("webhook", flows.setup_variants(WEBHOOK), 1)[0]
    exchange = sunco.call("CreateWebhook", variant=made, path_params={"integrationId": ME}, key=as_key)
    found = flows.created_id(exchange, WEBHOOK)
    if found:
        sunco.ledger.add(WEBHOOK, {"integrationId": own, "webhookId": found})
    other_hooks = Records(sunco, WEBHOOK, parents=None)
    other = other_hooks.parents()["integrationId"]
    theirs = other_hooks.call("list", expect=Expect(200))
    forbidden = Expect(403, "forbidden")
    sunco.call("ListWebhooks", path_params={"integrationId": other}, key=as_key, expect=forbidden)
    sunco.call("CreateWebhook", body=made.body, path_params={"integrationId": other}, key=as_key, expect=forbidden)
    for their_hook in _ids(theirs, "webhooks")[:1]:
        path = {"integrationId": other, "webhookId": their_hook}
        sunco.call("GetWebhook", path_params=path, key=as_key, expect=Expect(404, WEBHOOK.not_found))
    sunco.call("ListIntegrations", key=as_key, expect=forbidden)
    sunco.call("ListCustomIntegrationKeys", path_params={"integrationId": own}, key=as_key, expect=forbidden)
    keys.delete(key_id)
    unauthorized = Expect(401, "unauthorized")
    sunco.call("ListWebhooks", path_params={"integrationId": ME}, key=as_key, expect=unauthorized)
    sunco.finish()


def _webhooks_held(sunco: ConformanceSession) -> int:
    """Webhooks the app holds now: every custom integration's."""
    integrations = Records(sunco, INTEGRATION)
    query = {"filter[types]": "custom", "page[size]": "100"}
    custom = walk_pages(sunco, INTEGRATION.operations["list"], integrations.parents(), INTEGRATION.collection, query)
    held = 0
    for integration_id in custom.ids:
        listed = sunco.call("ListWebhooks", path_params={"integrationId": integration_id}, expect=Expect(200))
        held += len(_ids(listed, "webhooks"))
    return held


def test_create_webhook_refuses_the_11th_webhook_of_an_app(sunco: ConformanceSession) -> None:
    """An app holds at most 10 webhooks, across its integrations: the one beyond is refused."""
    sunco.require_scope(*WEBHOOK.operations.values())
    hooks = Records(sunco, WEBHOOK)
    hooks.parents()
    room = max(WEBHOOKS_PER_APP - _webhooks_held(sunco), 0)
    bodies = st.lists(flows.valid_bodies(WEBHOOK), min_size=room + 1, max_size=room + 1, unique_by=repr)
    variants = bodies.map(
        lambda found: [
            created(WEBHOOK, b, f"webhook {n + 1} of {WEBHOOKS_PER_APP} in the app")
            if n < room
            else Variant("one webhook too many for the app", b, Expect(400, "bad_request"))
            for n, b in enumerate(found)
        ]
    )
    for variant in sunco.variants("up-to-the-limit", variants, room + 1):
        hooks.create(variant)
    sunco.finish()


def test_webhooks_and_keys_belong_to_custom_integrations(sunco: ConformanceSession) -> None:
    """Another type's integration has no webhooks (403, documented) and no keys (400, documented for List)."""
    sunco.require_scope(*WEBHOOK.operations.values())
    records = Records(sunco, INTEGRATION)
    web = sunco.variants(
        "web",
        flows.valid_bodies(INTEGRATION, hints=flows.shape_hints(INTEGRATION, "web")).map(
            lambda b: created(INTEGRATION, b, "a web integration")
        ),
        1,
    )[0]
    integration_id = sunco.require(records.create(web).id, "a web integration", web)
    path = {"integrationId": integration_id}
    hook = sunco.variants("webhook", flows.setup_variants(WEBHOOK), 1)[0]
    key = sunco.variants("key", flows.setup_variants(KEY), 1)[0]
    sunco.call("ListWebhooks", path_params=path, expect=Expect(403, "forbidden"))
    sunco.call("CreateWebhook", body=hook.body, path_params=path, expect=Expect(403, "forbidden"))
    sunco.call("ListCustomIntegrationKeys", path_params=path, expect=Expect(400, "bad_request"))
    sunco.call("CreateCustomIntegrationKey", body=key.body, path_params=path, expect=Expect(400, "bad_request"))
    sunco.finish()


def test_create_webhook_rejects_undocumented_triggers(sunco: ConformanceSession) -> None:
    """Triggers come from the documented list, case included."""
    sunco.require_scope(*WEBHOOK.operations.values())
    hooks = Records(sunco, WEBHOOK)
    bodies = flows.valid_bodies(WEBHOOK).map(
        lambda b: [
            Variant(
                "an undocumented trigger", {**b, "triggers": ["conversation:nonsense"]}, Expect(400, "bad_request")
            ),
            Variant(
                "a trigger in the wrong case", {**b, "triggers": ["Conversation:Message"]}, Expect(400, "bad_request")
            ),
        ]
    )
    for variant in sunco.variants("bad-triggers", bodies, 2):
        hooks.create(variant)
    sunco.finish()


def _user_seen(event: dict[str, Any] | None) -> dict[str, Any]:
    user = ((event or {}).get("payload") or {}).get("user")
    return user if isinstance(user, dict) else {}


def _delivered_user(inbox: Inbox, event: dict[str, Any] | None, *, full: bool) -> None:
    seen = set(_user_seen(event))
    if full:
        inbox.check(
            bool(seen - TRUNCATED_USER),
            title="delivered a truncated user to a webhook that asked for the full user.",
            rule="includeFullUser: true delivers the complete user",
            expected=f"fields beyond {sorted(TRUNCATED_USER)}",
            actual=sorted(seen),
            pointer="/events/0/payload/user",
        )
    else:
        inbox.check(
            bool(seen) and seen <= TRUNCATED_USER,
            title="delivered more than the truncated user to a webhook that did not ask for the full user.",
            rule="includeFullUser: false (the default) delivers the truncated user",
            expected=sorted(TRUNCATED_USER),
            actual=sorted(seen),
            pointer="/events/0/payload/user",
        )


def test_webhooks_deliver_the_events_they_subscribe_to(sunco: ConformanceSession) -> None:
    """Client and user events reach the webhooks subscribed to them, valid, with the webhook's secret."""
    sunco.require_scope(*WEBHOOK.operations.values())
    inbox = sunco.webhooks
    # The custom integration's own webhook is whatever its body (or SUNCO_CHANNELS) says; the
    # webhooks that point at the receiver are added to it.
    hooks = Records(sunco, WEBHOOK)
    hooks.parents()

    def pointing_at_receiver(group: str, body: dict[str, Any]) -> str:
        made = hooks.create(_one(sunco, group, {"target": inbox.target, **body}, Expect(201)))
        inbox.watch(made.exchange.body)
        return sunco.require(made.id, f"a webhook ({group})")

    slim = pointing_at_receiver("slim", {"triggers": ["client:add", "client:remove", "user:remove"]})
    full = pointing_at_receiver("full-user", {"triggers": ["client:add"], "includeFullUser": True})
    users = Records(sunco, USER)
    with_profile = flows.valid_bodies(USER).filter(lambda b: isinstance(b.get("profile"), dict))
    user_variant = sunco.variants("user", with_profile.map(lambda b: created(USER, b, "user")), 1)[0]
    user_id = sunco.require(users.create(user_variant).id, "a user", user_variant)
    clients = Records(sunco, CLIENT, parents={USER.id_param: user_id})
    client_variant = sunco.variants("client", flows.setup_variants(CLIENT), 1)[0]
    client_id = sunco.require(clients.create(client_variant).id, "a client", client_variant)

    added = inbox.expect("client:add", slim)
    _delivered_user(inbox, added, full=False)
    client_seen = ((added or {}).get("payload") or {}).get("client") or {}
    inbox.check(
        client_seen.get("id") == client_id,
        title="delivered client:add for another client.",
        rule="client:add carries the client just created",
        expected=client_id,
        actual=client_seen.get("id"),
        pointer="/events/0/payload/client/id",
    )
    _delivered_user(inbox, inbox.expect("client:add", full), full=True)
    clients.delete(client_id)
    inbox.expect("client:remove", slim)
    users.delete(user_id)
    removed = inbox.expect("user:remove", slim)
    inbox.check(
        _user_seen(removed).get("id") == user_id,
        title="delivered user:remove for another user.",
        rule="user:remove carries the user just deleted",
        expected=user_id,
        actual=_user_seen(removed).get("id"),
        pointer="/events/0/payload/user/id",
    )
    sunco.finish()


def test_webhook_and_key_operations_require_credentials(sunco: ConformanceSession) -> None:
    """Each operation on webhooks and keys answers 401 to a request without credentials."""
    sunco.require_scope(*WEBHOOK.operations.values())
    hooks = Records(sunco, WEBHOOK)
    integration_id = hooks.parents()["integrationId"]
    keys = Records(sunco, KEY, parents={"integrationId": integration_id})
    key_variant = sunco.variants("key", flows.setup_variants(KEY), 1)[0]
    key_id = sunco.require(keys.create(key_variant).id, "an integration key", key_variant)
    hook_id = sunco.require(next(iter(_ids(hooks.call("list", expect=Expect(200)), "webhooks")), None), "a webhook")
    hook = sunco.variants("webhook", flows.setup_variants(WEBHOOK), 1)[0]
    unauthorized = Expect(401, "unauthorized")
    calls: list[tuple[str, Any, dict[str, str]]] = [
        ("ListWebhooks", None, {}),
        ("CreateWebhook", hook.body, {}),
        ("GetWebhook", None, {"webhookId": hook_id}),
        ("UpdateWebhook", {"triggers": ["client:add"]}, {"webhookId": hook_id}),
        ("DeleteWebhook", None, {"webhookId": hook_id}),
        ("ListCustomIntegrationKeys", None, {}),
        ("CreateCustomIntegrationKey", key_variant.body, {}),
        ("GetCustomIntegrationKey", None, {"keyId": key_id}),
        ("DeleteCustomIntegrationKey", None, {"keyId": key_id}),
    ]
    for operation_id, body, ids in calls:
        path = {"integrationId": integration_id, **ids}
        sunco.call(operation_id, body=body, path_params=path, authenticate=False, expect=unauthorized)
    sunco.finish()


def test_lists_return_404_for_an_unknown_integration(sunco: ConformanceSession) -> None:
    """Listing the webhooks or keys of an integration that does not exist: integration_not_found."""
    sunco.require_scope(*WEBHOOK.operations.values())
    for variant in sunco.variants("unknown", negative.unknown_ids("integrationId", INTEGRATION.not_found), 1):
        for operation_id in ("ListWebhooks", "ListCustomIntegrationKeys"):
            sunco.call(operation_id, path_params=dict(variant.params["path"]), expect=variant.expect)
    sunco.finish()
