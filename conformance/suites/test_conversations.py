"""Conversations: the tests the resource table implies, and the rules only prose or state can say.

Generated tests draw sdkGroup conversations naming a user made for the test (conversations are
listed by participant). Personal conversations, the default one, lists by participant, metadata
limits, message-ref downloads and conversion events are written by hand below.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from conformance.model import Expect, Variant
from conformance.session.session import ConformanceSession
from conformance.suites.conversation_support import (
    CONVERSATION,
    each,
    group_body,
    listed_ids,
    make_conversation,
    make_user,
    make_users,
    on,
    on_unknown_conversation,
    record_of,
    state,
    unknown,
    with_member,
)
from conformance.suites.expectations import created
from conformance.suites.flows import Records
from conformance.suites.generic.generated import Generated
from conformance.variants import negative

GENERATED = Generated("conversation", wrap=with_member)

BAD = Expect(400, "bad_request")
METADATA_LIMIT = 4096


def test_create_conversation_personal_has_one_participant_and_the_first_is_the_default(
    sunco: ConformanceSession,
) -> None:
    user = make_user(sunco)
    records = Records(sunco, CONVERSATION)
    two = [{"userId": user["id"]}, {"userExternalId": user["externalId"]}]
    for variant in each(
        sunco,
        "personal-refused",
        [
            Variant("personal without participants", {"type": "personal"}, BAD),
            Variant("personal with an empty participant list", {"type": "personal", "participants": []}, BAD),
            Variant("personal with two participants", {"type": "personal", "participants": two}, BAD),
        ],
    ):
        records.create(variant)
    first, second = each(
        sunco,
        "personal",
        [
            created(
                CONVERSATION,
                {"type": "personal", "participants": [{"userId": user["id"]}]},
                "first personal conversation",
            ),
            created(
                CONVERSATION,
                {"type": "personal", "participants": [{"userExternalId": user["externalId"]}]},
                "second one",
            ),
        ],
    )
    made = records.create(first)
    first_id = sunco.require(made.id, "the user's first personal conversation", first)
    state(
        sunco,
        made.record.get("isDefault") is True,
        "made a user's first personal conversation not its default.",
        "/conversation/isDefault",
        True,
        made.record.get("isDefault"),
    )
    again = records.create(second)
    second_id = sunco.require(again.id, "the user's second personal conversation", second)
    state(
        sunco,
        again.record.get("isDefault") is False,
        "made a second personal conversation the default too.",
        "/conversation/isDefault",
        False,
        again.record.get("isDefault"),
    )
    # The default conversation cannot be deleted: it goes with its user, at teardown.
    records.delete(first_id, expect=BAD)
    sunco.ledger.forget(CONVERSATION, records.path(first_id))
    records.call("get", first_id, expect=Expect(200))
    records.delete(second_id)
    sunco.finish()


def test_create_conversation_returns_404_for_participants_who_are_not_users(sunco: ConformanceSession) -> None:
    records = Records(sunco, CONVERSATION)

    def by_id(value: str) -> Variant:
        body = {"type": "sdkGroup", "participants": [{"userId": value, "subscribeSDKClient": False}]}
        return Variant("sdkGroup participant with an unknown userId", body, Expect(404, "user_not_found"))

    def by_external_id(value: str) -> Variant:
        body = {"type": "personal", "participants": [{"userExternalId": "conformance-unknown-" + value}]}
        return Variant("personal participant with an unknown userExternalId", body, Expect(404, "user_not_found"))

    for variant in [*unknown("unknown-user-id", sunco, by_id), *unknown("unknown-external-id", sunco, by_external_id)]:
        records.create(variant)
    sunco.finish()


def test_create_conversation_rejects_participants_breaking_prose_rules(sunco: ConformanceSession) -> None:
    user = make_user(sunco)
    records = Records(sunco, CONVERSATION)
    both = {"userId": user["id"], "userExternalId": user["externalId"], "subscribeSDKClient": False}
    for variant in each(
        sunco,
        "participant-rules",
        [
            Variant(
                "sdkGroup participant without subscribeSDKClient",
                {"type": "sdkGroup", "participants": [{"userId": user["id"]}]},
                BAD,
            ),
            Variant(
                "participant named by both userId and userExternalId", {"type": "sdkGroup", "participants": [both]}, BAD
            ),
            Variant("sdkGroup with 11 participants", group_body(*[user] * 11), BAD),
        ],
    ):
        records.create(variant)
    sunco.finish()


def test_list_conversations_filters_by_participant(sunco: ConformanceSession) -> None:
    first, second = make_users(sunco, 2)
    only_first = make_conversation(sunco, "first-only", group_body(first))
    only_second = make_conversation(sunco, "second-only", group_body(second, by="userExternalId"))
    both = make_conversation(sunco, "both", group_body(first, second, subscribe=True))
    asked = {
        "filter[userId]": (first["id"], {only_first, both}),
        "filter[userExternalId]": (second["externalId"], {only_second, both}),
    }
    for key, (value, expected) in asked.items():
        listed = sunco.call("ListConversations", query={key: value, "page[size]": "100"}, expect=Expect(200))
        found = set(listed_ids(listed, "conversations"))
        state(
            sunco,
            found == expected,
            f"listed other conversations than {key} names the participant of.",
            "/conversations",
            sorted(expected),
            sorted(found),
        )
    sunco.finish()


def test_list_conversations_needs_one_user_that_exists(sunco: ConformanceSession) -> None:
    user = make_user(sunco)

    def query(label: str, params: dict[str, str], expect: Expect) -> Variant:
        return Variant(label, None, expect, params={"query": params})

    fixed = [
        query("no filter", {}, BAD),
        query(
            "both userId and userExternalId",
            {"filter[userId]": user["id"], "filter[userExternalId]": user["externalId"]},
            BAD,
        ),
    ]
    missing = Expect(404, "user_not_found")
    drawn = [
        *unknown("unknown-user-id", sunco, lambda i: query("unknown userId", {"filter[userId]": i}, missing)),
        *unknown(
            "unknown-external-id",
            sunco,
            lambda i: query("unknown userExternalId", {"filter[userExternalId]": "conformance-unknown-" + i}, missing),
        ),
    ]
    for variant in [*each(sunco, "filters", fixed), *drawn]:
        sunco.call("ListConversations", variant=variant)
    sunco.finish()


def _metadata(size: int, key: str = "note") -> dict[str, str]:
    """Metadata whose compact JSON is exactly ``size`` bytes."""
    overhead = len(json.dumps({key: ""}, separators=(",", ":")))
    return {key: "m" * (size - overhead)}


def test_conversation_metadata_is_flat_and_at_most_4kb(sunco: ConformanceSession) -> None:
    records = Records(sunco, CONVERSATION)
    group = {"type": "sdkGroup"}
    made = each(
        sunco,
        "create-metadata",
        [
            created(CONVERSATION, {**group, "metadata": _metadata(METADATA_LIMIT)}, "metadata of exactly 4KB"),
            Variant("metadata one byte over 4KB", {**group, "metadata": _metadata(METADATA_LIMIT + 1)}, BAD),
            Variant("metadata with a nested object", {**group, "metadata": {"lang": {"code": "en"}}}, BAD),
            Variant("metadata with a list", {**group, "metadata": {"tags": ["a", "b"]}}, BAD),
        ],
    )
    ids = [records.create(variant).id for variant in made]
    conversation_id = sunco.require(ids[0], "a conversation with 4KB of metadata", made[0])
    for variant in each(
        sunco,
        "update-metadata",
        [
            Variant("update to metadata one byte over 4KB", {"metadata": _metadata(METADATA_LIMIT + 1, "n")}, BAD),
            Variant("update to nested metadata", {"metadata": {"seats": {"count": 3}}}, BAD),
            Variant(
                "update to other metadata of exactly 4KB",
                {"metadata": _metadata(METADATA_LIMIT, "other")},
                Expect(200, echo=(("/metadata", "/conversation/metadata"),)),
            ),
        ],
    ):
        records.call("update", conversation_id, variant=variant)
    sunco.finish()


APPLE_REF = {
    "interactiveDataRef": {
        "url": "https://example.com/refs/M58C0A1A2EB62B6E899B4F28996E8DA229E1914295299C39944B2F2CA7482AE50",
        "bid": "com.apple.messages.MSMessageExtensionBalloonPlugin:0000000000:com.example.extension",
        "key": "00c0d1827fdc858fe7b42421de1fb289c2ee0a9463d787ce4f118506f970bd6e38",
        "signature": "81a619c81da5a01c6139219a5d20e17430c631e1eb",
        "owner": "M58C0A2A1EB62B4E859B4F28996E8DA229E1914295299C39944B2F2CA7482AE50",
    }
}
DOWNLOAD_BODY = "components/downloadMessageRefBody.json"


def test_download_message_ref_for_a_participant(sunco: ConformanceSession) -> None:
    user = make_user(sunco)
    conversation_id = make_conversation(sunco, "conversation", group_body(user))
    valid = {"userId": user["id"], "apple": APPLE_REF}
    ref = APPLE_REF["interactiveDataRef"]
    fixed = [
        Variant("an Apple message ref of a participant", valid, Expect(200)),
        Variant("a ref that is not Apple's", {"userId": user["id"]}, BAD),
        Variant("an Apple ref without interactiveDataRef", {"userId": user["id"], "apple": {}}, BAD),
        Variant(
            "an interactiveDataRef without its signature",
            {"userId": user["id"], "apple": {"interactiveDataRef": {k: v for k, v in ref.items() if k != "signature"}}},
            BAD,
        ),
    ]
    broken = negative.wrong_types(st.just([valid]), DOWNLOAD_BODY, "bad_request", limit=2, discriminator=None)
    missing = Expect(404, "user_not_found")
    for variant in [
        *each(sunco, "download", fixed),
        *sunco.variants("wrong-types", broken, 2),
        *unknown(
            "unknown-user", sunco, lambda i: Variant("an unknown userId", {"userId": i, "apple": APPLE_REF}, missing)
        ),
    ]:
        on(sunco, "DownloadMessageRef", conversation_id, variant)
    on_unknown_conversation(sunco, "DownloadMessageRef", valid)
    sunco.finish()


CONVERSION_EVENTS = st.lists(
    st.fixed_dictionaries(
        {
            "event_name": st.sampled_from(["Purchase", "LeadSubmitted", "AddToCart"]),
            "event_time": st.integers(1_700_000_000, 1_800_000_000),
            "action_source": st.just("business_messaging"),
        }
    ),
    min_size=1,
    max_size=3,
)


def test_post_conversion_events_counts_what_each_channel_received(sunco: ConformanceSession) -> None:
    conversation_id = make_conversation(sunco, "conversation", {"type": "sdkGroup"})
    channels = ("messenger", "instagram", "whatsapp")
    accepted = st.tuples(*(CONVERSION_EVENTS for _ in channels)).map(
        lambda found: [
            Variant(f"{len(events)} {channel} conversion events", {channel: {"payload": {"data": events}}}, Expect(200))
            for channel, events in zip(channels, found, strict=True)
        ]
    )
    for variant in sunco.variants("per-channel", accepted, len(channels)):
        exchange = on(sunco, "PostConversionEvents", conversation_id, variant)
        sent = next(iter(variant.body.values()))["payload"]["data"]
        got = record_of(exchange, "conversionEvents").get("eventsReceived")
        state(
            sunco,
            got == len(sent),
            "did not count the conversion events it was sent.",
            "/conversionEvents/eventsReceived",
            len(sent),
            got,
        )
    one = {"payload": {"data": [{"event_name": "Purchase", "action_source": "business_messaging"}]}}
    for variant in each(
        sunco,
        "refused",
        [
            Variant("events for two channels at once", {"messenger": one, "whatsapp": one}, BAD),
            Variant("events for no channel", {}, BAD),
            Variant("a payload without data", {"instagram": {"payload": {}}}, BAD),
            Variant("data that is not a list", {"messenger": {"payload": {"data": {"event_name": "Purchase"}}}}, BAD),
        ],
    ):
        on(sunco, "PostConversionEvents", conversation_id, variant)
    on_unknown_conversation(sunco, "PostConversionEvents", {"whatsapp": one})
    sunco.finish()


def test_conversation_operations_require_credentials(sunco: ConformanceSession) -> None:
    user = make_user(sunco)
    conversation_id = make_conversation(sunco, "conversation", group_body(user))
    unauthorized = Expect(401, "unauthorized")
    path = {"conversationId": conversation_id}
    calls: list[tuple[str, Any, dict[str, str] | None, dict[str, str] | None]] = [
        ("ListConversations", None, None, {"filter[userId]": user["id"]}),
        ("GetConversation", None, path, None),
        ("UpdateConversation", {"displayName": "conformance renamed"}, path, None),
        ("DeleteConversation", None, path, None),
        ("ListParticipants", None, path, None),
        ("JoinConversation", {"userId": user["id"], "subscribeSDKClient": False}, path, None),
        ("LeaveConversation", {"userId": user["id"]}, path, None),
        ("PostActivity", {"type": "typing:start", "author": {"type": "business"}}, path, None),
        ("DownloadMessageRef", {"userId": user["id"], "apple": APPLE_REF}, path, None),
        ("PostConversionEvents", {"whatsapp": {"payload": {"data": []}}}, path, None),
    ]
    for operation_id, body, path_params, query in calls:
        sunco.call(
            operation_id, body=body, path_params=path_params, query=query, authenticate=False, expect=unauthorized
        )
    # Nothing changed: the conversation is still there, named as before.
    fetched = sunco.call("GetConversation", path_params=path, expect=Expect(200))
    name = record_of(fetched, "conversation").get("displayName")
    state(
        sunco,
        name == "conformance group",
        "changed a conversation for a request without credentials.",
        "/conversation/displayName",
        "conformance group",
        name,
    )
    sunco.finish()
