"""The harness pieces the conversation suites rest on: participants in bodies and filters, the
generated tests a list by participant gets, identifiers that are not secrets, the metadata
limit, the sandbox's clock, and what deleting a user does to its conversations."""

from __future__ import annotations

import json
import re

import pytest

from conformance.contract.resources import dotted_all, needs_filter, required_filters, resource
from conformance.contract.schemas import shipped
from conformance.definitions.conversations import member
from conformance.sandbox.behaviours.conversations import forget_user, participants_key
from conformance.sandbox.store import Clock, Store
from conformance.scrubbing.scrubber import Scrubber
from conformance.suites import flows
from conformance.suites.generic.generated import generated_for
from conformance.variants.draw import draw

CONVERSATION = resource("conversation")
ALICE = {"id": "5963c0d619a30a2e00de36b8", "externalId": "alice-0001"}


def test_dotted_paths_follow_lists() -> None:
    body = {"participants": [{"userId": "a"}, {"userExternalId": "x"}, {"userId": "b"}], "profile": {"email": "e"}}
    assert dotted_all(body, "participants.userId") == ["a", "b"]
    assert dotted_all(body, "participants.userExternalId") == ["x"]
    assert dotted_all(body, "profile.email") == ["e"]
    assert dotted_all(body, "profile.nothing") == []
    assert dotted_all({"participants": None}, "participants.userId") == []


def test_a_list_by_participant_is_asked_with_the_created_bodys_participant() -> None:
    assert needs_filter(CONVERSATION)
    assert not needs_filter(resource("integration"))
    by_id = {"type": "sdkGroup", "participants": [{"userId": "a", "subscribeSDKClient": True}]}
    by_external_id = {"type": "sdkGroup", "participants": [{"userExternalId": "x", "subscribeSDKClient": True}]}
    assert required_filters(CONVERSATION, by_id) == {"filter[userId]": "a"}
    assert required_filters(CONVERSATION, by_external_id) == {"filter[userExternalId]": "x"}
    assert required_filters(CONVERSATION, {"type": "sdkGroup"}) == {}
    assert required_filters(resource("user"), {"profile": {"email": "e@example.com"}}) == {
        "filter[identities.email]": "e@example.com"
    }
    # A user without an email is never listed with filter[identities.email]=None, which every user matches.
    assert required_filters(resource("user"), {"externalId": "x"}) == {}
    assert required_filters(resource("user"), {"profile": {"givenName": "Ada"}}) == {}


def test_generated_conversation_tests_list_by_participant_but_leave_the_filters_to_the_suite() -> None:
    names = set(generated_for("conversation"))
    assert {
        "test_conversation_lifecycle",
        "test_list_conversations_paginates_forwards_and_backwards",
        "test_list_conversations_rejects_invalid_page_parameters",
    } <= names
    # The record does not show its participants, so a generic filter check could not see them.
    assert not any("filters_by" in name for name in names)
    assert "test_list_integrations_filters_by_type" in generated_for("integration")


def test_conversation_bodies_name_the_member_inside_member_and_nobody_outside() -> None:
    validator = shipped().validator(str(CONVERSATION.op("create").request), "request")
    with member(ALICE):
        inside = draw(flows.valid_bodies(CONVERSATION), 12, seed=1)
    outside = draw(flows.valid_bodies(CONVERSATION), 8, seed=2)
    for body in inside:
        assert validator.is_valid(body)
        assert body["type"] == "sdkGroup"
        [named] = body["participants"]
        assert named in (
            {"userId": ALICE["id"], "subscribeSDKClient": named["subscribeSDKClient"]},
            {"userExternalId": ALICE["externalId"], "subscribeSDKClient": named["subscribeSDKClient"]},
        )
    assert {next(iter(b["participants"][0])) for b in inside} == {"userId", "userExternalId"}
    for body in outside:
        assert validator.is_valid(body)
        assert "participants" not in body


def test_identifiers_that_are_write_only_are_not_scrubbed_but_credentials_are() -> None:
    scrubber = Scrubber()
    body = {"participants": [{"userExternalId": "alice-0001"}], "author": {"brandId": "123"}, "authToken": "t0p"}
    scrubbed = scrubber.json_value(body)
    assert scrubbed["participants"] == [{"userExternalId": "alice-0001"}]
    assert scrubbed["author"] == {"brandId": "123"}
    assert scrubbed["authToken"] != "t0p"


@pytest.mark.parametrize(("size", "valid"), [(4096, True), (4097, False)])
def test_metadata_is_measured_in_bytes_of_compact_json(size: int, valid: bool) -> None:
    # Two-byte characters: the JSON text is far shorter than 4096 characters, its UTF-8 is not.
    metadata = {"k": "é" * 2000 + "x" * (size - len('{"k":""}') - 4000)}
    text = json.dumps(metadata, separators=(",", ":"), ensure_ascii=False)
    assert (len(text.encode()), len(text) < 4096) == (size, True)
    assert shipped().validator("components/metadata.json", "request").is_valid(metadata) is valid


def test_a_seeded_clock_moves_a_millisecond_per_reading_and_a_real_one_reads_the_time() -> None:
    seeded = Clock(7)
    assert [seeded.now(), seeded.now()] == ["2026-01-01T00:00:00.001Z", "2026-01-01T00:00:00.002Z"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", Clock().now())


def test_forgetting_a_user_removes_its_personal_conversations_and_its_place_in_groups() -> None:
    store = Store(seed=1)
    app = "5a4db0c5a4db0c5a4db0c5a4"
    for conversation_id, kind in (("p" * 24, "personal"), ("g" * 24, "sdkGroup")):
        store.insert(("conversation", app), {"id": conversation_id, "type": kind})
        store.insert(participants_key(app, conversation_id), {"id": "x" + conversation_id[1:], "userId": "alice"})
        store.insert(participants_key(app, conversation_id), {"id": "y" + conversation_id[1:], "userId": "bob"})
    forget_user(store, app, "alice")
    assert [c["id"] for c in store.records(("conversation", app))] == ["g" * 24]
    assert [p["userId"] for p in store.records(participants_key(app, "g" * 24))] == ["bob"]
    assert store.records(participants_key(app, "p" * 24)) == []
