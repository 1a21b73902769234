"""How ``spec-diff`` classes each kind of change, for a client written against the old contract: one table.

A rule is keyed by the change's kind and its scope: ``operation`` (the operation as a whole, its
security, tag or route), ``success``/``error`` (a documented status), ``request`` (what the client
sends), ``response`` (what it gets back) or ``webhook`` (what the service delivers to it). A field
kind is named for its scope: ``request-field-added``, ``response-field-added``, ``payload-field-added``.

* ``breaking``: the client may now send something that is refused, or get something it does not
  expect;
* ``additive``: there is more it may use, and nothing it did stops working;
* ``cosmetic``: what it may send and receive stays within what it knew.
"""

from __future__ import annotations

from typing import Literal

Class = Literal["breaking", "additive", "cosmetic"]
CLASSES: tuple[Class, ...] = ("breaking", "additive", "cosmetic")
FIELD_SCOPES = ("request", "response", "webhook")
PREFIX = {"request": "request", "response": "response", "webhook": "payload"}

# (kind, scope) -> (class, why)
RULES: dict[tuple[str, str], tuple[Class, str]] = {
    ("operation-added", "operation"): ("additive", "a new operation to call"),
    ("operation-removed", "operation"): ("breaking", "calls to it are refused"),
    ("operation-renamed", "operation"): ("cosmetic", "the same method and path under another operationId"),
    ("operation-moved", "operation"): ("breaking", "the method or path the client calls changed"),
    ("tag-changed", "operation"): ("cosmetic", "documentation grouping only"),
    ("security-widened", "operation"): ("additive", "every credential the client used is still accepted"),
    ("security-changed", "operation"): ("breaking", "a credential the client used may be refused"),
    ("webhook-added", "operation"): ("additive", "a new delivery the client may subscribe to"),
    ("webhook-removed", "operation"): ("breaking", "deliveries the client relied on stop"),
    ("status-added", "success"): ("breaking", "a success answer the client does not expect"),
    ("status-removed", "success"): ("breaking", "the answer the client expects no longer comes"),
    ("status-added", "error"): ("additive", "an error documented"),
    ("status-removed", "error"): ("cosmetic", "an error no longer documented"),
    ("request-body-required", "request"): ("breaking", "a call without a body is refused"),
    ("request-body-optional", "request"): ("additive", "the body may be left out"),
    ("media-type-added", "request"): ("additive", "one more way to send the body"),
    ("media-type-removed", "request"): ("breaking", "the body the client sends is refused"),
    ("media-type-added", "response"): ("additive", "the client can ask for another media type"),
    ("media-type-removed", "response"): ("breaking", "the media type the client reads is gone"),
    ("media-type-added", "webhook"): ("breaking", "a delivery in a media type the client does not read"),
    ("media-type-removed", "webhook"): ("cosmetic", "deliveries stay within what the client reads"),
    ("header-added", "response"): ("additive", "one more header to read"),
    ("header-removed", "response"): ("breaking", "a header the client may read is no longer sent"),
    ("event-added", "webhook"): ("additive", "a webhook gets only the events it subscribes to"),
    ("event-removed", "webhook"): ("breaking", "events the client subscribed to stop"),
}

# Field kinds: (request, response, webhook) classes, and why (for the request, then for what it receives).
_FIELD_RULES: dict[str, tuple[Class, Class, Class, str]] = {
    "field-removed": ("breaking", "breaking", "breaking", "a field it sends is refused; a field it reads is gone"),
    "field-added": ("additive", "additive", "additive", "an optional field to send; a field to read"),
    "field-required": ("breaking", "cosmetic", "cosmetic", "a call without it is refused; always there now"),
    "field-optional": ("additive", "breaking", "breaking", "it may be left out; it may be missing"),
}
_VALUE_RULES: dict[str, tuple[Class, Class, Class, str]] = {
    "type-widened": ("additive", "breaking", "breaking", "more types accepted; a type it does not expect"),
    "type-narrowed": ("breaking", "cosmetic", "cosmetic", "a type it sends is refused; within what it knew"),
    "type-changed": ("breaking", "breaking", "breaking", "neither type contains the other"),
    "enum-value-added": ("additive", "breaking", "breaking", "one more value to send; a value it does not expect"),
    "enum-value-removed": ("breaking", "cosmetic", "cosmetic", "a value it sends is refused; within what it knew"),
    "enum-added": ("breaking", "cosmetic", "cosmetic", "newly restricted to a list"),
    "enum-removed": ("additive", "breaking", "breaking", "no longer restricted to a list"),
    "constraint-tightened": ("breaking", "cosmetic", "cosmetic", "a value it sends is refused; within what it knew"),
    "constraint-loosened": ("additive", "breaking", "breaking", "more values accepted; a value it did not expect"),
    "constraint-changed": ("breaking", "breaking", "breaking", "a different rule (pattern, format)"),
    "branch-added": ("additive", "breaking", "breaking", "one more shape to send; a shape it does not expect"),
    "branch-removed": ("breaking", "cosmetic", "cosmetic", "a shape it sends is refused; within what it knew"),
    "discriminator-added": ("cosmetic", "cosmetic", "cosmetic", "the same branches, now told apart by a field"),
}
for _suffix, (_req, _resp, _hook, _why) in _FIELD_RULES.items():
    for _scope, _klass in zip(FIELD_SCOPES, (_req, _resp, _hook), strict=True):
        RULES[(f"{PREFIX[_scope]}-{_suffix}", _scope)] = (_klass, _why)
for _kind, (_req, _resp, _hook, _why) in _VALUE_RULES.items():
    for _scope, _klass in zip(FIELD_SCOPES, (_req, _resp, _hook), strict=True):
        RULES[(_kind, _scope)] = (_klass, _why)


def field_kind(scope: str, suffix: str) -> str:
    """``request-field-added``, ``response-field-added``, ``payload-field-added``."""
    return f"{PREFIX[scope]}-{suffix}"


def classify(kind: str, scope: str) -> Class:
    """The class of a change; a kind the table does not know is a programming error."""
    try:
        return RULES[(kind, scope)][0]
    except KeyError:
        raise KeyError(f"no spec-diff rule for {kind!r} in scope {scope!r}") from None
