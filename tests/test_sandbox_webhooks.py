"""The sandbox's webhooks and custom integration API keys, over a real socket: records, limits, scopes, codes."""

from __future__ import annotations

import re

import jwt
from sandbox_support import HEX32, OTHER_ID, Api, body_of, codes

HOOK = {"target": "https://example.com/hooks/a", "triggers": ["conversation:message"]}
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def custom(api: Api) -> dict:
    return api.create(body_of("custom"))


def hook_of(api: Api, integration_id: str, **extra: object) -> dict:
    status, answer = api.call("CreateWebhook", body={**HOOK, **extra}, integrationId=integration_id)
    assert status == 201, answer
    return answer["webhook"]


def key_of(api: Api, integration_id: str) -> dict:
    status, answer = api.call("CreateCustomIntegrationKey", body={"displayName": "k"}, integrationId=integration_id)
    assert status == 201, answer
    return answer["key"]


def test_a_webhook_gets_its_id_version_secret_and_defaults_from_the_server(api):
    integration = custom(api)
    hook = hook_of(api, integration["id"], secret="chosen-by-me", id="mine", version="v9")
    assert hook["id"] != "mine"
    assert len(hook["id"]) == 24
    assert hook["version"] == "v2"
    assert HEX32.match(hook["secret"])
    assert hook["secret"] != "chosen-by-me"
    assert (hook["includeFullUser"], hook["includeFullSource"]) == (False, False)
    status, fetched = api.call("GetWebhook", integrationId=integration["id"], webhookId=hook["id"])
    assert status == 200
    assert fetched["webhook"] == hook


def test_an_update_changes_what_it_sends_and_never_the_secret_or_id(api):
    integration = custom(api)
    hook = hook_of(api, integration["id"])
    change = {"target": "https://example.com/hooks/b", "includeFullUser": True, "secret": None, "id": None}
    status, answer = api.call("UpdateWebhook", body=change, integrationId=integration["id"], webhookId=hook["id"])
    assert status == 200
    updated = answer["webhook"]
    assert updated["target"] == "https://example.com/hooks/b"
    assert updated["includeFullUser"] is True
    assert (updated["id"], updated["secret"], updated["triggers"]) == (hook["id"], hook["secret"], hook["triggers"])


def test_a_custom_integration_shows_the_webhook_it_was_created_with_as_it_is_now(api):
    integration = custom(api)
    own = integration["webhooks"][0]
    added = hook_of(api, integration["id"])
    path = {"integrationId": integration["id"]}
    status, listed = api.call("ListWebhooks", **path)
    assert status == 200
    assert [h["id"] for h in listed["webhooks"]] == [own["id"], added["id"]]
    api.call("UpdateWebhook", body={"triggers": ["client:add"]}, webhookId=own["id"], **path)
    _, fetched = api.call("GetIntegration", **path)
    assert [(h["id"], h["triggers"]) for h in fetched["integration"]["webhooks"]] == [(own["id"], ["client:add"])]


def test_deleted_webhooks_are_gone(api):
    integration = custom(api)
    hook = hook_of(api, integration["id"])
    path = {"integrationId": integration["id"], "webhookId": hook["id"]}
    assert api.call("DeleteWebhook", **path) == (200, {})
    for operation, body in (("GetWebhook", None), ("DeleteWebhook", None), ("UpdateWebhook", {"triggers": []})):
        status, answer = api.call(operation, **({"body": body} if body is not None else {}), **path)
        assert (status, codes(answer)) == (404, ["not_found"]), operation


def test_an_unknown_integration_is_integration_not_found(api):
    for operation, body in (
        ("ListWebhooks", None),
        ("CreateWebhook", HOOK),
        ("ListCustomIntegrationKeys", None),
        ("CreateCustomIntegrationKey", {"displayName": "k"}),
    ):
        status, answer = api.call(operation, **({"body": body} if body else {}), integrationId=OTHER_ID)
        assert (status, codes(answer)) == (404, ["integration_not_found"]), operation


def test_webhooks_and_keys_belong_to_custom_integrations(api):
    web = api.create(body_of("web"))
    path = {"integrationId": web["id"]}
    assert codes(api.call("ListWebhooks", **path)[1]) == ["forbidden"]
    assert api.call("CreateWebhook", body=HOOK, **path)[0] == 403
    assert api.call("GetWebhook", webhookId=OTHER_ID, **path)[0] == 404
    status, answer = api.call("ListCustomIntegrationKeys", **path)
    assert (status, codes(answer)) == (400, ["bad_request"])
    status, answer = api.call("CreateCustomIntegrationKey", body={"displayName": "k"}, **path)
    assert (status, codes(answer)) == (400, ["bad_request"])
    status, answer = api.call("GetCustomIntegrationKey", keyId="int_" + OTHER_ID, **path)
    assert (status, codes(answer)) == (404, ["not_found"])


