"""The realistic profile: where the live service legitimately differs from the seeded sandbox, as data.

``Sandbox(realistic=True)`` (``python -m conformance sandbox --realistic``) serves ids shaped like the
live service's (ObjectIds: seconds since the epoch, then random and counter digits), reads the wall
clock, and adds to its answers and webhook bodies what the live service has been seen sending that
the documentation does not describe, or describes otherwise. Every such difference is one
:class:`Deviation` in :data:`REALISTIC`; handlers know nothing of them. The harness's own tests
record, replay, re-record and compare against this target, so a suite tuned to the seeded sandbox
alone shows up.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Where = Literal["response", "webhook"]


@dataclass(frozen=True)
class Deviation:
    """One thing the live service does: at every object ``pattern`` matches, ``field`` gets ``value``.

    ``pattern`` is a JSON pointer whose tokens may be ``*`` (any member or item) or ``name=value``
    (a filter: of a list, the items whose ``name`` is ``value``; of an object, itself if it is
    such). A field already there is kept, unless ``append``: then ``value`` joins the list the
    field holds. ``value`` is a constant, or a function of the matched object and of the events
    that happened before (the sandbox's history, oldest first).
    """

    where: Where
    pattern: str
    field: str
    value: Any
    why: str
    append: bool = False

    def apply(self, body: Any, history: Sequence[dict[str, Any]] = ()) -> None:
        for target in _matches(body, [t for t in self.pattern.split("/") if t]):
            value = self.value(target, history) if callable(self.value) else copy.deepcopy(self.value)
            if self.append:
                items = target.get(self.field)
                if isinstance(items, list) and value not in items:
                    items.append(value)
            elif self.field not in target:
                target[self.field] = value


def _matches(node: Any, tokens: list[str]) -> Iterator[dict[str, Any]]:
    if not tokens:
        if isinstance(node, dict):
            yield node
        return
    step, rest = tokens[0], tokens[1:]
    name, equals, wanted = step.partition("=")
    if isinstance(node, list):
        for item in node:
            if step == "*" or (equals and isinstance(item, dict) and item.get(name) == wanted):
                yield from _matches(item, rest)
    elif isinstance(node, dict) and equals:
        if node.get(name) == wanted:
            yield from _matches(node, rest)
    elif isinstance(node, dict):
        children = node.values() if step == "*" else [node[step]] if step in node else []
        for child in list(children):
            yield from _matches(child, rest)


@dataclass(frozen=True)
class Profile:
    """How a sandbox differs from the seeded one: its ids, and its deviations in answers and webhook bodies."""

    name: str
    object_ids: bool
    deviations: tuple[Deviation, ...]

    def response(self, body: Any, history: Sequence[dict[str, Any]] = ()) -> Any:
        return self._apply("response", body, history)

    def webhook(self, body: Any, history: Sequence[dict[str, Any]] = ()) -> Any:
        """A delivery's body; ``history`` holds the events before the one delivered."""
        return self._apply("webhook", body, history)

    def _apply(self, where: Where, body: Any, history: Sequence[dict[str, Any]]) -> Any:
        out = copy.deepcopy(body)
        for deviation in self.deviations:
            if deviation.where == where:
                deviation.apply(out, history)
        return out


def _author_name(author: dict[str, Any], history: Sequence[dict[str, Any]]) -> str:
    # A user without a name shows as "Web User" and its id.
    return "Sandbox app" if author.get("type") == "business" else f"Web User {author.get('userId', '')}"


def _previous_control(payload: dict[str, Any], history: Sequence[dict[str, Any]]) -> Any:
    """Who held control before this hand-off: the active one after the conversation's last hand-off, else null."""
    conversation = (payload.get("conversation") or {}).get("id")
    for event in reversed(history):
        kind, about = str(event.get("type")), (event.get("payload") or {}).get("conversation") or {}
        if kind.startswith("switchboard:") and not kind.endswith(":failure") and about.get("id") == conversation:
            return copy.deepcopy(about.get("activeSwitchboardIntegration"))
    return None


def _default_responder(integration: dict[str, Any], history: Sequence[dict[str, Any]]) -> dict[str, Any]:
    # The switchboard integration answering first, with the id the documentation leaves out; stable per integration.
    derived = hashlib.sha256(str(integration.get("id")).encode()).hexdigest()[:24]
    return {"id": derived, "name": "bot", "integrationType": "zd:answerBot", "inherited": True}


MESSAGES = ("/messages/*", "/message")
EVENT = "/events/*/payload"
INTEGRATIONS = ("/integrations/*", "/integration")
SEEN = "seen from the live service, not in the vendor's spec"


def _message_deviations(where: Where, prefixes: tuple[str, ...]) -> tuple[Deviation, ...]:
    out: list[Deviation] = []
    for prefix in prefixes:
        out += [
            Deviation(where, f"{prefix}/author", "displayName", _author_name, SEEN),
            Deviation(where, f"{prefix}/author", "avatarUrl", "", "a user without a picture: an empty string"),
            Deviation(where, f"{prefix}/source", "entryPoint", "conversation", SEEN),
            Deviation(where, f"{prefix}/content/fields/*", "selectSize", 1, SEEN),
        ]
    return tuple(out)


REALISTIC = Profile(
    name="realistic",
    object_ids=True,
    deviations=(
        # Webhook bodies.
        Deviation("webhook", "", "zendeskAccountId", 12345678, SEEN),
        Deviation("webhook", f"{EVENT}/conversation", "brandId", "360012345678", SEEN),
        Deviation("webhook", f"{EVENT}/conversation", "metadata", {}, "conversations carry metadata"),
        Deviation("webhook", f"{EVENT}/conversation/metadata", "lastAgentId", None, "a metadata value may be null"),
        Deviation("webhook", f"{EVENT}/user/profile", "avatarUrl", "", "a user without a picture: an empty string"),
        Deviation(
            "webhook",
            "/events/type=switchboard:passControl/payload",
            "previousActiveSwitchboardIntegration",
            _previous_control,
            SEEN,
        ),
        *_message_deviations("webhook", (f"{EVENT}/message",)),
        # API answers.
        *_message_deviations("response", MESSAGES),
        *(Deviation("response", prefix, "productLine", "messaging", SEEN) for prefix in INTEGRATIONS),
        *(
            Deviation("response", f"{prefix}/type=web", "defaultResponder", _default_responder, SEEN + " (its id)")
            for prefix in INTEGRATIONS
        ),
        *(
            Deviation(
                "response",
                f"{prefix}/webhooks/*",
                "triggers",
                "passthrough:messaging",
                "documented in the vendor's trigger table",
                append=True,
            )
            for prefix in INTEGRATIONS
        ),
    ),
)
