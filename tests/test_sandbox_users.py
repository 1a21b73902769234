"""The sandbox's users, clients and devices over a real socket: personal-information deletion,
Zendesk sync and merges, the seeded SDK user's devices, the sdk client the API cannot remove, and
the events each change fires (each payload held to its documented event schema)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from sandbox_support import OTHER_ID, Api, codes

from conformance.contract.schemas import shipped
from conformance.sandbox import Sandbox, seeded

EVENT_SCHEMAS = {
    "user:update": "components/userUpdateEvent.json",
    "user:remove": "components/userRemoveEvent.json",
    "user:merge": "components/userMergeEvent.json",
    "client:add": "components/clientAddEvent.json",
    "client:remove": "components/clientRemoveEvent.json",
}
CLIENT_BODY = {
    "matchCriteria": {"type": "twilio", "integrationId": OTHER_ID, "phoneNumber": "+15145550101"},
    "confirmation": {"type": "immediate"},
    "target": {"conversationId": OTHER_ID},
}


def events(sandbox: Sandbox, trigger: str) -> list[dict[str, Any]]:
    """The payloads of the events of one kind, each checked against the documented event schema."""
    found = [event for event in sandbox.store.events if event["type"] == trigger]
    for event in found:
        assert event["appId"] == sandbox.app_id
        wrapped = {"id": "e1", "type": trigger, "createdAt": "2025-01-01T00:00:00.000Z", "payload": event["payload"]}
        errors = [error.message for error in shipped().validator(EVENT_SCHEMAS[trigger]).iter_errors(wrapped)]
        assert errors == [], (trigger, errors)
    return [event["payload"] for event in found]


def create_user(api: Api, **body: Any) -> dict[str, Any]:
    status, answer = api.call("CreateUser", body=body)
    assert status == 201, answer
    return dict(answer["user"])


# -- personal information ------------------------------------------------------------------------


def test_deleting_personal_information_clears_profile_metadata_identities_and_client_details(
    api: Api, sandbox: Sandbox
) -> None:
    status, synced = api.call("SyncUser", zendeskId=seeded.ZENDESK_ID)
    assert status == 200
    assert synced["user"]["identities"], "the sync gives the user an email identity"
    status, answer = api.call("DeleteUserPersonalInformation", userIdOrExternalId=seeded.SDK_USER_ID)
    assert status == 200
    user = answer["user"]
    assert user["id"] == seeded.SDK_USER_ID
    assert user["profile"] == {"locale": "en-GB"}  # names, email and avatar go; the locale stays
    assert (user["metadata"], user["identities"]) == ({}, [])
    assert api.call("GetUser", userIdOrExternalId=seeded.SDK_USER_ID) == (200, answer)
    _, clients = api.call("ListClients", userIdOrExternalId=seeded.SDK_USER_ID)
    (client,) = clients["clients"]
    assert {"displayName", "avatarUrl", "info", "raw"}.isdisjoint(client)
    assert (client["id"], client["type"], client["status"]) == (seeded.SDK_CLIENT_ID, "sdk", "active")
    assert events(sandbox, "user:update")[-1]["user"] == user


PERSON = {
    "externalId": "pi-everything",
    "profile": {
        "givenName": "Grace",
        "surname": "Hopper",
        "email": "grace@example.com",
        "avatarUrl": "https://example.com/grace.png",
        "locale": "en-US",
    },
    "metadata": {"plan": "gold", "seats": 3},
}
# What a channel tells of a client (the API cannot set these): the deletion clears all four.
CHANNEL_DETAILS = {
    "displayName": "Grace H.",
    "avatarUrl": "https://example.com/grace-channel.png",
    "info": {"currentUrl": "https://example.com/help"},
    "raw": {"from": "+15145550101"},
}


def test_deleting_personal_information_clears_what_is_documented_and_keeps_clients_and_history(
    api: Api, sandbox: Sandbox
) -> None:
    user = create_user(api, **PERSON)
    assert (user["profile"], user["metadata"]) == (PERSON["profile"], PERSON["metadata"])
    status, linked = api.call("CreateClient", body=CLIENT_BODY, userIdOrExternalId=user["id"])
    assert status == 201
    client_id = linked["client"]["id"]
    # A channel filled in the client's details (no operation does).
    clients = ("client", sandbox.app_id, user["id"])
    sandbox.store.update(clients, client_id, lambda record: {**record, **CHANNEL_DETAILS})
    _, before = api.call("ListClients", userIdOrExternalId=user["id"])
    assert {k: before["clients"][0][k] for k in CHANNEL_DETAILS} == CHANNEL_DETAILS
    group = {"type": "sdkGroup", "participants": [{"userId": user["id"], "subscribeSDKClient": False}]}
    status, conversation = api.call("CreateConversation", body=group)
    assert status == 201
    where = {"conversationId": conversation["conversation"]["id"]}
    said = {"author": {"type": "user", "userId": user["id"]}, "content": {"type": "text", "text": "hello"}}
    status, posted = api.call("PostMessage", body=said, **where)
    assert status == 201

    status, answer = api.call("DeleteUserPersonalInformation", userIdOrExternalId="pi-everything")
    assert status == 200
    cleared = answer["user"]
    assert (cleared["id"], cleared["externalId"]) == (user["id"], "pi-everything")
    assert cleared["profile"] == {"locale": "en-US"}
    assert cleared["metadata"] == {}
    assert api.call("GetUser", userIdOrExternalId=user["id"]) == (200, answer)
    _, after = api.call("ListClients", userIdOrExternalId=user["id"])
    (client,) = after["clients"]
    assert set(CHANNEL_DETAILS).isdisjoint(client)
    assert (client["id"], client["type"], client["externalId"]) == (client_id, "twilio", "+15145550101")
    _, history = api.call("ListMessages", **where)
    assert [m["id"] for m in history["messages"]] == [posted["messages"][0]["id"]]


def test_deleting_personal_information_finds_the_user_by_external_id_and_404s_for_nobody(api: Api) -> None:
    user = create_user(api, externalId="pi-user", profile={"givenName": "Grace", "email": "g@example.com"})
    status, answer = api.call("DeleteUserPersonalInformation", userIdOrExternalId="pi-user")
    assert status == 200
    assert answer["user"]["id"] == user["id"]
    assert answer["user"]["profile"] == {}
    assert answer["user"]["externalId"] == "pi-user"
    status, answer = api.call("DeleteUserPersonalInformation", userIdOrExternalId=OTHER_ID)
    assert (status, codes(answer)) == (404, ["user_not_found"])


# -- Zendesk sync ----------------------------------------------------------------------------------


def test_sync_takes_the_zendesk_users_names_external_id_and_primary_email(api: Api, sandbox: Sandbox) -> None:
    person = seeded.ZENDESK_USERS[seeded.ZENDESK_ID]
    for body in ({}, None):
        status, answer = api.call(
            "SyncUser", zendeskId=seeded.ZENDESK_ID, **({"body": body} if body is not None else {})
        )
        assert status == 200
        user = answer["user"]
        assert user["id"] == seeded.SDK_USER_ID
        assert user["externalId"] == person["externalId"]
        assert (user["profile"]["givenName"], user["profile"]["surname"]) == (person["givenName"], person["surname"])
        assert "email" not in user["profile"]  # the email goes on the identities, not the profile
        assert user["identities"] == [{"type": "email", "value": person["email"], "verification": "verified"}]
    assert api.call("GetUser", userIdOrExternalId=person["externalId"]) == (200, answer)
    assert events(sandbox, "user:update")[-1]["user"] == answer["user"]


def test_sync_refuses_unknown_zendesk_ids_and_bad_bodies(api: Api) -> None:
    status, answer = api.call("SyncUser", zendeskId="999999")
    assert (status, codes(answer)) == (404, ["user_not_found"])
    status, answer = api.call("SyncUser", zendeskId=seeded.ZENDESK_ID, body={"survivingZendeskId": 35436})
    assert (status, codes(answer)) == (400, ["bad_request"])
    status, answer = api.call("SyncUser", zendeskId=seeded.ZENDESK_ID, body={"survivingZendeskId": "424242"})
    assert (status, codes(answer)) == (400, ["bad_request"])
    assert "survivingZendeskId" in answer["errors"][0]["title"]


def test_a_surviving_zendesk_id_merges_the_outgoing_user_into_the_survivor(api: Api, sandbox: Sandbox) -> None:
    status, answer = api.call(
        "SyncUser", zendeskId=seeded.ZENDESK_ID, body={"survivingZendeskId": seeded.OTHER_ZENDESK_ID}
    )
    assert status == 200
    survivor = answer["user"]
    assert (survivor["id"], survivor["zendeskId"]) == (seeded.OTHER_USER_ID, seeded.OTHER_ZENDESK_ID)
    assert survivor["externalId"] == seeded.ZENDESK_USERS[seeded.OTHER_ZENDESK_ID]["externalId"]
    assert api.call("GetUser", userIdOrExternalId=seeded.SDK_USER_ID)[0] == 404
    # The outgoing user's sdk client moved over; its devices went with it.
    _, clients = api.call("ListClients", userIdOrExternalId=seeded.OTHER_USER_ID)
    assert [c["id"] for c in clients["clients"]] == [seeded.SDK_CLIENT_ID]
    (merged,) = events(sandbox, "user:merge")
    assert merged["mergedUsers"]["surviving"]["id"] == seeded.OTHER_USER_ID
    assert merged["mergedUsers"]["discarded"]["id"] == seeded.SDK_USER_ID
    assert merged["discardedMetadata"] == {"plan": "premium"}
    assert merged["reason"] == "api"


def test_a_surviving_zendesk_id_without_a_messaging_user_relinks_the_user(api: Api, sandbox: Sandbox) -> None:
    status, answer = api.call(
        "SyncUser", zendeskId=seeded.ZENDESK_ID, body={"survivingZendeskId": seeded.UNLINKED_ZENDESK_ID}
    )
    assert status == 200
    assert (answer["user"]["id"], answer["user"]["zendeskId"]) == (seeded.SDK_USER_ID, seeded.UNLINKED_ZENDESK_ID)
    assert answer["user"]["profile"]["surname"] == "Somerville"
    assert api.call("SyncUser", zendeskId=seeded.ZENDESK_ID)[0] == 404
    assert events(sandbox, "user:merge") == []


def test_sync_merges_an_unlinked_user_holding_the_external_id_and_strips_a_linked_one(
    api: Api, sandbox: Sandbox
) -> None:
    person = seeded.ZENDESK_USERS[seeded.ZENDESK_ID]
    stray = create_user(api, externalId=person["externalId"], metadata={"source": "web"})
    status, answer = api.call("SyncUser", zendeskId=seeded.ZENDESK_ID)
    assert status == 200
    assert answer["user"]["externalId"] == person["externalId"]
    assert api.call("GetUser", userIdOrExternalId=stray["id"])[0] == 404
    (merged,) = events(sandbox, "user:merge")
    assert merged["mergedUsers"]["discarded"]["id"] == stray["id"]
    assert merged["discardedMetadata"] == {"source": "web"}
    # The other linked user takes the same externalId: the first one, linked itself, only loses it.
    other = seeded.ZENDESK_USERS[seeded.OTHER_ZENDESK_ID]
    sandbox.store.update(seeded.ZENDESK_DIRECTORY, seeded.OTHER_ZENDESK_ID, lambda r: {**r, **person})
    status, answer = api.call("SyncUser", zendeskId=seeded.OTHER_ZENDESK_ID)
    assert status == 200
    assert answer["user"]["id"] == seeded.OTHER_USER_ID
    assert other["externalId"] != answer["user"]["externalId"] == person["externalId"]
    _, first = api.call("GetUser", userIdOrExternalId=seeded.SDK_USER_ID)
    assert first["user"]["externalId"] is None
    assert first["user"]["identities"] == []
    assert len(events(sandbox, "user:merge")) == 1


# -- devices and clients ---------------------------------------------------------------------------


def test_the_seeded_sdk_user_has_devices_listed_most_recent_first(api: Api) -> None:
    status, answer = api.call("ListDevices", userIdOrExternalId=seeded.SDK_USER_ID)
    assert status == 200
    assert [d["id"] for d in answer["devices"]] == list(seeded.SDK_DEVICE_IDS)
    assert {d["clientId"] for d in answer["devices"]} == {seeded.SDK_CLIENT_ID}
    for device in answer["devices"]:
        params = {"userIdOrExternalId": seeded.SDK_USER_ID, "deviceId": device["id"]}
        assert api.call("GetDevice", **params) == (200, {"device": device})


def test_devices_404_for_unknown_devices_and_users_and_are_empty_for_api_users(api: Api) -> None:
    status, answer = api.call("GetDevice", userIdOrExternalId=seeded.SDK_USER_ID, deviceId=OTHER_ID)
    assert (status, codes(answer)) == (404, ["device_not_found"])
    status, answer = api.call("ListDevices", userIdOrExternalId=OTHER_ID)
    assert (status, codes(answer)) == (404, ["user_not_found"])
    user = create_user(api, externalId="no-sdk")
    assert api.call("ListDevices", userIdOrExternalId=user["id"]) == (200, {"devices": []})


def test_an_sdk_client_cannot_be_removed_but_a_linked_one_can(api: Api, sandbox: Sandbox) -> None:
    status, answer = api.call("RemoveClient", userIdOrExternalId=seeded.SDK_USER_ID, clientId=seeded.SDK_CLIENT_ID)
    assert (status, answer) == (
        400,
        {"errors": [{"code": "bad_request", "title": "Cannot remove a client of type 'sdk'"}]},
    )
    status, created = api.call("CreateClient", body=CLIENT_BODY, userIdOrExternalId=seeded.SDK_USER_ID)
    assert status == 201
    assert created["client"]["status"] == "pending"
    (added,) = events(sandbox, "client:add")
    assert (added["client"], added["reason"], added["user"]["id"]) == (
        created["client"],
        "channelLinking",
        seeded.SDK_USER_ID,
    )
    assert added["conversation"] is None  # the target conversation is not one the app has
    params = {"userIdOrExternalId": seeded.SDK_USER_ID, "clientId": created["client"]["id"]}
    assert api.call("RemoveClient", **params) == (200, {})
    (removed,) = events(sandbox, "client:remove")
    assert (removed["client"]["id"], removed["reason"]) == (created["client"]["id"], "api")
    status, answer = api.call("RemoveClient", **params)
    assert (status, codes(answer)) == (404, ["client_not_found"])


def test_updating_and_deleting_a_user_fire_user_update_and_user_remove(api: Api, sandbox: Sandbox) -> None:
    user = create_user(api, externalId="evented")
    status, updated = api.call("UpdateUser", body={"profile": {"givenName": "Ada"}}, userIdOrExternalId=user["id"])
    assert status == 200
    assert events(sandbox, "user:update")[-1]["user"] == updated["user"]
    assert api.call("DeleteUser", userIdOrExternalId="evented") == (200, {})
    (removed,) = events(sandbox, "user:remove")
    # Events carry the whole user; each delivery truncates it unless the webhook asks for it all.
    assert removed["user"] == {**user, "profile": updated["user"]["profile"]}


# -- optional and form bodies (generic pipeline) --------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "data"),
    [({}, None), ({"Content-Type": "application/json"}, "")],
    ids=["no body at all", "an empty JSON body"],
)
def test_an_optional_body_may_be_left_out(api: Api, headers: dict[str, str], data: str | None) -> None:
    response = requests.post(
        api.url("SyncUser", zendeskId=seeded.ZENDESK_ID), data=data, headers=headers, auth=api.auth, timeout=10
    )
    assert response.status_code == 200, response.text


def test_a_body_of_another_media_type_is_415_naming_the_accepted_ones(sandbox: Sandbox) -> None:
    response = requests.post(
        f"{sandbox.url}/oauth/token", data="code=1", headers={"Content-Type": "text/plain"}, timeout=10
    )
    assert response.status_code == 415
    assert response.json()["errors"][0] == {
        "code": "unsupported_media_type",
        "title": "GetToken takes application/json or application/x-www-form-urlencoded, not text/plain",
    }
    status, answer = Api(sandbox).call(
        "SyncUser",
        data="survivingZendeskId=1",
        zendeskId=seeded.ZENDESK_ID,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (status, codes(answer)) == (415, ["unsupported_media_type"])
