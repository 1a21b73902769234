"""The checks a webhook delivery goes through: one registry, each check ``check(ctx, entry)`` with its condition.

``entry`` is a delivery as the cassette keeps it (``received``, ``contentType``, the scrubbed
``body``, the ``apiKey`` verdict); ``ctx`` is what the test knows of the webhook it expects it at.
A delivery that never came, or is not a JSON object, is judged no further.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from conformance import pointer as pointers
from conformance.checks.registry import Registry
from conformance.checks.undocumented import DELIVERY_SCHEMA, WEBHOOK_OPERATION
from conformance.contract.schemas import Contract, shipped
from conformance.failures import ConformanceFailure, SchemaViolation, StateMismatch

JSON_TYPE = "application/json"
# How long a recording waits for a delivery before it reports none came; never reached when one does.
WAIT_SECONDS = 20.0

Entry = Mapping[str, Any]


@dataclass(frozen=True)
class DeliveryContext:
    """The delivery a test waits for: to which webhook (subscribed to ``triggers``), of which app, sent to ``where``."""

    webhook_id: str
    trigger: str
    app_id: str | None
    triggers: list[str] | None
    where: str
    # The contract the delivery is held to (the shipped one when none is given).
    contract: Contract | None = None

    @property
    def label(self) -> str:
        return f"{WEBHOOK_OPERATION} (POST {self.where})"

    def state(self, title: str, rule: str, expected: Any, actual: Any, pointer: str | None = None) -> StateMismatch:
        return StateMismatch(
            title=f"{self.label} {title}",
            rule=rule,
            expected=expected,
            actual=actual,
            pointer=pointer,
            operation=WEBHOOK_OPERATION,
            method="POST",
            path=self.where,
        )


DELIVERY_CHECKS: Registry[DeliveryContext, Entry] = Registry("delivery")
check = DELIVERY_CHECKS.check


def schema_failures(
    body: Any, ref: str, *, where: str, what: str, contract: Contract | None = None
) -> list[ConformanceFailure]:
    """Each place a webhook body (a whole delivery, or ``ref`` one event) breaks its schema."""
    found: list[ConformanceFailure] = []
    checker = (contract or shipped()).validator(ref, "response")
    for error in sorted(checker.iter_errors(body), key=lambda e: list(e.absolute_path)):
        while error.context:
            error = error.context[0]
        found.append(
            SchemaViolation(
                title=f"{WEBHOOK_OPERATION} (POST {where}) sent {what} that breaks {ref}.",
                pointer=pointers.join(error.absolute_path),
                rule=f"{error.validator} ({pointers.join(error.absolute_schema_path)} in the schema): {error.message}",
                expected=f"{error.validator}: {error.validator_value}",
                actual=error.instance,
                operation=WEBHOOK_OPERATION,
                method="POST",
                path=where,
            )
        )
    return found


def webhook_of(body: Any) -> str | None:
    """The id of the webhook a delivery names."""
    hook = body.get("webhook") if isinstance(body, dict) else None
    return str(hook.get("id")) if isinstance(hook, dict) and hook.get("id") else None


# -- conditions ---------------------------------------------------------------------------------


def names_app(ctx: DeliveryContext, entry: Entry) -> bool:
    """when the test knows the app"""
    return ctx.app_id is not None


def knows_triggers(ctx: DeliveryContext, entry: Entry) -> bool:
    """when the test knows the webhook's triggers"""
    return ctx.triggers is not None


# -- the checks, in the order they run ------------------------------------------------------------


@check("received")
def delivery_came(ctx: DeliveryContext, entry: Entry) -> Iterator[ConformanceFailure]:
    """an event a webhook subscribes to is delivered to its target"""
    if not entry.get("received"):
        yield ctx.state(
            f"delivered no {ctx.trigger} event to webhook {ctx.webhook_id} within {WAIT_SECONDS:.0f} s.",
            "an event a webhook subscribes to is delivered to its target",
            f"a POST with a {ctx.trigger} event for webhook {ctx.webhook_id}",
            "nothing received",
        )


@check("json", after=("received",))
def delivery_is_json(ctx: DeliveryContext, entry: Entry) -> Iterator[ConformanceFailure]:
    """the delivery is a JSON object, sent as application/json"""
    media = str(entry.get("contentType", "")).split(";")[0].strip().lower()
    if media != JSON_TYPE or not isinstance(entry.get("body"), dict):
        yield ctx.state(
            "sent a body that is not a JSON object.", "deliveries are JSON", JSON_TYPE, entry.get("contentType")
        )


# What is in a delivery is judged once it came as a JSON object.
CAME = ("json",)


@check("schema", after=CAME)
def delivery_matches_schema(ctx: DeliveryContext, entry: Entry) -> Iterator[ConformanceFailure]:
    """the delivery is valid against the webhook schema, each event against the one its type names"""
    yield from schema_failures(
        entry["body"], DELIVERY_SCHEMA, where=ctx.where, what=f"a {ctx.trigger} delivery", contract=ctx.contract
    )


@check("webhook", after=CAME)
def names_its_webhook(ctx: DeliveryContext, entry: Entry) -> Iterator[ConformanceFailure]:
    """the delivery names the webhook it was sent for"""
    named = webhook_of(entry["body"])
    if named != ctx.webhook_id:
        yield ctx.state("named another webhook.", "a delivery names its webhook", ctx.webhook_id, named, "/webhook/id")


@check("app", applies=names_app, after=CAME)
def names_its_app(ctx: DeliveryContext, entry: Entry) -> Iterator[ConformanceFailure]:
    """the delivery names the app of its webhook"""
    body = entry["body"]
    sent_app = (body.get("app") or {}).get("id") if isinstance(body.get("app"), dict) else None
    if sent_app != ctx.app_id:
        yield ctx.state(
            "named another app.", "a delivery names the app of its webhook", ctx.app_id, sent_app, "/app/id"
        )


@check("triggers", applies=knows_triggers, after=CAME)
def only_subscribed_events(ctx: DeliveryContext, entry: Entry) -> Iterator[ConformanceFailure]:
    """every event delivered is of a type the webhook subscribes to"""
    types = [e.get("type") for e in entry["body"].get("events") or [] if isinstance(e, dict)]
    if ctx.triggers is not None and any(kind not in ctx.triggers for kind in types):
        yield ctx.state(
            "delivered an event its webhook does not subscribe to.",
            "only subscribed triggers are delivered",
            ctx.triggers,
            types,
            "/events",
        )


@check("api_key", after=CAME)
def carries_the_secret(ctx: DeliveryContext, entry: Entry) -> Iterator[ConformanceFailure]:
    """the delivery's X-API-Key header is the webhook's secret (kept as a verdict, never as the header)"""
    verdict = entry.get("apiKey")
    if verdict != "matches":
        yield ctx.state(
            "did not carry the webhook's secret in X-API-Key.",
            "each delivery's X-API-Key header is the webhook's secret",
            "matches",
            verdict,
        )


def check_delivery(
    entry: Entry,
    *,
    webhook_id: str,
    trigger: str,
    app_id: str | None,
    triggers: list[str] | None,
    where: str,
    contract: Contract | None = None,
) -> list[ConformanceFailure]:
    """Everything a delivery owes: it came, as JSON, valid against the event schemas, for this app,
    webhook and trigger, only with subscribed events, and with the webhook's secret in X-API-Key."""
    return DELIVERY_CHECKS.run(DeliveryContext(webhook_id, trigger, app_id, triggers, where, contract), entry)
