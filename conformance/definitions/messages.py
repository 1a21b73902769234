"""Messages: a body per content type, plausible values the schemas describe only as text, and the
prose rules a generated body must keep (a template is a WhatsApp template, form field names are
unique, a formResponse cannot be sent)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from conformance.contract.schemas import shipped
from conformance.variants.strategies import Generator, Hints, safe_text

RESOURCES = ("message",)

# Content types the API accepts from a client, with the component each one is; formResponse is
# only ever written by Web Messenger, and "locationRequest" is a text message asking for a location.
BRANCHES = {
    "text": "textMessage",
    "image": "imageMessage",
    "file": "fileMessage",
    "carousel": "carouselMessage",
    "list": "listMessage",
    "location": "locationMessage",
    "form": "formMessage",
    "template": "templateMessage",
}
SENDABLE = (*BRANCHES, "locationRequest")
CONTENT = "components/content.json"
BODY = "components/messagePost.json"

_URL = safe_text(1, 12).map(lambda slug: f"https://example.com/media/{slug}")
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "mediaUrl": _URL.map(lambda url: url + ".png"),
    "uri": _URL,
    "fallback": _URL,
    "iconUrl": _URL.map(lambda url: url + ".png"),
    "avatarUrl": _URL.map(lambda url: url + ".jpg"),
    "coordinates": st.fixed_dictionaries(
        {
            "lat": st.floats(-90, 90, allow_nan=False).map(lambda x: round(x, 5)),
            "long": st.floats(-180, 180, allow_nan=False).map(lambda x: round(x, 5)),
        }
    ),
    "currency": st.sampled_from(["usd", "eur", "cad"]),
    "amount": st.integers(100, 100_000),
    "template": st.fixed_dictionaries(
        {
            "name": st.sampled_from(["order_update", "appointment_reminder"]),
            "language": st.just({"policy": "deterministic", "code": "en_US"}),
        }
    ),
    "metadata": st.dictionaries(
        safe_text(1, 10), st.one_of(safe_text(0, 12), st.integers(-1000, 1000), st.booleans()), max_size=3
    ),
}
# Write-only or server-filled parts a generated body leaves out: markdownText becomes the text;
# an attachment id names an upload; extraChannelOptions are channel settings.
SKIPPED = frozenset({"markdownText", "attachmentId", "extraChannelOptions", "openOnReceive", "payload"})
NESTED = Hints(VALUES, skip=SKIPPED)


def business_author() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"type": st.just("business")},
        optional={"displayName": safe_text(1, 20), "avatarUrl": VALUES["avatarUrl"], "subtypes": st.just(["AI"])},
    )


def user_author(user_id: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"type": st.just("user"), "userId": st.just(user_id)})


def _unique_names(fields: Any) -> Any:
    """Form field names are unique per form, option names per field (stated in prose only)."""
    if not isinstance(fields, list):
        return fields
    out = []
    for number, field in enumerate(fields):
        if not isinstance(field, dict):
            out.append(field)
            continue
        field = {**field, "name": f"{field.get('name', 'field')}-{number}"}
        if isinstance(field.get("options"), list):
            field["options"] = [
                {**option, "name": f"{option.get('name', 'option')}-{n}"} if isinstance(option, dict) else option
                for n, option in enumerate(field["options"])
            ]
        if isinstance(field.get("minSize"), int) and isinstance(field.get("maxSize"), int):
            low, high = sorted((field["minSize"], field["maxSize"]))
            field.update(minSize=low, maxSize=high)
        out.append(field)
    return out


def _finish(kind: str, content: dict[str, Any]) -> dict[str, Any]:
    content = {**content, "type": kind}
    if kind == "form":
        content["fields"] = _unique_names(content.get("fields"))
    if kind == "text" and not any(content.get(name) for name in ("text", "actions", "htmlText")):
        content["text"] = "Hello"
    return content


def content(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    """Valid content of one type (``locationRequest``: a text asking for the user's location)."""
    valid = shipped().validator(CONTENT, "request").is_valid
    if kind == "locationRequest":
        ask = st.fixed_dictionaries({"type": st.just("locationRequest"), "text": safe_text(1, 20)})
        made = st.fixed_dictionaries(
            {"type": st.just("text"), "text": safe_text(1, 40), "actions": st.lists(ask, min_size=1, max_size=1)}
        )
        return made.filter(valid)
    ref = f"components/{BRANCHES[kind]}.json"
    return Generator(NESTED).for_ref(ref).map(lambda found: _finish(kind, found)).filter(valid)


def with_schema(body: dict[str, Any]) -> dict[str, Any]:
    """A template message must name the whatsapp schema (stated in prose only)."""
    if isinstance(body.get("content"), dict) and body["content"].get("type") == "template":
        return {**body, "schema": "whatsapp"}
    return body


def bodies(kind: str, author: st.SearchStrategy[dict[str, Any]] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Valid PostMessage bodies with content of one type."""
    valid = shipped().validator(BODY, "request").is_valid
    made = st.fixed_dictionaries(
        {"author": business_author() if author is None else author, "content": content(kind)},
        optional={"metadata": VALUES["metadata"]},
    )
    return made.map(with_schema).filter(valid)


def hints(name: str, role: str) -> Hints:
    # Business authors: a user author must name a user of the app, which a generic test has not made.
    return Hints(
        {
            "author": business_author(),
            "content": st.one_of([content(kind) for kind in SENDABLE]),
            "metadata": VALUES["metadata"],
        },
        skip=frozenset({"destination", "override", "schema"}),
        fix=with_schema,
    )
