"""The sandbox over a real socket: conversations, participants, activities, message refs, conversion events.

Every answer is checked against the schema its operation documents (``sandbox_support.checked``),
and every event the sandbox records against the documented event schema of its trigger.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sandbox_support import OTHER_ID, Api, codes

from conformance.contract.schemas import shipped
from conformance.sandbox import Sandbox

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
EVENT_SCHEMAS = {
    "conversation:create": "components/conversationCreateEvent.json",
    "conversation:join": "components/conversationJoinEvent.json",
    "conversation:leave": "components/conversationLeaveEvent.json",
    "conversation:remove": "components/conversationRemoveEvent.json",
    "conversation:read": "components/conversationReadEvent.json",
    "conversation:typing": "components/conversationTypingEvent.json",
    "client:add": "components/clientAddEvent.json",
}
APPLE = {"interactiveDataRef": {"url": "https://example.com/r", "bid": "b", "key": "k", "signature": "s", "owner": "o"}}


def user(api: Api, external_id: str) -> dict[str, Any]:
    status, body = api.call("CreateUser", body={"externalId": external_id})
    assert status == 201, body
    return dict(body["user"])


def conversation(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    status, answer = api.call("CreateConversation", body=body)
    assert status == 201, answer
    return dict(answer["conversation"])


def group(api: Api, *members: dict[str, Any], subscribe: bool = False) -> dict[str, Any]:
    named = [{"userId": m["id"], "subscribeSDKClient": subscribe} for m in members]
    return conversation(api, {"type": "sdkGroup", "participants": named})


def participants(api: Api, conversation_id: str, **query: str) -> list[dict[str, Any]]:
    status, body = api.call("ListParticipants", conversationId=conversation_id, query=query or None)
    assert status == 200, body
    return list(body["participants"])


def events(sandbox: Sandbox, trigger: str) -> list[dict[str, Any]]:
    """The payloads of ``trigger``'s events, each checked against the documented event schema."""
    found = []
    for event in sandbox.store.events:
        errors = [e.message for e in shipped().validator(EVENT_SCHEMAS[event["type"]]).iter_errors(event)]
        assert errors == [], (event["type"], errors)
        assert event["appId"] == sandbox.app_id
        if event["type"] == trigger:
            found.append(event["payload"])
    return found


# -- Create, get, delete ---------------------------------------------------------------------------


def test_a_personal_conversation_names_exactly_one_user_that_exists(api: Api) -> None:
    alice = user(api, "alice")
    for participants_given in (None, [], [{"userId": alice["id"]}, {"userExternalId": "alice"}]):
        body: dict[str, Any] = {"type": "personal"}
        if participants_given is not None:
            body["participants"] = participants_given
        status, answer = api.call("CreateConversation", body=body)
        assert (status, codes(answer)) == (400, ["bad_request"]), body
    for named in ({"userId": OTHER_ID}, {"userExternalId": "nobody"}):
        status, answer = api.call("CreateConversation", body={"type": "personal", "participants": [named]})
        assert (status, codes(answer)) == (404, ["user_not_found"])
    made = conversation(api, {"type": "personal", "participants": [{"userExternalId": "alice"}]})
    assert "participants" not in made
    assert TIMESTAMP.match(made["createdAt"])
    assert made["lastUpdatedAt"] == made["createdAt"]
    assert made["businessLastRead"] is None
    assert [p["userId"] for p in participants(api, made["id"])] == [alice["id"]]


def test_only_a_users_first_personal_conversation_is_its_default_and_it_cannot_be_deleted(api: Api) -> None:
    alice, bob = user(api, "alice"), user(api, "bob")
    group(api, alice)  # a group conversation is never a default, nor does it make one
    first = conversation(api, {"type": "personal", "participants": [{"userId": alice["id"]}]})
    second = conversation(api, {"type": "personal", "participants": [{"userId": alice["id"]}]})
    bobs = conversation(api, {"type": "personal", "participants": [{"userId": bob["id"]}]})
    assert (first["isDefault"], second["isDefault"], bobs["isDefault"]) == (True, False, True)
    status, answer = api.call("DeleteConversation", conversationId=first["id"])
    assert (status, codes(answer)) == (400, ["bad_request"])
    assert first["id"] in answer["errors"][0]["title"]
    assert api.call("GetConversation", conversationId=first["id"])[0] == 200
    assert api.call("DeleteConversation", conversationId=second["id"]) == (200, {})


