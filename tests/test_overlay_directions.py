"""The contract accepts what the live service sends, and keeps request-only rules out of responses.

Each payload below holds one fact seen in the live service's webhook bodies or API responses
that the vendor's prose (or an earlier overlay) ruled out; each must pass the response view, and
the rule it broke must still hold for what a client sends.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from conformance.contract import overlay, proofs
from conformance.contract.schemas import SCHEMA_DIR, shipped
from conformance.variants.strategies import Generator

OVERLAY = overlay.load(SCHEMA_DIR / "overlay.yaml")
WEBHOOK = "operations/EventWebhooks.json#/$defs/request-json"
USER_ID = "5963c0d619a30a2e00de36b8"
WHEN = "2024-03-05T14:22:31.512Z"


def webhook(conversation: dict, author: dict) -> dict:
    return {
        "app": {"id": "5698edbf2a43bd081be982f1"},
        "webhook": {"id": "5e554f3d4fd2ba1e42a4b1c6", "version": "v2"},
        "events": [
            {
                "id": "5e554f3d4fd2ba1e42a4b1c7",
                "type": "conversation:message",
                "createdAt": WHEN,
                "payload": {
                    "conversation": {"id": "5e554f3d4fd2ba1e42a4b1c8", "type": "personal", **conversation},
                    "message": {
                        "id": "5e554f3d4fd2ba1e42a4b1c9",
                        "received": WHEN,
                        "author": author,
                        "content": {"type": "text", "text": "Hi"},
                        "source": {"type": "whatsapp"},
                    },
                },
            }
        ],
    }


def custom_integration(triggers: list[str]) -> dict:
    hook = {"id": "5e554f3d4fd2ba1e42a4b1cb", "version": "v2", "target": "https://example.com/h", "triggers": triggers}
    return {"id": "5e554f3d4fd2ba1e42a4b1ca", "type": "custom", "status": "active", "webhooks": [hook]}


NO_PICTURE = {"id": USER_ID, "profile": {"givenName": "Jane", "avatarUrl": ""}}

# (name, schema, body): each carries one live fact the response view must accept
LIVE = [
    (
        "null metadata value in a webhook's conversation",
        WEBHOOK,
        webhook({"metadata": {"lang": "en-ca", "previousAgent": None}}, {"type": "user", "userId": USER_ID}),
    ),
    (
        "empty avatarUrl in a webhook's user profile",
        WEBHOOK,
        webhook({}, {"type": "user", "userId": USER_ID, "user": NO_PICTURE}),
    ),
    ("empty avatarUrl in Get User", shipped().operation("GetUser").response_schema(200), {"user": NO_PICTURE}),
    (
        "empty avatarUrl of a message author in List Messages",
        shipped().operation("ListMessages").response_schema(200),
        {
            "messages": [
                {
                    "id": "5e554f3d4fd2ba1e42a4b1c9",
                    "received": WHEN,
                    "author": {"type": "user", "userId": USER_ID, "displayName": "Jane", "avatarUrl": ""},
                    "content": {"type": "text", "text": "Hi"},
                }
            ],
            "meta": {"hasMore": False},
        },
    ),
    (
        "passthrough:messaging in List Integrations",
        shipped().operation("ListIntegrations").response_schema(200),
        {"integrations": [custom_integration(["conversation:message", "passthrough:messaging"])], "meta": {}},
    ),
    (
        "passthrough:messaging in Update Integration",
        shipped().operation("UpdateIntegration").response_schema(200),
        {"integration": custom_integration(["passthrough:messaging"])},
    ),
]


@pytest.mark.parametrize(("name", "ref", "body"), LIVE, ids=[case[0] for case in LIVE])
def test_a_live_service_payload_passes_the_response_view(name, ref, body):
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in shipped().validator(ref, "response").iter_errors(body)]
    assert errors == []


# (name, schema, body, pointer of the error): what a client sends is still held to the rule
REFUSED_REQUESTS = [
    ("null metadata value", "components/userCreateBody.json", {"externalId": "a", "metadata": {"x": None}}, "metadata"),
    ("empty avatarUrl", "components/userCreateBody.json", {"externalId": "a", "profile": {"avatarUrl": ""}}, "profile"),
    (
        "avatarUrl that is no URI",
        "components/userCreateBody.json",
        {"externalId": "a", "profile": {"avatarUrl": "AAA"}},
        "profile",
    ),
    ("unknown trigger", "components/triggers.json", ["conversation:nonsense"], 0),
]


@pytest.mark.parametrize(("name", "ref", "body", "at"), REFUSED_REQUESTS, ids=[c[0] for c in REFUSED_REQUESTS])
def test_a_request_still_breaking_the_rule_is_refused(name, ref, body, at):
    errors = list(shipped().validator(ref, "request").iter_errors(body))
    assert errors
    assert all(error.absolute_path[0] == at for error in errors)


def test_an_avatar_url_that_is_no_uri_still_fails_a_response():
    ref = shipped().operation("GetUser").response_schema(200)
    body = {"user": {"id": USER_ID, "profile": {"avatarUrl": "AAA"}}}
    assert not shipped().validator(ref, "response").is_valid(body)


def test_every_action_names_its_direction():
    assert {action.direction for action in OVERLAY.actions} == {"request", "response", "both"}


@pytest.mark.parametrize(
    "action",
    [a for a in OVERLAY.actions if a.direction != "request"],
    ids=[f"{a.number}: {a.description[:50]}" for a in OVERLAY.actions if a.direction != "request"],
)
def test_an_action_that_refuses_a_response_carries_what_was_observed(action):
    # The committed contract only: an invalid proof instance the response view refuses needs evidence.
    if proofs.response_tightening(shipped(), None, action.proof):
        assert action.observed, f"{action.label} makes responses stricter without x-observed"


def test_a_request_only_rule_reaches_the_generators():
    # The name pattern is request-only (stated in prose only): generated names must follow it.
    name_schema = shipped().resolve("components/name.json")
    assert name_schema["pattern"] == "^[A-Za-z0-9_-]+$"
    assert "pattern" not in shipped().resolve("components/name.json", "response")

    @settings(max_examples=30, database=None)
    @given(Generator().for_ref("components/name.json"))
    def names_follow_the_pattern(value: str) -> None:
        assert shipped().validator("components/name.json", "request").is_valid(value)

    names_follow_the_pattern()
