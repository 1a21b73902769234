"""What the conversation, participant and activity suites share: users to take part, conversations
to work in, and the calls on one conversation."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import strategies as st

from conformance.contract.resources import resource
from conformance.definitions import hints_for
from conformance.definitions.conversations import member
from conformance.model import Exchange, Expect, Variant
from conformance.session.session import ConformanceSession
from conformance.suites import flows
from conformance.suites.expectations import created
from conformance.suites.flows import Records
from conformance.variants.strategies import Hints, hex_id

CONVERSATION = resource("conversation")
USER = resource("user")
Test = Callable[[ConformanceSession], None]


def make_users(sunco: ConformanceSession, count: int, label: str = "members") -> list[dict[str, str]]:
    """Users of the app (deleted at teardown), each with its id and externalId."""
    # An externalId always, so a participant can be named either way.
    hints = hints_for(USER.name).merged(Hints(always=frozenset({"externalId"})))
    bodies = st.lists(
        flows.valid_bodies(USER, hints=hints),
        min_size=count,
        max_size=count,
        unique_by=lambda body: body.get("externalId"),
    )
    variants = sunco.variants(
        f"users-{label}",
        bodies.map(lambda found: [Variant(f"user {n + 1}", body, Expect(201)) for n, body in enumerate(found)]),
        count,
    )
    records = Records(sunco, USER)
    made = []
    for variant in variants:
        user_id = sunco.require(records.create(variant).id, f"a user ({label}) to take part", variant)
        made.append({"id": user_id, "externalId": str(variant.body["externalId"])})
    return made


def make_user(sunco: ConformanceSession, label: str = "member") -> dict[str, str]:
    return make_users(sunco, 1, label)[0]


def with_member(test: Test) -> Test:
    """A generated test whose conversation bodies name a user made for it (lists need a participant)."""

    @functools.wraps(test)
    def run(sunco: ConformanceSession) -> None:
        with member(make_user(sunco)):
            test(sunco)

    return run


def group_body(*users: dict[str, str], subscribe: bool = False, by: str = "userId") -> dict[str, Any]:
    """An sdkGroup conversation with ``users`` as participants, named ``by`` userId or userExternalId."""
    key = "id" if by == "userId" else "externalId"
    return {
        "type": "sdkGroup",
        "displayName": "conformance group",
        "participants": [{by: user[key], "subscribeSDKClient": subscribe} for user in users],
    }


def state(sunco: ConformanceSession, ok: bool, what: str, pointer: str, expected: Any, actual: Any) -> None:
    """A stateful expectation on the last exchange; ``what`` completes its title and is its rule."""
    sunco.expect_state(None, ok, title=what, pointer=pointer, rule=what, expected=expected, actual=actual)


def make_conversation(sunco: ConformanceSession, group: str, body: dict[str, Any], label: str = "") -> str:
    """A conversation (in the ledger, so deleted at teardown) made from a fixed body."""
    variant = sunco.variants(group, st.just(created(CONVERSATION, body, label or group)), 1)[0]
    return sunco.require(Records(sunco, CONVERSATION).create(variant).id, f"a conversation ({group})", variant)


def on(sunco: ConformanceSession, operation_id: str, conversation_id: str, variant: Variant) -> Exchange:
    """One call on a conversation (join, leave, activity, …) with its variant's body and outcome."""
    return sunco.call(operation_id, variant=variant, path_params={CONVERSATION.id_param: conversation_id})


def each(sunco: ConformanceSession, group: str, variants: Sequence[Variant]) -> list[Variant]:
    """Fixed variants, pinned under ``group`` like drawn ones."""
    return sunco.variants(group, st.just(list(variants)), len(variants))


def unknown(group: str, sunco: ConformanceSession, build: Callable[[str], Variant], count: int = 1) -> list[Variant]:
    """Variants naming ids that exist nowhere (24 hexadecimal characters, like the API's)."""
    ids = st.lists(hex_id(), min_size=count, max_size=count, unique=True)
    return sunco.variants(group, ids.map(lambda found: [build(i) for i in found]), count)


def on_unknown_conversation(sunco: ConformanceSession, operation_id: str, body: Any) -> None:
    """Send ``body`` to an operation of a conversation that exists nowhere: 404 conversation_not_found."""
    for variant in unknown(
        "unknown-conversation",
        sunco,
        lambda i: Variant(
            "an unknown conversation",
            body,
            Expect(404, "conversation_not_found"),
            params={"path": {"conversationId": i}},
        ),
    ):
        sunco.call(operation_id, variant=variant)


def expect_read_by_business(sunco: ConformanceSession, conversation_id: str) -> None:
    """After a business read activity, the conversation shows when the business last read it."""
    fetched = sunco.call("GetConversation", path_params={"conversationId": conversation_id}, expect=Expect(200))
    read = record_of(fetched, "conversation").get("businessLastRead")
    state(
        sunco,
        isinstance(read, str),
        "did not mark the conversation read by the business.",
        "/conversation/businessLastRead",
        "a timestamp",
        read,
    )


def listed_ids(exchange: Exchange, collection: str) -> list[str]:
    body = exchange.body if isinstance(exchange.body, dict) else {}
    return [str(r.get("id")) for r in body.get(collection) or [] if isinstance(r, dict)]


def record_of(exchange: Exchange, envelope: str) -> dict[str, Any]:
    body = exchange.body if isinstance(exchange.body, dict) else {}
    found = body.get(envelope)
    return found if isinstance(found, dict) else {}
