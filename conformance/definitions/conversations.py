"""Conversations: plausible values, and the participant a body may name.

A participant must be a user that exists, which no strategy can know: bodies drawn inside
``with member(user):`` name that user as their one participant, by ``userId`` or by
``userExternalId``; outside it they name nobody. Generated bodies are ``sdkGroup`` conversations:
a user's first ``personal`` conversation is its default, which cannot be deleted, so personal
conversations are left to hand-written flows that know it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from hypothesis import strategies as st

from conformance.variants.strategies import Hints, safe_text

RESOURCES = ("conversation",)
RUN_PREFIX = "conformance "

_MEMBER: ContextVar[Mapping[str, Any] | None] = ContextVar("conversation_member", default=None)

# Metadata is flat: strings, numbers and booleans, small enough to stay far below its 4KB.
METADATA = st.dictionaries(
    safe_text(1, 12), st.one_of(safe_text(0, 20), st.integers(-1000, 1000), st.booleans()), max_size=3
)

VALUES: dict[str, st.SearchStrategy[Any]] = {
    "type": st.just("sdkGroup"),
    "displayName": safe_text(1, 40).map(lambda text: RUN_PREFIX + text),
    "description": safe_text(1, 60),
    "iconUrl": safe_text(1, 12).map(lambda slug: f"https://example.com/icons/{slug}.png"),
    "metadata": METADATA,
}


@contextmanager
def member(user: Mapping[str, Any]) -> Iterator[None]:
    """Conversation bodies built inside name ``user`` (``id``, and ``externalId`` if it has one)."""
    token = _MEMBER.set(dict(user))
    try:
        yield
    finally:
        _MEMBER.reset(token)


def participant(user: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """``user`` as an sdkGroup participant, named either way the contract allows."""
    names = [{"userId": user["id"]}]
    if user.get("externalId"):
        names.append({"userExternalId": user["externalId"]})
    return st.tuples(st.sampled_from(names), st.booleans()).map(lambda p: {**p[0], "subscribeSDKClient": p[1]})


def hints(name: str, role: str) -> Hints:
    user = _MEMBER.get()
    if user is None or role != "create":
        return Hints(VALUES, skip=frozenset({"participants"}))
    return Hints({**VALUES, "participants": participant(user).map(lambda p: [p])}, always=frozenset({"participants"}))
