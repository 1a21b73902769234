"""Activities: typing indicators and read receipts posted to a conversation.

Valid activities come from the contract (every author type and activity type it allows, with a
participant for a user author); invalid ones break the body one way at a time, including the
rule the overlay takes from prose: a user can only mark a conversation read.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from conformance.contract.schemas import shipped
from conformance.model import Expect, Variant
from conformance.session.session import ConformanceSession
from conformance.suites.conversation_support import (
    each,
    expect_read_by_business,
    group_body,
    make_conversation,
    make_user,
    on,
    on_unknown_conversation,
)
from conformance.variants import negative
from conformance.variants.strategies import safe_text

BAD = Expect(400, "bad_request")
ACTIVITY = "components/activityPost.json"
KINDS = ("typing:start", "typing:stop", "conversation:read")


def _business() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"type": st.just("business")},
        optional={
            "displayName": safe_text(1, 20),
            "avatarUrl": safe_text(1, 12).map(lambda slug: f"https://example.com/avatars/{slug}.png"),
        },
    )


def _activity(kind: str) -> Any:
    return lambda author: {"type": kind, "author": author}


def _valid(user: dict[str, str]) -> st.SearchStrategy[list[Variant]]:
    """Each activity type by the business, and a read by the participant (named either way)."""
    by_business = st.tuples(*(_business().map(_activity(kind)) for kind in KINDS))
    reader = st.sampled_from([{"userId": user["id"]}, {"userExternalId": user["externalId"]}])
    by_user = reader.map(lambda named: {"type": "conversation:read", "author": {"type": "user", **named}})
    validator = shipped().validator(ACTIVITY, "request")
    return st.tuples(by_business, by_user).map(
        lambda found: [
            Variant(f"{body['type']} by the {body['author']['type']}", body, Expect(200))
            for body in [*found[0], found[1]]
            if validator.is_valid(body)
        ]
    )


def test_post_activity_accepts_typing_and_reads(sunco: ConformanceSession) -> None:
    user = make_user(sunco)
    conversation_id = make_conversation(sunco, "group", group_body(user))
    for variant in sunco.variants("valid", _valid(user), len(KINDS) + 1):
        on(sunco, "PostActivity", conversation_id, variant)
    expect_read_by_business(sunco, conversation_id)
    sunco.finish()


def test_post_activity_rejects_activities_the_contract_refuses(sunco: ConformanceSession) -> None:
    user = make_user(sunco)
    conversation_id = make_conversation(sunco, "group", group_body(user))
    reader = {"type": "user", "userId": user["id"]}
    read = {"type": "conversation:read", "author": reader}
    fixed = [
        Variant("a user who starts typing", {"type": "typing:start", "author": reader}, BAD),
        Variant("a user who stops typing", {"type": "typing:stop", "author": reader}, BAD),
        Variant("a user read that names no user", {"type": "conversation:read", "author": {"type": "user"}}, BAD),
        Variant("an author that is not an object", {"type": "typing:start", "author": "business"}, BAD),
    ]
    bases = st.just([read, {"type": "typing:start", "author": {"type": "business"}}])
    broken = [
        *negative.invalid(ACTIVITY, [read], negative.missing_required, "bad_request", limit=2, discriminator=None),
        *negative.invalid(ACTIVITY, [read], negative.outside_enum, "bad_request", limit=2, discriminator=None),
    ]
    wrong = negative.wrong_types(bases, ACTIVITY, "bad_request", limit=4, discriminator=None)
    for variant in [
        *each(sunco, "prose-rules", fixed),
        *each(sunco, "broken", broken),
        *sunco.variants("wrong-types", wrong, 4),
    ]:
        on(sunco, "PostActivity", conversation_id, variant)
    on_unknown_conversation(sunco, "PostActivity", {"type": "typing:start", "author": {"type": "business"}})
    sunco.finish()