def test_an_app_holds_at_most_10_webhooks_across_its_integrations(api):
    first, second = custom(api), custom(api)  # one webhook each
    made = [hook_of(api, first["id"]) for _ in range(4)] + [hook_of(api, second["id"]) for _ in range(4)]
    status, answer = api.call("CreateWebhook", body=HOOK, integrationId=second["id"])
    assert (status, codes(answer)) == (400, ["bad_request"])
    status, answer = api.call("CreateIntegration", body=body_of("custom"))
    assert (status, codes(answer)) == (400, ["bad_request"]), "a custom integration's own webhook counts too"
    api.call("DeleteWebhook", integrationId=first["id"], webhookId=made[0]["id"])
    assert api.call("CreateWebhook", body=HOOK, integrationId=second["id"])[0] == 201
    api.call("DeleteIntegration", integrationId=first["id"])
    assert api.call("CreateIntegration", body=body_of("custom"))[0] == 201, "deleting an integration frees its webhooks"


def test_integration_keys_have_ids_secrets_and_a_limit_of_10(api):
    integration = custom(api)
    path = {"integrationId": integration["id"]}
    keys = [key_of(api, integration["id"]) for _ in range(10)]
    assert all(key["id"].startswith("int_") and len(key["id"]) == 28 for key in keys)
    assert all(HEX64.match(key["secret"]) for key in keys)
    status, answer = api.call("CreateCustomIntegrationKey", body={"displayName": "eleven"}, **path)
    assert (status, codes(answer)) == (400, ["bad_request"])
    status, listed = api.call("ListCustomIntegrationKeys", **path)
    assert [k["id"] for k in listed["keys"]] == [k["id"] for k in keys]
    assert api.call("GetCustomIntegrationKey", keyId=keys[0]["id"], **path) == (200, {"key": keys[0]})
    assert api.call("DeleteCustomIntegrationKey", keyId=keys[0]["id"], **path) == (200, {})
    status, answer = api.call("GetCustomIntegrationKey", keyId=keys[0]["id"], **path)
    assert (status, codes(answer)) == (404, ["not_found"])
    assert api.call("CreateCustomIntegrationKey", body={"displayName": "room again"}, **path)[0] == 201


def test_an_integration_key_authenticates_with_integration_scope(api):
    own = custom(api)
    key = key_of(api, own["id"])
    as_key = (key["id"], key["secret"])
    status, mine = api.call("ListWebhooks", auth=as_key, integrationId=own["id"])
    assert status == 200
    assert [h["id"] for h in mine["webhooks"]] == [own["webhooks"][0]["id"]]
    assert api.call("ListWebhooks", auth=as_key, integrationId="me") == (200, mine)
    status, answer = api.call("CreateWebhook", body=HOOK, auth=as_key, integrationId="me")
    assert status == 201
    listed = api.call("ListWebhooks", integrationId=own["id"])[1]["webhooks"]
    assert answer["webhook"]["id"] in [h["id"] for h in listed]
    assert api.call("CreateUser", body={"externalId": "by-integration"}, auth=as_key)[0] == 201


def test_an_integration_key_reaches_only_its_own_integration(api):
    own, other = custom(api), custom(api)
    key = key_of(api, own["id"])
    as_key = (key["id"], key["secret"])
    theirs = {"integrationId": other["id"]}
    hook_id = other["webhooks"][0]["id"]
    for operation, body, expected in (
        ("ListWebhooks", None, (403, ["forbidden"])),
        ("CreateWebhook", HOOK, (403, ["forbidden"])),
        ("UpdateWebhook", {"triggers": ["client:add"]}, (404, ["not_found"])),
        ("GetWebhook", None, (404, ["not_found"])),
        ("DeleteWebhook", None, (404, ["not_found"])),
    ):
        extra = {"body": body} if body is not None else {}
        status, answer = api.call(operation, auth=as_key, webhookId=hook_id, **extra, **theirs)
        assert (status, codes(answer)) == expected, operation
    for operation, params in (("ListIntegrations", {}), ("ListCustomIntegrationKeys", {"integrationId": own["id"]})):
        status, answer = api.call(operation, auth=as_key, **params)
        assert (status, codes(answer)) == (403, ["forbidden"]), operation
    assert api.call("GetWebhook", integrationId=other["id"], webhookId=hook_id)[0] == 200, "the app key sees all"


def test_a_jwt_signed_with_an_integration_key_has_at_most_integration_scope(api):
    integration = custom(api)
    key = key_of(api, integration["id"])

    def bearer(scope: str) -> dict[str, str]:
        token = jwt.encode({"scope": scope}, key["secret"], algorithm="HS256", headers={"kid": key["id"]})
        return {"Authorization": f"Bearer {token}"}

    assert api.call("ListWebhooks", auth=None, headers=bearer("integration"), integrationId="me")[0] == 200
    status, answer = api.call("ListWebhooks", auth=None, headers=bearer("app"), integrationId="me")
    assert (status, codes(answer)) == (401, ["unauthorized"])


def test_me_names_nothing_for_an_app_key(api):
    status, answer = api.call("ListWebhooks", integrationId="me")
    assert (status, codes(answer)) == (404, ["integration_not_found"])


def test_a_deleted_key_or_integration_no_longer_authenticates(api):
    first, second = custom(api), custom(api)
    gone_key, orphan = key_of(api, first["id"]), key_of(api, second["id"])
    api.call("DeleteCustomIntegrationKey", integrationId=first["id"], keyId=gone_key["id"])
    api.call("DeleteIntegration", integrationId=second["id"])
    for key in (gone_key, orphan):
        status, answer = api.call("ListWebhooks", auth=(key["id"], key["secret"]), integrationId="me")
        assert (status, codes(answer)) == (401, ["unauthorized"])