def test_a_user_takes_part_once_and_a_group_participant_says_subscribeSDKClient(api: Api) -> None:
    alice = user(api, "alice")
    twice = {"type": "sdkGroup", "participants": [{"userId": alice["id"], "subscribeSDKClient": False}] * 2}
    status, answer = api.call("CreateConversation", body=twice)
    assert (status, codes(answer)) == (400, ["bad_request"])
    status, answer = api.call(
        "CreateConversation", body={"type": "sdkGroup", "participants": [{"userId": alice["id"]}]}
    )
    assert (status, codes(answer)) == (400, ["bad_request"])
    assert "subscribeSDKClient" in answer["errors"][0]["title"]


def test_deleting_a_conversation_takes_its_participants_and_tells_webhooks(api: Api, sandbox: Sandbox) -> None:
    alice = user(api, "alice")
    made = group(api, alice)
    assert api.call("DeleteConversation", conversationId=made["id"]) == (200, {})
    status, answer = api.call("ListParticipants", conversationId=made["id"])
    assert (status, codes(answer)) == (404, ["conversation_not_found"])
    status, answer = api.call("DeleteConversation", conversationId=made["id"])
    assert (status, codes(answer)) == (404, ["conversation_not_found"])
    assert events(sandbox, "conversation:remove") == [{"conversation": {"id": made["id"], "type": "sdkGroup"}}]
    created = events(sandbox, "conversation:create")
    assert created == [{"conversation": {"id": made["id"], "type": "sdkGroup"}, "creationReason": "none"}]


def test_a_personal_conversation_event_carries_its_user(api: Api, sandbox: Sandbox) -> None:
    alice = user(api, "alice")
    made = conversation(api, {"type": "personal", "participants": [{"userId": alice["id"]}], "metadata": {"a": 1}})
    [payload] = events(sandbox, "conversation:create")
    assert payload["conversation"] == {"id": made["id"], "type": "personal", "metadata": {"a": 1}}
    assert payload["user"]["id"] == alice["id"]


def _metadata(size: int) -> dict[str, str]:
    return {"k": "v" * (size - len('{"k":""}'))}


def test_metadata_is_flat_and_at_most_4kb(api: Api) -> None:
    assert len(json.dumps(_metadata(4096), separators=(",", ":"))) == 4096
    made = conversation(api, {"type": "sdkGroup", "metadata": _metadata(4096)})
    for metadata in (_metadata(4097), {"nested": {"a": 1}}, {"list": [1]}, {"none": None}):
        status, answer = api.call("CreateConversation", body={"type": "sdkGroup", "metadata": metadata})
        assert (status, codes(answer)) == (400, ["bad_request"]), metadata
        status, answer = api.call("UpdateConversation", conversationId=made["id"], body={"metadata": metadata})
        assert (status, codes(answer)) == (400, ["bad_request"]), metadata
    status, answer = api.call("UpdateConversation", conversationId=made["id"], body={"metadata": {"n": 1.5, "b": True}})
    assert status == 200
    assert answer["conversation"]["metadata"] == {"n": 1.5, "b": True}


def test_an_icon_url_that_is_no_uri_is_refused_and_a_uri_is_echoed(api: Api) -> None:
    made = conversation(api, {"type": "sdkGroup"})
    for bad in ("AAA", "example.com/icon.png"):
        status, answer = api.call("UpdateConversation", conversationId=made["id"], body={"iconUrl": bad})
        assert (status, codes(answer)) == (400, ["bad_request"]), bad
        assert "'uri'" in answer["errors"][0]["title"]
        status, answer = api.call("CreateConversation", body={"type": "sdkGroup", "iconUrl": bad})
        assert (status, codes(answer)) == (400, ["bad_request"]), bad
    status, answer = api.call(
        "UpdateConversation", conversationId=made["id"], body={"iconUrl": "https://example.com/i.png"}
    )
    assert status == 200
    assert answer["conversation"]["iconUrl"] == "https://example.com/i.png"
    # the sandbox's own clock answers RFC 3339 timestamps, held to format date-time by ``checked``
    assert shipped().validator("components/conversation.json").is_valid(answer["conversation"])
    assert TIMESTAMP.match(answer["conversation"]["lastUpdatedAt"])


# -- Lists by participant --------------------------------------------------------------------------


