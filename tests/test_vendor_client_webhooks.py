"""The vendor's own generated client drives webhooks and custom integration API keys against the sandbox
(the ``sandbox`` fixture: 127.0.0.1, a free port). It reads every answer without a model defect."""

from __future__ import annotations

import jwt
import pytest
import sunshine_conversations_client as vendor

from conformance.sandbox import Sandbox

TARGET = "https://example.com/hooks/vendor"


def client_for(sandbox: Sandbox, username: str, password: str) -> vendor.ApiClient:
    return vendor.ApiClient(vendor.Configuration(host=sandbox.url, username=username, password=password))


@pytest.fixture
def app_client(sandbox: Sandbox) -> vendor.ApiClient:
    return client_for(sandbox, sandbox.key_id, sandbox.key_secret)


def custom(app_client: vendor.ApiClient, app_id: str) -> vendor.Custom:
    body = vendor.Custom(type="custom", webhooks=[vendor.Webhook(target=TARGET, triggers=["conversation:message"])])
    return vendor.IntegrationsApi(app_client).create_integration(app_id, body).integration


def test_vendor_client_manages_webhooks(sandbox, app_client):
    integration = custom(app_client, sandbox.app_id)
    hooks = vendor.WebhooksApi(app_client)
    body = vendor.WebhookCreateBody(target=TARGET, triggers=["client:add"], include_full_user=True)
    made = hooks.create_webhook(sandbox.app_id, integration.id, body).webhook
    assert (made.version, made.include_full_user, made.include_full_source) == ("v2", True, False)
    assert len(made.secret) == 32
    listed = hooks.list_webhooks(sandbox.app_id, integration.id).webhooks
    assert [h.id for h in listed] == [integration.webhooks[0].id, made.id]
    change = vendor.WebhookBody(target=TARGET + "/b", triggers=["client:add", "user:remove"])
    updated = hooks.update_webhook(sandbox.app_id, integration.id, made.id, change).webhook
    assert (updated.target, updated.triggers, updated.secret) == (
        TARGET + "/b",
        ["client:add", "user:remove"],
        made.secret,
    )
    assert hooks.get_webhook(sandbox.app_id, integration.id, made.id).webhook == updated
    hooks.delete_webhook(sandbox.app_id, integration.id, made.id)
    with pytest.raises(vendor.ApiException) as gone:
        hooks.get_webhook(sandbox.app_id, integration.id, made.id)
    assert gone.value.status == 404


def test_vendor_client_manages_integration_keys_that_then_authenticate(sandbox, app_client):
    integration = custom(app_client, sandbox.app_id)
    keys = vendor.CustomIntegrationApiKeysApi(app_client)
    key = keys.create_custom_integration_key(
        sandbox.app_id, integration.id, vendor.IntegrationApiKey(display_name="k")
    ).key
    assert key.id.startswith("int_")
    assert [k.id for k in keys.list_custom_integration_keys(sandbox.app_id, integration.id).keys] == [key.id]
    assert keys.get_custom_integration_key(sandbox.app_id, integration.id, key.id).key == key

    as_key = vendor.WebhooksApi(client_for(sandbox, key.id, key.secret))
    assert [h.id for h in as_key.list_webhooks(sandbox.app_id, "me").webhooks] == [integration.webhooks[0].id]
    token = jwt.encode({"scope": "integration"}, key.secret, algorithm="HS256", headers={"kid": key.id})
    bearer = vendor.ApiClient(vendor.Configuration(host=sandbox.url, access_token=token))
    assert len(vendor.WebhooksApi(bearer).list_webhooks(sandbox.app_id, integration.id).webhooks) == 1
    with pytest.raises(vendor.ApiException) as refused:
        vendor.IntegrationsApi(client_for(sandbox, key.id, key.secret)).list_integrations(sandbox.app_id)
    assert refused.value.status == 403

    keys.delete_custom_integration_key(sandbox.app_id, integration.id, key.id)
    with pytest.raises(vendor.ApiException) as revoked:
        as_key.list_webhooks(sandbox.app_id, "me")
    assert revoked.value.status == 401
