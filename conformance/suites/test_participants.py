"""Participants: users joining and leaving sdkGroup conversations, listed page by page.

Join, Leave and List Participants have no role in the resource table (join and leave are actions
on a conversation), so their variants are written here: valid bodies naming users made for the
test, and each way the contract and its prose let a body or a target be wrong.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from conformance.model import Expect, Variant
from conformance.session.session import ConformanceSession
from conformance.suites.conversation_support import (
    CONVERSATION,
    each,
    expect_read_by_business,
    group_body,
    listed_ids,
    make_conversation,
    make_users,
    on,
    on_unknown_conversation,
    record_of,
    state,
    unknown,
)
from conformance.suites.expectations import created
from conformance.suites.flows import Records
from conformance.suites.paging import PAGE_SIZE, check_cover, pages, walk_pages
from conformance.variants import negative

BAD = Expect(400, "bad_request")
NOT_A_PARTICIPANT = Expect(404, "not_found")
JOIN_BODY = "components/participantJoinBody.json"
LEAVE_BODY = "components/participantLeaveBody.json"


def _participants(sunco: ConformanceSession, conversation_id: str) -> list[dict[str, Any]]:
    listed = sunco.call(
        "ListParticipants",
        path_params={"conversationId": conversation_id},
        query={"page[size]": "100"},
        expect=Expect(200),
    )
    body = listed.body if isinstance(listed.body, dict) else {}
    return [p for p in body.get("participants") or [] if isinstance(p, dict)]


def _listed_in(sunco: ConformanceSession, user_id: str) -> list[str]:
    listed = sunco.call("ListConversations", query={"filter[userId]": user_id, "page[size]": "100"}, expect=Expect(200))
    return listed_ids(listed, "conversations")


def test_conversation_with_participants_joining_and_leaving_and_an_activity(sunco: ConformanceSession) -> None:
    first, second, third = make_users(sunco, 3)
    conversation_id = make_conversation(sunco, "group", group_body(first))
    joins = each(
        sunco,
        "join",
        [
            Variant(
                "join by userId, subscribing the user's SDK client",
                {"userId": second["id"], "subscribeSDKClient": True},
                Expect(201, echo=(("/userId", "/participant/userId"),)),
            ),
            Variant(
                "join by userExternalId",
                {"userExternalId": third["externalId"], "subscribeSDKClient": False},
                Expect(201, echo=(("/userExternalId", "/participant/userExternalId"),)),
            ),
        ],
    )
    joined = [record_of(on(sunco, "JoinConversation", conversation_id, v), "participant") for v in joins]
    kinds = [a.get("type") for a in joined[0].get("clientAssociations") or [] if isinstance(a, dict)]
    state(
        sunco,
        "sdk" in kinds,
        "did not associate the SDK client of a participant who subscribed it.",
        "/participant/clientAssociations",
        "an association of type sdk",
        kinds,
    )
    members = {p.get("userId") for p in _participants(sunco, conversation_id)}
    everyone = {first["id"], second["id"], third["id"]}
    state(
        sunco,
        members == everyone,
        "does not list the participants who joined.",
        "/participants",
        sorted(everyone),
        sorted(str(m) for m in members),
    )
    state(
        sunco,
        conversation_id in _listed_in(sunco, second["id"]),
        "does not list a conversation for a user who joined it.",
        "/conversations",
        conversation_id,
        "absent",
    )

    business = {"type": "business", "displayName": "Conformance bot"}
    for variant in each(
        sunco,
        "activity",
        [
            Variant("the business starts typing", {"type": "typing:start", "author": business}, Expect(200)),
            Variant("the business stops typing", {"type": "typing:stop", "author": business}, Expect(200)),
            Variant(
                "a participant reads",
                {"type": "conversation:read", "author": {"type": "user", "userId": first["id"]}},
                Expect(200),
            ),
            Variant("the business reads", {"type": "conversation:read", "author": business}, Expect(200)),
        ],
    ):
        on(sunco, "PostActivity", conversation_id, variant)
    expect_read_by_business(sunco, conversation_id)
    reader = next((p for p in _participants(sunco, conversation_id) if p.get("userId") == first["id"]), {})
    state(
        sunco,
        isinstance(reader.get("lastRead"), str) and reader.get("unreadCount") == 0,
        "did not mark the conversation read by the participant who read it.",
        "/participants",
        "lastRead set, unreadCount 0",
        {k: reader.get(k) for k in ("lastRead", "unreadCount")},
    )

    first_participant = str(reader.get("id"))
    for variant in each(
        sunco,
        "leave",
        [
            Variant("leave by userId", {"userId": second["id"]}, Expect(200)),
            Variant("leave by userExternalId", {"userExternalId": third["externalId"]}, Expect(200)),
            Variant("leave by participantId", {"participantId": first_participant}, Expect(200)),
            Variant("leave again", {"userId": second["id"]}, NOT_A_PARTICIPANT),
        ],
    ):
        on(sunco, "LeaveConversation", conversation_id, variant)
    left = _participants(sunco, conversation_id)
    state(sunco, left == [], "still lists participants who left.", "/participants", [], left)
    state(
        sunco,
        conversation_id not in _listed_in(sunco, second["id"]),
        "still lists a conversation for a user who left it.",
        "/conversations",
        "absent",
        conversation_id,
    )
    sunco.finish()


def test_join_conversation_refuses_what_cannot_join(sunco: ConformanceSession) -> None:
    owner, newcomer = make_users(sunco, 2)
    records = Records(sunco, CONVERSATION)
    personal = each(
        sunco,
        "personal",
        [
            created(
                CONVERSATION, {"type": "personal", "participants": [{"userId": owner["id"]}]}, "a personal conversation"
            )
        ],
    )[0]
    personal_id = sunco.require(records.create(personal).id, "a personal conversation", personal)
    # The user's first personal conversation is its default: it goes with the user, at teardown.
    sunco.ledger.forget(CONVERSATION, records.path(personal_id))
    joining = {"userId": newcomer["id"], "subscribeSDKClient": False}
    on(
        sunco,
        "JoinConversation",
        personal_id,
        each(sunco, "join-personal", [Variant("join a personal conversation", joining, BAD)])[0],
    )

    group_id = make_conversation(sunco, "group", group_body(owner))
    both = {"userId": newcomer["id"], "userExternalId": newcomer["externalId"], "subscribeSDKClient": False}
    fixed = [
        Variant("join without subscribeSDKClient", {"userId": newcomer["id"]}, BAD),
        Variant("join naming nobody", {"subscribeSDKClient": True}, BAD),
        Variant("join naming the user twice over", both, BAD),
    ]
    wrong = negative.wrong_types(st.just([joining]), JOIN_BODY, "bad_request", limit=2, discriminator=None)
    missing = Expect(404, "user_not_found")
    variants = [
        *each(sunco, "refused", fixed),
        *sunco.variants("wrong-types", wrong, 2),
        *unknown(
            "unknown-user",
            sunco,
            lambda i: Variant("an unknown userId", {"userId": i, "subscribeSDKClient": False}, missing),
        ),
        *unknown(
            "unknown-external-id",
            sunco,
            lambda i: Variant(
                "an unknown userExternalId",
                {"userExternalId": "conformance-unknown-" + i, "subscribeSDKClient": True},
                missing,
            ),
        ),
    ]
    for variant in variants:
        on(sunco, "JoinConversation", group_id, variant)
    on_unknown_conversation(sunco, "JoinConversation", joining)
    sunco.finish()


def test_join_conversation_refuses_more_than_10_participants(sunco: ConformanceSession) -> None:
    users = make_users(sunco, 11)
    conversation_id = make_conversation(sunco, "full-group", group_body(*users[:10]))
    late = {"userId": users[10]["id"], "subscribeSDKClient": False}
    on(
        sunco,
        "JoinConversation",
        conversation_id,
        each(sunco, "eleventh", [Variant("an 11th participant", late, BAD)])[0],
    )
    sunco.finish()


def test_leave_conversation_refuses_who_is_not_a_participant(sunco: ConformanceSession) -> None:
    member, stranger = make_users(sunco, 2)
    conversation_id = make_conversation(sunco, "group", group_body(member))
    fixed = [
        Variant("a user who is not a participant", {"userId": stranger["id"]}, NOT_A_PARTICIPANT),
        Variant(
            "a userExternalId who is not a participant", {"userExternalId": stranger["externalId"]}, NOT_A_PARTICIPANT
        ),
        Variant("naming nobody", {}, BAD),
        Variant("naming the user two ways", {"userId": member["id"], "userExternalId": member["externalId"]}, BAD),
    ]
    wrong = negative.wrong_types(
        st.just([{"userId": member["id"]}]), LEAVE_BODY, "bad_request", limit=1, discriminator=None
    )
    variants = [
        *each(sunco, "refused", fixed),
        *sunco.variants("wrong-types", wrong, 1),
        *unknown(
            "unknown-participant",
            sunco,
            lambda i: Variant("an unknown participantId", {"participantId": i}, NOT_A_PARTICIPANT),
        ),
    ]
    for variant in variants:
        on(sunco, "LeaveConversation", conversation_id, variant)
    on_unknown_conversation(sunco, "LeaveConversation", {"userId": member["id"]})
    # The participant is still there.
    members = [p.get("userId") for p in _participants(sunco, conversation_id)]
    state(
        sunco,
        members == [member["id"]],
        "lost a participant to a refused leave.",
        "/participants",
        [member["id"]],
        members,
    )
    sunco.finish()


@pages("ListParticipants")
def test_list_participants_paginates_forwards_and_backwards(sunco: ConformanceSession) -> None:
    """Five participants, walked two at a time forwards and back: each once, the same order both ways."""
    users = make_users(sunco, 5)
    conversation_id = make_conversation(sunco, "group", group_body(*users, subscribe=True))
    path = {"conversationId": conversation_id}
    everyone = _participants(sunco, conversation_id)
    listed = [p.get("userId") for p in everyone]
    state(
        sunco,
        sorted(str(u) for u in listed) == sorted(u["id"] for u in users),
        "does not list the conversation's participants.",
        "/participants",
        [u["id"] for u in users],
        listed,
    )
    ours = [str(p.get("id")) for p in everyone]
    query = {"page[size]": str(PAGE_SIZE)}
    forwards = walk_pages(sunco, "ListParticipants", path, "participants", query)
    mine = check_cover(sunco, forwards, ours, "participants", "forwards with page[after]")
    backwards: list[str] = []
    if forwards.ids:
        back = walk_pages(
            sunco, "ListParticipants", path, "participants", query, direction="before", start=forwards.ids[-1]
        )
        backwards = back.ids
    state(
        sunco,
        [p for p in backwards if p in ours] == mine,
        "paging backwards did not give the same participants in the same order.",
        "/participants",
        mine,
        backwards,
    )
    for variant in [
        *sunco.variants("bad-size", negative.bad_page_sizes(), 3),
        *sunco.variants("both-cursors", negative.both_cursors(), 1),
    ]:
        sunco.call("ListParticipants", variant=variant, path_params=path)
    on_unknown_conversation(sunco, "ListParticipants", None)
    sunco.finish()