def test_conversations_are_listed_for_one_user_that_exists(api: Api, sandbox: Sandbox) -> None:
    alice, bob = user(api, "alice"), user(api, "bob")
    mine = [group(api, alice)["id"] for _ in range(3)]
    group(api, bob)
    both = group(api, alice, bob)["id"]
    status, answer = api.call("ListConversations", query={"filter[userId]": alice["id"], "page[size]": "2"})
    assert status == 200
    assert [c["id"] for c in answer["conversations"]] == mine[:2]
    assert "filter[userId]=" + alice["id"] in answer["links"]["next"]
    status, answer = api.call("ListConversations", query={"filter[userExternalId]": "alice", "page[after]": mine[1]})
    assert [c["id"] for c in answer["conversations"]] == [mine[2], both]
    for query in (
        {},
        {"filter[userId]": alice["id"], "filter[userExternalId]": "alice"},
        {"filter[userId]": alice["id"], "page[size]": "0"},
    ):
        status, answer = api.call("ListConversations", query=query)
        assert (status, codes(answer)) == (400, ["bad_request"]), query
    for query in ({"filter[userId]": OTHER_ID}, {"filter[userExternalId]": "nobody"}):
        status, answer = api.call("ListConversations", query=query)
        assert (status, codes(answer)) == (404, ["user_not_found"]), query


# -- Join, leave, list participants ------------------------------------------------------------------


def test_joining_a_group_makes_a_participant_and_subscribing_gives_an_sdk_client(api: Api, sandbox: Sandbox) -> None:
    alice, bob = user(api, "alice"), user(api, "bob")
    made = group(api, alice)
    status, answer = api.call(
        "JoinConversation", conversationId=made["id"], body={"userExternalId": "bob", "subscribeSDKClient": True}
    )
    assert status == 201
    joined = answer["participant"]
    assert (joined["userId"], joined["userExternalId"], joined["unreadCount"]) == (bob["id"], "bob", 0)
    [association] = joined["clientAssociations"]
    status, clients = api.call("ListClients", userIdOrExternalId=bob["id"])
    assert [(c["id"], c["type"]) for c in clients["clients"]] == [(association["clientId"], "sdk")]
    assert [p["id"] for p in participants(api, made["id"])][1] == joined["id"]
    [event] = events(sandbox, "conversation:join")
    assert event == {
        "conversation": {"id": made["id"], "type": "sdkGroup"},
        "user": {"id": bob["id"], "externalId": "bob", "authenticated": False},
    }
    assert [e["client"]["id"] for e in events(sandbox, "client:add")] == [association["clientId"]]


def test_join_refuses_a_personal_conversation_a_member_an_unknown_user_and_an_eleventh(api: Api) -> None:
    users = [user(api, f"user-{n}") for n in range(11)]
    personal = conversation(api, {"type": "personal", "participants": [{"userId": users[0]["id"]}]})
    joining = {"userId": users[1]["id"], "subscribeSDKClient": False}
    cases = [
        (personal["id"], joining, 400, "bad_request"),
        (OTHER_ID, joining, 404, "conversation_not_found"),
    ]
    full = group(api, *users[:10])
    cases += [
        (full["id"], {"userId": users[10]["id"], "subscribeSDKClient": False}, 400, "bad_request"),
        (full["id"], {"userId": OTHER_ID, "subscribeSDKClient": False}, 404, "user_not_found"),
    ]
    small = group(api, users[0])
    cases += [
        (small["id"], {"userId": users[0]["id"], "subscribeSDKClient": True}, 400, "bad_request"),
        (small["id"], {"userId": users[1]["id"]}, 400, "bad_request"),
    ]
    for conversation_id, body, status, code in cases:
        got, answer = api.call("JoinConversation", conversationId=conversation_id, body=body)
        assert (got, codes(answer)) == (status, [code]), body
    assert len(participants(api, full["id"])) == 10


