"""The sandbox's messages over a real socket: every content type, the documented rules, the message
limit, newest-first pages, deleting one and all, and the conversation:message event."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sandbox_support import OTHER_ID, Api, codes, titles

from conformance.contract.schemas import shipped
from conformance.definitions import messages as defs
from conformance.sandbox import Sandbox
from conformance.variants.draw import draw

TEXT = {"author": {"type": "business"}, "content": {"type": "text", "text": "Hello"}}
BODIES = {kind: draw(defs.bodies(kind).map(lambda body: [body]), 1, seed=21)[0] for kind in defs.SENDABLE}


@pytest.fixture
def small() -> Iterator[Sandbox]:
    """A sandbox whose conversations hold 4 messages, listed 3 to a page."""
    with Sandbox(limits={"max_messages": 4, "message_page_size": 3}) as running:
        yield running


def conversation(api: Api) -> str:
    status, answer = api.call("CreateConversation", body={"type": "sdkGroup"})
    assert status == 201, answer
    return str(answer["conversation"]["id"])


def post(api: Api, conversation_id: str, body: dict[str, Any]) -> tuple[int, Any]:
    return api.call("PostMessage", body=body, conversationId=conversation_id)


def posted(api: Api, conversation_id: str, body: dict[str, Any] = TEXT) -> dict[str, Any]:
    status, answer = post(api, conversation_id, body)
    assert status == 201, answer
    assert len(answer["messages"]) == 1
    return dict(answer["messages"][0])


def listed(api: Api, conversation_id: str, **query: str) -> Any:
    status, answer = api.call("ListMessages", query=query, conversationId=conversation_id)
    assert status == 200, answer
    return answer


def ids(page: Any) -> list[str]:
    return [message["id"] for message in page["messages"]]


# -- every content type ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", defs.SENDABLE)
def test_every_content_type_is_accepted_and_kept_as_sent(api: Api, kind: str) -> None:
    where = conversation(api)
    body = BODIES[kind]
    message = posted(api, where, body)
    assert message["content"]["type"] == ("text" if kind == "locationRequest" else kind)
    assert message["source"] == {"type": "api:conversations"}
    assert message["author"] == body["author"]
    assert message.get("metadata") == body.get("metadata")
    for name, value in body["content"].items():
        assert message["content"][name] == value, name
    assert ids(listed(api, where)) == [message["id"]]


def test_the_api_fills_in_what_it_owns(api: Api) -> None:
    where = conversation(api)
    carousel = posted(api, where, BODIES["carousel"])["content"]
    assert carousel["text"].startswith("1. ")
    location = posted(api, where, {**TEXT, "content": {"type": "location", "coordinates": {"lat": 1.5, "long": 2}}})
    assert location["content"]["text"] == "Location shared: 1.5, 2"
    assert posted(api, where, BODIES["form"])["content"]["submitted"] is False
    image = posted(api, where, {**TEXT, "content": {"type": "image", "mediaUrl": "https://example.com/a/cat.jpg"}})
    assert (image["content"]["mediaType"], image["content"]["altText"]) == ("image/jpeg", "cat.jpg")
    stamped = posted(api, where)["received"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamped), stamped


def test_markdown_text_is_written_not_read(api: Api) -> None:
    where = conversation(api)
    message = posted(api, where, {**TEXT, "content": {"type": "text", "markdownText": "**bold**"}})
    assert message["content"] == {"type": "text", "text": "**bold**"}


def test_a_user_author_is_named_by_id_however_the_request_named_it(api: Api) -> None:
    status, made = api.call("CreateUser", body={"externalId": "ann-1"})
    assert status == 201, made
    user_id = made["user"]["id"]
    where = conversation(api)
    by_id = posted(api, where, {**TEXT, "author": {"type": "user", "userId": user_id}})
    by_external = posted(api, where, {**TEXT, "author": {"type": "user", "userExternalId": "ann-1"}})
    assert by_id["author"] == by_external["author"] == {"type": "user", "userId": user_id}
    status, answer = post(api, where, {**TEXT, "author": {"type": "user", "userId": OTHER_ID}})
    assert (status, codes(answer)) == (404, ["user_not_found"])


# -- rules stated in prose ------------------------------------------------------------------------

FORM_FIELD = {"type": "text", "name": "name", "label": "Name"}
REFUSED: list[tuple[str, dict[str, Any], str]] = [
    ("no text", {**TEXT, "content": {"type": "text", "blockChatInput": True}}, "content"),
    ("formResponse", {**TEXT, "content": {"type": "formResponse", "fields": [FORM_FIELD]}}, "content"),
    ("template without whatsapp", {**TEXT, "content": {"type": "template", "template": {}}}, "schema"),
    ("business with a user id", {**TEXT, "author": {"type": "business", "userId": OTHER_ID}}, "author"),
    ("user without a user", {**TEXT, "author": {"type": "user"}}, "user author"),
    ("agent subtype", {**TEXT, "author": {"type": "business", "subtypes": ["bot"]}}, "'bot'"),
    ("nested metadata", {**TEXT, "metadata": {"a": [1]}}, "metadata.a"),
    ("metadata over 4KB", {**TEXT, "metadata": {"a": "é" * 2100}}, "more than the 4096 allowed"),
    (
        "reply in a list",
        {
            **TEXT,
            "content": {
                "type": "list",
                "items": [{"title": "A", "actions": [{"type": "reply", "text": "Yes", "payload": "Y"}]}],
            },
        },
        "reply",
    ),
    ("same field twice", {**TEXT, "content": {"type": "form", "fields": [FORM_FIELD, FORM_FIELD]}}, "'name'"),
    (
        "same option twice",
        {
            **TEXT,
            "content": {
                "type": "form",
                "fields": [{**FORM_FIELD, "type": "select", "options": [{"name": "a", "label": "A"}] * 2}],
            },
        },
        "'a'",
    ),
    (
        "action metadata nested",
        {
            **TEXT,
            "content": {
                "type": "text",
                "text": "x",
                "actions": [{"type": "reply", "text": "y", "payload": "y", "metadata": {"k": {}}}],
            },
        },
        "actions[0].metadata",
    ),
]


@pytest.mark.parametrize(("why", "body", "named"), REFUSED, ids=[r[0] for r in REFUSED])
def test_bodies_breaking_documented_rules_are_refused(api: Api, why: str, body: dict[str, Any], named: str) -> None:
    where = conversation(api)
    status, answer = post(api, where, body)
    assert (status, codes(answer)[0]) == (400, "bad_request")
    assert named in titles(answer)[0]
    assert ids(listed(api, where)) == []


def test_metadata_of_exactly_4kb_is_accepted(api: Api) -> None:
    where = conversation(api)
    filler = 4096 - len('{"a":""}')
    assert posted(api, where, {**TEXT, "metadata": {"a": "x" * filler}})["metadata"]["a"] == "x" * filler


# -- the message limit --------------------------------------------------------------------------


def test_a_full_conversation_answers_423_until_its_messages_are_deleted(small: Sandbox) -> None:
    api = Api(small)
    where, other = conversation(api), conversation(api)
    for _ in range(4):
        posted(api, where)
    status, answer = post(api, where, TEXT)
    assert (status, codes(answer)) == (423, ["locked"])
    assert titles(answer) == ["Message limit of 4 per conversation reached."]
    posted(api, other)  # the limit is per conversation
    status, _ = api.call("DeleteMessage", conversationId=where, messageId=ids(listed(api, where))[0])
    assert status == 200
    posted(api, where)
    assert post(api, where, TEXT)[0] == 423
    assert api.call("DeleteAllMessages", conversationId=where) == (200, {})
    assert listed(api, where)["messages"] == []
    posted(api, where)


# -- pages ----------------------------------------------------------------------------------------


@pytest.fixture
def paged() -> Iterator[Sandbox]:
    """A sandbox that lists messages 3 to a page."""
    with Sandbox(limits={"message_page_size": 3}) as running:
        yield running


def test_pages_start_at_the_newest_and_walk_back_and_forth(paged: Sandbox) -> None:
    api = Api(paged)
    where = conversation(api)
    made = [posted(api, where)["id"] for _ in range(7)]
    newest = listed(api, where)
    assert ids(newest) == made[4:7]
    assert newest["meta"] == {"hasMore": True, "beforeCursor": made[4]}
    assert set(newest["links"]) == {"prev"}
    middle = listed(api, where, **{"page[before]": made[4]})
    assert ids(middle) == made[1:4]
    assert middle["meta"] == {"hasMore": True, "beforeCursor": made[1], "afterCursor": made[3]}
    oldest = listed(api, where, **{"page[before]": made[1]})
    assert (ids(oldest), oldest["meta"]["hasMore"]) == (made[0:1], False)
    forwards = listed(api, where, **{"page[after]": made[0]})
    assert (ids(forwards), forwards["meta"]["hasMore"], forwards["meta"]["afterCursor"]) == (made[1:4], True, made[3])
    last = listed(api, where, **{"page[after]": made[3]})
    assert (ids(last), last["meta"]["hasMore"]) == (made[4:7], False)
    # page[size] does not apply to messages, though it is still validated.
    assert ids(listed(api, where, **{"page[size]": "1"})) == made[4:7]
    status, answer = api.call("ListMessages", query={"page[size]": "0"}, conversationId=where)
    assert (status, codes(answer)) == (400, ["bad_request"])
    # A cursor whose message is gone still pages from where it was.
    assert api.call("DeleteMessage", conversationId=where, messageId=made[4])[0] == 200
    assert ids(listed(api, where, **{"page[before]": made[4]})) == made[1:4]


def test_a_short_conversation_is_one_page(api: Api) -> None:
    where = conversation(api)
    made = posted(api, where)["id"]
    page = listed(api, where)
    assert page == {"messages": page["messages"], "meta": {"hasMore": False}}
    assert ids(page) == [made]


# -- deleting and unknown ids ---------------------------------------------------------------------


def test_one_message_is_deleted_and_then_unknown(api: Api) -> None:
    where = conversation(api)
    first, second = posted(api, where)["id"], posted(api, where)["id"]
    assert api.call("DeleteMessage", conversationId=where, messageId=first) == (200, {})
    assert ids(listed(api, where)) == [second]
    status, answer = api.call("DeleteMessage", conversationId=where, messageId=first)
    assert (status, codes(answer), titles(answer)) == (404, ["not_found"], ["Message not found"])


@pytest.mark.parametrize(
    ("operation", "extra", "code"),
    [
        ("ListMessages", {}, "not_found"),
        ("DeleteAllMessages", {}, "conversation_not_found"),
        ("DeleteMessage", {"messageId": OTHER_ID}, "conversation_not_found"),
        ("PostMessage", {"body": TEXT}, "conversation_not_found"),
    ],
)
def test_an_unknown_conversation_gets_the_documented_404(api: Api, operation: str, extra: Any, code: str) -> None:
    status, answer = api.call(operation, conversationId=OTHER_ID, **extra)
    assert (status, codes(answer)) == (404, [code])


def test_deleting_the_conversation_deletes_its_messages(api: Api, sandbox: Sandbox) -> None:
    where = conversation(api)
    posted(api, where)
    held = ("message", sandbox.app_id, where)
    assert len(sandbox.store.records(held)) == 1
    assert api.call("DeleteConversation", conversationId=where)[0] == 200
    assert sandbox.store.records(held) == []


# -- events ---------------------------------------------------------------------------------------


def test_each_message_is_a_conversation_message_event(api: Api, sandbox: Sandbox) -> None:
    where = conversation(api)
    before = len(sandbox.store.events)
    message = posted(api, where, BODIES["image"])
    post(api, where, {**TEXT, "content": {"type": "formResponse"}})  # refused: no event
    events = sandbox.store.events[before:]
    assert [event["type"] for event in events] == ["conversation:message"]
    event = events[0]
    assert event["appId"] == sandbox.app_id
    assert event["payload"]["conversation"] == {"id": where, "type": "sdkGroup"}
    assert event["payload"]["message"]["id"] == message["id"]
    assert event["payload"]["message"]["content"] == message["content"]
    envelope = {"id": "e", "type": "conversation:message", "createdAt": message["received"], **event}
    errors = [e.message for e in shipped().validator("components/conversationMessageEvent.json").iter_errors(envelope)]
    assert errors == []
