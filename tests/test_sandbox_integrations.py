"""The sandbox over a real socket: creating, getting, updating and deleting integrations."""

from __future__ import annotations

from typing import Any

import pytest
from sandbox_support import HEX24, HEX32, MINIMAL, MISSING, OTHER_ID, Api, body_of, codes, titles

from conformance.spec.schemas import annotated_pointers, resolve

# -- Create ------------------------------------------------------------------------------------


def test_minimal_bodies_cover_every_documented_type() -> None:
    assert sorted(MINIMAL) == sorted(resolve("integration.json#/$defs/types")["enum"])


@pytest.mark.parametrize("kind", sorted(MINIMAL))
def test_create_accepts_every_type(api: Api, kind: str) -> None:
    sent = body_of(kind, displayName=f"My {kind}")
    created = api.create(sent)
    assert HEX24.match(created["id"])
    assert (created["type"], created["status"], created["displayName"]) == (kind, "active", f"My {kind}")
    write_only = annotated_pointers("integration.json", sent)
    assert not [pointer for pointer in write_only if pointer.lstrip("/") in created]
    status, fetched = api.call("GetIntegration", integrationId=created["id"])
    assert (status, fetched["integration"]) == (200, created)


def test_the_documented_create_example_is_answered_as_documented(api: Api) -> None:
    # The documented exchange: an android channel sent as inactive comes back active, with an id.
    created = api.create({"type": "android", "status": "inactive", "displayName": "Channel name"})
    assert HEX24.match(created["id"])
    assert (created["type"], created["status"], created["displayName"]) == ("android", "active", "Channel name")


def test_create_keeps_sent_fields_and_drops_read_only_ones(api: Api) -> None:
    sent = body_of("instagram", id=OTHER_ID, status="inactive", businessName="mine", storyRepliesEnabled=False)
    created = api.create(sent)
    assert created["id"] != OTHER_ID
    assert created["status"] == "active"
    assert "businessName" not in created
    assert created["storyRepliesEnabled"] is False
    assert created["appId"] == "fb-app"
    assert "displayName" not in created


def test_create_generates_server_fields(api: Api) -> None:
    hook = api.create(body_of("custom"))["webhooks"][0]
    assert HEX24.match(hook["id"])
    assert HEX32.match(hook["secret"])
    assert (hook["version"], hook["includeFullUser"], hook["includeFullSource"]) == ("v2", False, False)
    assert (hook["target"], hook["triggers"]) == ("https://example.com/hook", ["conversation:message"])
    assert HEX32.match(api.create(body_of("messagebird"))["webhookSecret"])
    assert "envName" not in api.create(body_of("twitter"))


@pytest.mark.parametrize(
    ("body", "data", "title"),
    [
        (MISSING, '{"type": "web"', "Request body is not valid JSON"),
        (MISSING, "type=web", "Request body is not valid JSON"),
        (MISSING, '{"type": "web", "brandColor": NaN}', "Request body is not valid JSON"),
        (MISSING, "", "Request body is not valid JSON"),
        (["web"], None, "Request body must be a JSON object"),
        ({"displayName": "no type"}, None, "type is required"),
        ({"type": "fax"}, None, "Invalid integration type"),
        ({"type": 7}, None, "Invalid integration type"),
        ({}, None, "type is required"),
        (body_of("web", displayName="x" * 101), None, "displayName: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…' is too long "
         "(maxLength 100)"),
        (body_of("web", displayName=False), None, "displayName: false is not of type 'string', 'null'"),
        ({"type": "telegram"}, None, "token is required"),
        ({"type": "custom", "webhooks": [{"target": "https://example.com"}]}, None, "webhooks[0].triggers is required"),
        (body_of("twitter", tier="standard"), None, "tier: 'standard' is not one of ['enterprise']"),
    ],
    ids=["truncated", "form", "NaN", "empty", "array", "no type", "unknown type", "type not a string", "{}",
         "long name", "name not a string", "no token", "webhook without triggers", "bad tier"],
)  # fmt: skip
def test_create_rejects_invalid_bodies(api: Api, body: Any, data: str | None, title: str) -> None:
    headers = {"Content-Type": "application/json"} if data is not None else None
    status, answer = api.call("CreateIntegration", body=body, data=data, headers=headers)
    assert status == 400
    assert set(codes(answer)) == {"bad_request"}
    assert title in titles(answer)
    assert api.list()[1]["integrations"] == []


