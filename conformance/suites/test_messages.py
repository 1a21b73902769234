"""Messages: the tests the resource table implies, every content type, the rules the documentation
states in prose, newest-first pages, a full conversation (423), and deleting one and all messages."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import strategies as st

from conformance.contract.resources import resource
from conformance.contract.schemas import shipped
from conformance.definitions import messages as defs
from conformance.model import Exchange, Expect, Variant
from conformance.session import runs
from conformance.session.session import ConformanceSession
from conformance.suites import paging
from conformance.suites.expectations import created
from conformance.suites.flows import Records, setup_variants
from conformance.suites.generic.generated import Generated
from conformance.suites.paging import Walk, walk_pages
from conformance.variants import negative
from conformance.variants.strategies import hex_id

GENERATED = Generated("message")

MESSAGE = resource("message")
BAD = "bad_request"
# A live app's conversations hold 30,000 messages: more than a test should post to reach the limit.
MAX_REACHABLE = 50


def posted(body: dict[str, Any], label: str) -> Variant:
    return created(MESSAGE, body, label)


def every_type(author: st.SearchStrategy[dict[str, Any]] | None = None) -> st.SearchStrategy[list[Variant]]:
    kinds = defs.SENDABLE
    return st.tuples(*(defs.bodies(kind, author) for kind in kinds)).map(
        lambda found: [posted(body, f"{kind} message") for kind, body in zip(kinds, found, strict=True)]
    )


def ids_of(exchange: Exchange) -> list[str]:
    body = exchange.body if isinstance(exchange.body, dict) else {}
    return [str(m.get("id")) for m in body.get("messages") or [] if isinstance(m, dict)]


def walk(sunco: ConformanceSession, where: dict[str, str], *, after: str | None = None) -> Walk:
    """A conversation's messages, oldest first: back from the newest, or forwards from the message ``after``."""
    if after is None:
        return walk_pages(sunco, "ListMessages", where, "messages", {}, direction="before")
    return walk_pages(sunco, "ListMessages", where, "messages", {"page[after]": after})


def forget_all(sunco: ConformanceSession, records: Records, made: list[str]) -> None:
    for message_id in made:
        sunco.ledger.forget(MESSAGE, records.path(message_id))


def test_post_message_accepts_every_content_type(sunco: ConformanceSession) -> None:
    """One message of each content type a client may send, from the business and from a user."""
    records = Records(sunco, MESSAGE)
    users = Records.of(sunco, "user")
    # An externalId always, so the user can also be named by it.
    named = st.tuples(setup_variants(resource("user")), hex_id()).map(
        lambda found: replace(found[0], body={"externalId": runs.tag(found[1]), **found[0].body})
    )
    user = sunco.variants("setup-user", named, 1)[0]
    user_id = sunco.require(users.create(user).id, "a user to author messages", user)
    for variant in sunco.variants("every-type", every_type(), len(defs.SENDABLE)):
        records.create(variant)
    by_user = st.tuples(defs.bodies("text", defs.user_author(user_id)), defs.bodies("text")).map(
        lambda found: [
            posted(found[0], "text from a user named by userId"),
            posted(
                {**found[1], "author": {"type": "user", "userExternalId": user.body["externalId"]}},
                "text from a user named by userExternalId",
            ),
        ]
    )
    for variant in sunco.variants("user-authors", by_user, 2):
        made = records.create(variant)
        author = made.record.get("author") or {}
        sunco.expect_state(
            made.exchange,
            author.get("userId") == user_id,
            title="did not name the user who wrote the message by its id.",
            pointer="/messages/0/author/userId",
            rule="a user author is reported by userId, however the request named the user",
            expected=user_id,
            actual=author.get("userId"),
            variant=variant.id,
        )
    sunco.finish()


def _content_breaks(kind: str, body: dict[str, Any]) -> list[Variant]:
    """The body with its content broken one way at a time, each refused by the contract."""
    valid = shipped().validator(defs.BODY, "request").is_valid
    out: list[Variant] = []
    for breaker in (negative.missing_required, negative.out_of_bounds, negative.outside_enum):
        for broken in negative.invalid(defs.CONTENT, [body["content"]], breaker, BAD, limit=3, discriminator="type"):
            whole = {**body, "content": broken.body}
            if not valid(whole):
                out.append(Variant(f"content: {kind} {broken.label.removeprefix(kind + ' ')}", whole, Expect(400, BAD)))
    return out