def test_participants_leave_by_any_name_and_only_once(api: Api, sandbox: Sandbox) -> None:
    alice, bob, carol = user(api, "alice"), user(api, "bob"), user(api, "carol")
    made = group(api, alice, bob, carol)
    alices = participants(api, made["id"])[0]["id"]
    for body in ({"participantId": alices}, {"userId": bob["id"]}, {"userExternalId": "carol"}):
        assert api.call("LeaveConversation", conversationId=made["id"], body=body) == (200, {})
        status, answer = api.call("LeaveConversation", conversationId=made["id"], body=body)
        assert (status, codes(answer)) == (404, ["not_found"])
    assert participants(api, made["id"]) == []
    assert [e["user"]["id"] for e in events(sandbox, "conversation:leave")] == [alice["id"], bob["id"], carol["id"]]
    status, answer = api.call("ListConversations", query={"filter[userId]": alice["id"]})
    assert answer["conversations"] == []
    status, answer = api.call("LeaveConversation", conversationId=OTHER_ID, body={"userId": alice["id"]})
    assert (status, codes(answer)) == (404, ["conversation_not_found"])
    for body in ({}, {"userId": alice["id"], "participantId": alices}):
        status, answer = api.call("LeaveConversation", conversationId=made["id"], body=body)
        assert (status, codes(answer)) == (400, ["bad_request"])


def test_a_personal_conversations_participant_cannot_leave(api: Api) -> None:
    alice = user(api, "alice")
    made = conversation(api, {"type": "personal", "participants": [{"userId": alice["id"]}]})
    status, answer = api.call("LeaveConversation", conversationId=made["id"], body={"userId": alice["id"]})
    assert (status, codes(answer)) == (400, ["bad_request"])


def test_participants_page_both_ways_and_a_deleted_user_takes_part_no_more(api: Api) -> None:
    members = [user(api, f"user-{n}") for n in range(5)]
    made = group(api, *members)
    ids = [p["id"] for p in participants(api, made["id"])]
    first = participants(api, made["id"], **{"page[size]": "2"})
    assert [p["id"] for p in first] == ids[:2]
    back = participants(api, made["id"], **{"page[size]": "2", "page[before]": ids[4]})
    assert [p["id"] for p in back] == ids[2:4]
    status, answer = api.call("ListParticipants", conversationId=made["id"], query={"page[size]": "101"})
    assert (status, codes(answer)) == (400, ["bad_request"])
    assert api.call("DeleteUser", userIdOrExternalId=members[0]["id"])[0] == 200
    assert [p["userId"] for p in participants(api, made["id"])] == [m["id"] for m in members[1:]]


# -- Activities ------------------------------------------------------------------------------------


def test_reads_mark_the_reader_and_typing_is_told_to_webhooks(api: Api, sandbox: Sandbox) -> None:
    alice = user(api, "alice")
    made = group(api, alice)
    read = {"type": "conversation:read", "author": {"type": "user", "userExternalId": "alice"}}
    assert api.call("PostActivity", conversationId=made["id"], body=read) == (200, {})
    [reader] = participants(api, made["id"])
    assert TIMESTAMP.match(reader["lastRead"])
    assert reader["unreadCount"] == 0
    assert api.call("GetConversation", conversationId=made["id"])[1]["conversation"]["businessLastRead"] is None
    business = {"type": "business", "displayName": "Bot"}
    for kind in ("typing:start", "typing:stop", "conversation:read"):
        body = {"type": kind, "author": business}
        assert api.call("PostActivity", conversationId=made["id"], body=body) == (200, {})
    fetched = api.call("GetConversation", conversationId=made["id"])[1]["conversation"]
    assert TIMESTAMP.match(fetched["businessLastRead"])
    assert fetched["businessLastRead"] > reader["lastRead"]
    reads = events(sandbox, "conversation:read")
    assert [(r["activity"]["author"]["type"], r["activity"]["author"].get("userId")) for r in reads] == [
        ("user", alice["id"]),
        ("business", None),
    ]
    typing = events(sandbox, "conversation:typing")
    assert [t["activity"] for t in typing] == [
        {"type": "typing:start", "author": business},
        {"type": "typing:stop", "author": business},
    ]


@pytest.mark.parametrize(
    ("author", "kind", "status", "code"),
    [
        ({"type": "user", "userId": "ALICE"}, "typing:start", 400, "bad_request"),
        ({"type": "user"}, "conversation:read", 400, "bad_request"),
        ({"type": "user", "userId": OTHER_ID}, "conversation:read", 404, "user_not_found"),
        ({"type": "user", "userExternalId": "bob"}, "conversation:read", 400, "bad_request"),
        ({"type": "robot"}, "typing:start", 400, "bad_request"),
    ],
)
def test_activities_the_sandbox_refuses(api: Api, author: dict[str, str], kind: str, status: int, code: str) -> None:
    alice = user(api, "alice")
    user(api, "bob")  # not a participant
    made = group(api, alice)
    named = {k: (alice["id"] if v == "ALICE" else v) for k, v in author.items()}
    got, answer = api.call("PostActivity", conversationId=made["id"], body={"type": kind, "author": named})
    assert (got, codes(answer)) == (status, [code])