def test_create_reports_every_missing_field(api: Api) -> None:
    status, answer = api.call("CreateIntegration", body={"type": "apple"})
    assert status == 400
    assert titles(answer) == ["apiSecret is required", "businessId is required", "mspId is required"]


def test_oversized_body_is_refused(api: Api) -> None:
    status, answer = api.call("CreateIntegration", body=body_of("web", businessName="x" * 200_000))
    assert status == 413
    assert codes(answer) == ["payload_too_large"]


# -- Get, Update, Delete -----------------------------------------------------------------------


def test_get_update_delete_flow(api: Api) -> None:
    created = api.create(body_of("web", displayName="Before"))
    target = {"integrationId": created["id"]}
    status, answer = api.call("UpdateIntegration", body={"displayName": "After", "brandColor": "112233"}, **target)
    assert status == 200
    assert answer["integration"] == {**created, "displayName": "After", "brandColor": "112233"}
    assert api.call("GetIntegration", **target)[1] == answer
    assert api.call("DeleteIntegration", **target) == (200, {})
    for operation_id in ("GetIntegration", "DeleteIntegration", "UpdateIntegration"):
        status, answer = api.call(operation_id, body={"displayName": "x"}, **target)
        assert status == 404
        assert answer == {"errors": [{"code": "integration_not_found", "title": "Integration not found"}]}


def test_update_is_validated_against_the_stored_type(api: Api) -> None:
    apple = api.create(body_of("apple"))
    web = api.create(body_of("web"))
    short = {"authenticationMessageSecret": "too-short"}
    status, answer = api.call("UpdateIntegration", body=short, integrationId=apple["id"])
    assert status == 400
    assert titles(answer) == ["authenticationMessageSecret: 'too-short' is too short (minLength 88)"]
    # Web does not know the field: the update passes and the field is ignored.
    status, answer = api.call("UpdateIntegration", body=short, integrationId=web["id"])
    assert (status, answer["integration"]) == (200, web)
    status, answer = api.call("UpdateIntegration", body={"fixedIntroPane": "yes"}, integrationId=web["id"])
    assert status == 400
    assert codes(answer) == ["bad_request"]


@pytest.mark.parametrize(
    ("body", "title"),
    [
        ({"displayName": ""}, "displayName: '' should be non-empty (minLength 1)"),
        ([], "Request body must be a JSON object"),
    ],
)
def test_update_rejects_invalid_bodies(api: Api, body: Any, title: str) -> None:
    created = api.create(body_of("custom"))
    status, answer = api.call("UpdateIntegration", body=body, integrationId=created["id"])
    assert status == 400
    assert title in titles(answer)
    assert api.call("GetIntegration", integrationId=created["id"])[1]["integration"] == created


def test_update_null_removes_and_write_only_is_never_stored(api: Api) -> None:
    created = api.create(body_of("android", displayName="Named"))
    body = {"displayName": None, "projectId": "new-project", "canUserSeeConversationList": False}
    status, answer = api.call("UpdateIntegration", body=body, integrationId=created["id"])
    assert status == 200
    assert "displayName" not in answer["integration"]
    assert "projectId" not in answer["integration"]
    assert answer["integration"]["canUserSeeConversationList"] is False


def test_update_cannot_change_server_fields(api: Api) -> None:
    created = api.create(body_of("line"))
    body = {"id": OTHER_ID, "type": "web", "status": "inactive", "lineId": "mine"}
    status, answer = api.call("UpdateIntegration", body=body, integrationId=created["id"])
    assert (status, answer["integration"]) == (200, created)