def test_post_message_rejects_content_breaking_its_schema(sunco: ConformanceSession) -> None:
    """Each content type broken inside: a required field left out, a bound passed, a value outside its enum."""
    records = Records(sunco, MESSAGE)
    kinds = [kind for kind in defs.SENDABLE if kind != "locationRequest"]
    bases = st.tuples(*(defs.bodies(kind) for kind in kinds))
    broken = bases.map(
        lambda found: [v for kind, b in zip(kinds, found, strict=True) for v in _content_breaks(kind, b)]
    )
    for variant in sunco.variants("content-breaks", broken, 40):
        records.create(variant)
    sunco.finish()


def _prose(text: dict[str, Any], form: dict[str, Any]) -> list[Variant]:
    business = {"type": "business"}
    fields = form["content"]["fields"]
    twice = [{**fields[0], "name": "same"}, {**fields[0], "name": "same"}]
    reply = {"type": "reply", "text": "Sure", "payload": "SURE"}
    item = {"title": "Tacos", "actions": [reply]}
    rules: list[tuple[str, dict[str, Any]]] = [
        ("text without text, actions, htmlText or markdownText", {**text, "content": {"type": "text"}}),
        (
            "a formResponse, which only Web Messenger sends",
            {
                **text,
                "content": {
                    "type": "formResponse",
                    "fields": [{"type": "text", "name": "n", "label": "Name", "text": "Ann"}],
                },
            },
        ),
        ("a template without schema whatsapp", {**text, "content": {"type": "template", "template": {"name": "t"}}}),
        ("a business author with a userId", {**text, "author": {**business, "userId": "5963c0d619a30a2e00de36b8"}}),
        ("a list item with a reply action", {**text, "content": {"type": "list", "items": [item]}}),
        ("an author claiming the agent subtype", {**text, "author": {**business, "subtypes": ["agent"]}}),
        ("a user author naming no user", {**text, "author": {"type": "user"}}),
        ("metadata with a nested object", {**text, "metadata": {"order": {"id": 1}}}),
        ("metadata over 4 KB", {**text, "metadata": {"note": "x" * 4100}}),
        ("a form with two fields of the same name", {**form, "content": {**form["content"], "fields": twice}}),
    ]
    return [Variant(label, body, Expect(400, BAD)) for label, body in rules]


def test_post_message_rejects_bodies_breaking_prose_rules(sunco: ConformanceSession) -> None:
    """Rules the documentation states in words: some the overlay turns into schema rules, some only the API checks."""
    records = Records(sunco, MESSAGE)
    rules = st.tuples(defs.bodies("text"), defs.bodies("form")).map(lambda found: _prose(*found))
    for variant in sunco.variants("prose-rules", rules, 10):
        records.create(variant)
    unknown = st.tuples(defs.bodies("text"), hex_id()).map(
        lambda found: Variant(
            "a user author naming a user the app does not have",
            {**found[0], "author": {"type": "user", "userId": found[1]}},
            Expect(404, "user_not_found"),
        )
    )
    for variant in sunco.variants("unknown-user", unknown, 1):
        records.create(variant)
    sunco.finish()


def test_conversation_holds_every_content_type_then_loses_one_message_and_all(sunco: ConformanceSession) -> None:
    """Messages of every type, listed oldest to newest; one deleted, then all of them."""
    records = Records(sunco, MESSAGE)
    where = records.parents()
    made = [sunco.require(records.create(v).id, v.label, v) for v in sunco.variants("every-type", every_type(), 9)]
    shown = walk(sunco, where)
    sunco.expect_state(
        shown.last,
        shown.ids == made,
        title="did not list the conversation's messages oldest to newest.",
        pointer="/messages",
        rule="a conversation lists every message posted to it, in the order they were posted",
        expected=made,
        actual=shown.ids,
    )
    gone = made[2]
    records.delete(gone)
    after = walk(sunco, where)
    sunco.expect_state(
        after.last,
        after.ids == [m for m in made if m != gone],
        title="still listed a deleted message, or lost another one.",
        pointer="/messages",
        rule="Delete Message removes that message and no other",
        expected=[m for m in made if m != gone],
        actual=after.ids,
    )
    records.delete(gone, expect=Expect(404, MESSAGE.not_found))
    sunco.call("DeleteAllMessages", path_params=where, expect=Expect(200))
    forget_all(sunco, records, made)
    empty = walk(sunco, where).last
    sunco.expect_state(
        empty,
        ids_of(empty) == [] and (empty.body or {}).get("meta", {}).get("hasMore") is False,
        title="still listed messages after Delete All Messages.",
        pointer="/messages",
        rule="Delete All Messages leaves the conversation without messages",
        expected="no messages, hasMore false",
        actual=ids_of(empty),
    )
    sunco.finish()


def _texts(count: int, label: str) -> st.SearchStrategy[list[Variant]]:
    return st.lists(defs.bodies("text"), min_size=count, max_size=count).map(
        lambda found: [posted(body, f"{label} {n + 1}") for n, body in enumerate(found)]
    )