def test_an_activity_in_an_unknown_conversation_is_404(api: Api) -> None:
    body = {"type": "typing:start", "author": {"type": "business"}}
    status, answer = api.call("PostActivity", conversationId=OTHER_ID, body=body)
    assert (status, codes(answer)) == (404, ["conversation_not_found"])


# -- Message refs and conversion events ------------------------------------------------------------


def test_download_message_ref_needs_an_apple_ref_a_user_and_a_conversation(api: Api) -> None:
    alice = user(api, "alice")
    made = group(api, alice)
    cases = [
        (made["id"], {"userId": alice["id"], "apple": APPLE}, 200, None),
        (made["id"], {"userId": alice["id"]}, 400, "bad_request"),
        (made["id"], {"userId": alice["id"], "apple": {"interactiveDataRef": {"url": "u"}}}, 400, "bad_request"),
        (made["id"], {"userId": OTHER_ID, "apple": APPLE}, 404, "user_not_found"),
        (OTHER_ID, {"userId": alice["id"], "apple": APPLE}, 404, "conversation_not_found"),
    ]
    for conversation_id, body, status, code in cases:
        got, answer = api.call("DownloadMessageRef", conversationId=conversation_id, body=body)
        assert got == status, body
        assert answer == {} if code is None else set(codes(answer)) == {code}


def test_conversion_events_are_counted_per_channel_dataset(api: Api) -> None:
    made = group(api)
    seen: dict[str, str] = {}
    for channel, count in (("messenger", 2), ("instagram", 0), ("whatsapp", 3), ("messenger", 1)):
        body = {channel: {"payload": {"data": [{"event_name": "Purchase"}] * count}}}
        status, answer = api.call("PostConversionEvents", conversationId=made["id"], body=body)
        assert status == 200
        assert answer["conversionEvents"]["eventsReceived"] == count
        dataset = answer["conversionEvents"]["datasetId"]
        assert re.fullmatch(r"\d{16}", dataset)
        assert seen.setdefault(channel, dataset) == dataset
    assert len(set(seen.values())) == 3
    one = {"payload": {"data": []}}
    for body in ({"messenger": one, "whatsapp": one}, {}, {"instagram": {"payload": {}}}):
        status, answer = api.call("PostConversionEvents", conversationId=made["id"], body=body)
        assert (status, codes(answer)) == (400, ["bad_request"]), body
    status, answer = api.call("PostConversionEvents", conversationId=OTHER_ID, body={"messenger": one})
    assert (status, codes(answer)) == (404, ["conversation_not_found"])


# -- Credentials and determinism -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation_id", "body"),
    [
        ("GetConversation", None),
        ("JoinConversation", {"userId": OTHER_ID, "subscribeSDKClient": False}),
        ("LeaveConversation", {"userId": OTHER_ID}),
        ("ListParticipants", None),
        ("PostActivity", {"type": "typing:start", "author": {"type": "business"}}),
        ("DownloadMessageRef", {"userId": OTHER_ID, "apple": APPLE}),
        ("PostConversionEvents", {"whatsapp": {"payload": {"data": []}}}),
    ],
)
def test_every_conversation_operation_needs_credentials(api: Api, operation_id: str, body: Any) -> None:
    made = group(api)
    kwargs = {} if body is None else {"body": body}
    status, answer = api.call(operation_id, conversationId=made["id"], auth=None, **kwargs)
    assert (status, codes(answer)) == (401, ["unauthorized"])


def test_a_seeded_sandbox_gives_the_same_ids_and_times() -> None:
    answers = []
    for _ in range(2):
        with Sandbox(seed=3) as sandbox:
            api = Api(sandbox)
            alice = user(api, "alice")
            answers.append((alice, conversation(api, {"type": "personal", "participants": [{"userId": alice["id"]}]})))
    assert answers[0] == answers[1]
    assert answers[0][1]["createdAt"] == "2026-01-01T00:00:00.001Z"