@paging.pages("ListMessages")
def test_list_messages_pages_back_from_the_newest_and_forwards_again(sunco: ConformanceSession) -> None:
    """Pages of a fixed size, newest first by default; page[before] walks back, page[after] forwards."""
    records = Records(sunco, MESSAGE)
    where = records.parents()
    settings = sunco.settings
    # Two pages and a bit in each direction; in replay the pinned variants say how many.
    count = settings.message_page_size + 2 if settings else 0
    texts = sunco.variants("setup-messages", _texts(count, "message"), count)
    size = len(texts) - 2
    made = [sunco.require(records.create(v).id, v.label, v) for v in texts]
    back = walk(sunco, where)
    newest = ids_of(back.pages[0])
    sunco.expect_state(
        back.pages[0],
        newest == made[-size:],
        title="did not answer the newest messages when no cursor was given.",
        pointer="/messages",
        rule="List Messages pages backwards: the default page holds the most recent messages",
        expected=made[-size:],
        actual=newest,
    )
    forwards = walk(sunco, where, after=made[0])
    for what, walked, expected in (
        ("back with page[before]", back, made),
        ("forwards with page[after]", forwards, made[1:]),
    ):
        pages, seen = walked.pages, walked.ids
        sunco.expect_state(
            walked.last,
            seen == expected and len(pages) > 1 and all(len(ids_of(p)) <= size for p in pages),
            title=f"paging {what} missed, repeated or reordered messages.",
            pointer="/messages",
            rule=f"pages of at most {size} messages cover every message once, in order",
            expected=expected,
            actual=seen,
        )
    sized = sunco.call("ListMessages", path_params=where, query={"page[size]": "1"}, expect=Expect(200))
    sunco.expect_state(
        sized,
        ids_of(sized) == newest,
        title="let page[size] change the page, which is fixed for messages.",
        pointer="/messages",
        rule="page[size] does not apply to List Messages",
        expected=newest,
        actual=ids_of(sized),
    )
    sunco.finish()


def test_post_message_answers_423_when_the_conversation_is_full(sunco: ConformanceSession) -> None:
    """A conversation holds a limited number of messages; deleting all of them makes room again."""
    settings = sunco.settings
    if settings is not None and settings.max_messages > MAX_REACHABLE:
        sunco.not_run(
            f"not run live: a conversation holds {settings.max_messages} messages, too many to post; set "
            "SUNCO_MAX_MESSAGES for a target with a lower limit (python -m conformance sandbox --max-messages N)"
        )
    records = Records(sunco, MESSAGE)
    where = records.parents()
    limit = settings.max_messages if settings else 0
    full = _texts(limit, "message").flatmap(
        lambda found: defs.bodies("text").map(
            lambda extra: [*found, Variant(f"message {limit + 1}, one too many", extra, Expect(423, "locked"))]
        )
    )
    variants = sunco.variants("up-to-the-limit", full, limit + 1)
    made = [records.create(v).id for v in variants]
    sunco.call("DeleteAllMessages", path_params=where, expect=Expect(200))
    forget_all(sunco, records, [m for m in made if m])
    again = sunco.variants("room-again", defs.bodies("text").map(lambda b: posted(b, "a message after Delete All")), 1)
    records.create(again[0])
    sunco.finish()


def test_message_operations_answer_404_for_an_unknown_conversation(sunco: ConformanceSession) -> None:
    unknown = sunco.variants(
        "unknown-conversation",
        hex_id().map(
            lambda value: Variant(
                "unknown conversationId",
                None,
                Expect(404, "conversation_not_found"),
                params={"path": {"conversationId": value}},
            )
        ),
        1,
    )[0]
    where = dict(unknown.params["path"])
    # Each operation's documented code: List Messages shows a plain not_found.
    sunco.call("ListMessages", path_params=where, expect=Expect(404, "not_found"))
    sunco.call("DeleteAllMessages", path_params=where, expect=unknown.expect)
    sunco.call("DeleteMessage", path_params={**where, "messageId": where["conversationId"]}, expect=unknown.expect)
    sunco.finish()


def test_message_operations_require_credentials(sunco: ConformanceSession) -> None:
    records = Records(sunco, MESSAGE)
    where = records.parents()
    message = sunco.variants("setup-message", defs.bodies("text").map(lambda b: posted(b, "a message")), 1)[0]
    message_id = sunco.require(records.create(message).id, "a message to work on", message)
    refused = Expect(401, "unauthorized")
    sunco.call("ListMessages", path_params=where, authenticate=False, expect=refused)
    sunco.call("DeleteMessage", path_params=records.path(message_id), authenticate=False, expect=refused)
    sunco.call("DeleteAllMessages", path_params=where, authenticate=False, expect=refused)
    sunco.finish()
