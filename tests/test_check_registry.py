"""The exchange checks are one registry: each check named, with its condition, run in a declared order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from conformance.checks.delivery import DELIVERY_CHECKS, DeliveryContext
from conformance.checks.exchange import CHECKS, CheckContext, check_exchange
from conformance.checks.registry import Registry, always
from conformance.contract.schemas import shipped
from conformance.failures import ConformanceFailure, StateMismatch
from conformance.model import Exchange, Expect

JSON = {"Content-Type": "application/json"}
GOOD_ID = "5e4af71a81966cfff3ef6550"
WEB = {"id": GOOD_ID, "type": "web", "status": "active", "displayName": "Web"}
TWILIO = {"type": "twilio", "id": GOOD_ID, "accountSid": "a", "phoneNumberSid": "p"}
NOT_FOUND = {"errors": [{"code": "integration_not_found", "title": "Integration not found"}]}


def exchange(
    op: str, status: int, body: Any = None, request_body: Any = None, headers: dict[str, str] = JSON, text: str = ""
) -> Exchange:
    json_body = body is not None
    return Exchange(
        operation=shipped().operation(op),
        method=shipped().operation(op).method,
        url="http://x",
        path=shipped().operation(op).path,
        request_body=request_body,
        status=status,
        headers=headers,
        text=json.dumps(body) if json_body else text,
        body=body,
        body_is_json=json_body,
        contract=shipped(),
    )


def test_every_exchange_check_has_a_name_a_condition_and_says_what_it_checks() -> None:
    names = CHECKS.names()
    assert len(names) == len(set(names)) == len(CHECKS) > 0
    for registered in CHECKS:
        assert registered.name.isidentifier(), registered
        assert callable(registered.applies), registered.name
        assert registered.checks, f"{registered.name}: its function's docstring says what it checks"
        assert registered.when, f"{registered.name}: its condition's docstring says when it applies"
        assert all(earlier in names[: names.index(registered.name)] for earlier in registered.after)


def test_the_exchange_checks_are_listed_in_the_order_their_failures_are_reported() -> None:
    assert CHECKS.names() == [
        "expected_status",
        "documented_status",
        "redirect",
        "content_type",
        "schema",
        "write_only",
        "error_code",
        "echo",
        "defaults",
    ]
    listing = CHECKS.listing()
    assert [line.split(":", 1)[0] for line in listing] == CHECKS.names()
    assert listing[0] == (
        "expected_status: the status is the one the test expects (an undocumented one it asks for shows in "
        "the summary only); runs when the test expects a status"
    )
    assert listing[4].startswith("schema: the body is valid against the schema documented for the status")
    assert listing[4].endswith("; runs when the body is JSON, once content_type passed")


# One exchange per check that this check, and no other, rejects: (check, exchange, expectation).
ONLY_ONE = [
    ("expected_status", exchange("GetIntegration", 404, NOT_FOUND), Expect(200)),
    ("documented_status", exchange("GetIntegration", 500, {"errors": [{"code": "x", "title": "t"}]}), None),
    ("redirect", exchange("Authorize", 302, headers={"Content-Type": "text/plain"}), Expect(302)),
    (
        "content_type",
        exchange("GetIntegration", 200, {"integration": WEB}, headers={"Content-Type": "text/html"}),
        None,
    ),
    ("schema", exchange("GetIntegration", 200, {"integration": {**WEB, "status": "on"}}), None),
    ("write_only", exchange("GetIntegration", 200, {"integration": {**TWILIO, "authToken": "t"}}), None),
    (
        "error_code",
        exchange("GetIntegration", 404, {"errors": [{"code": "app_not_found", "title": "App not found"}]}),
        Expect(404, "integration_not_found"),
    ),
    (
        "echo",
        exchange("CreateIntegration", 201, {"integration": WEB}, {"type": "web", "displayName": "Mine"}),
        Expect(201, echo=(("/displayName", "/integration/displayName"),)),
    ),
    (
        "defaults",
        exchange("CreateIntegration", 201, {"integration": {**WEB, "brandColor": "000"}}, {"type": "web"}),
        Expect(201, defaults_at="/integration"),
    ),
]


def test_every_exchange_check_has_an_exchange_only_it_rejects() -> None:
    assert sorted(case[0] for case in ONLY_ONE) == sorted(CHECKS.names())


@pytest.mark.parametrize(("name", "ex", "expect"), ONLY_ONE, ids=[case[0] for case in ONLY_ONE])
def test_an_exchange_breaking_one_rule_is_rejected_by_that_check_alone(
    name: str, ex: Exchange, expect: Expect | None
) -> None:
    results = CHECKS.results(CheckContext(expect, "v-1"), ex)
    assert [check for check, found in results.items() if found] == [name]
    for failure in results[name]:
        assert failure.variant == "v-1"
        assert f"{ex.operation.method} {ex.operation.path}" in failure.title
    assert [f.as_dict() for f in check_exchange(ex, expect, "v-1")] == [f.as_dict() for f in results[name]]


# (check, an exchange it does not apply to, expectation)
NOT_APPLYING = [
    ("expected_status", exchange("GetIntegration", 200, {"integration": WEB}), None),
    ("documented_status", exchange("GetIntegration", 500, NOT_FOUND), Expect(404, "integration_not_found")),
    ("redirect", exchange("GetIntegration", 200, {"integration": WEB}), None),
    ("content_type", exchange("DeleteIntegration", 204, headers={}), None),
    ("schema", exchange("Authorize", 302, headers={"Content-Type": "text/plain", "Location": "/cb"}), None),
    ("write_only", exchange("Authorize", 302, headers={"Content-Type": "text/plain", "Location": "/cb"}), None),
    ("error_code", exchange("GetIntegration", 200, {"integration": WEB}), Expect(404, "integration_not_found")),
    ("echo", exchange("CreateIntegration", 201, {"integration": WEB}, None), Expect(201, echo=(("/type", "/x"),))),
    ("defaults", exchange("CreateIntegration", 201, {"integration": WEB}, {"type": "web"}), Expect(201)),
]


@pytest.mark.parametrize(("name", "ex", "expect"), NOT_APPLYING, ids=[case[0] for case in NOT_APPLYING])
def test_a_check_whose_condition_is_false_is_not_run(name: str, ex: Exchange, expect: Expect | None) -> None:
    ctx = CheckContext(expect)
    assert not CHECKS.get(name).applies(ctx, ex)
    assert name not in CHECKS.results(ctx, ex)


def test_get_integration_body_checks_do_not_run_once_the_media_type_is_wrong() -> None:
    ex = exchange("GetIntegration", 200, {"integration": {"type": "twilio", "authToken": "t"}}, headers={})
    results = CHECKS.results(CheckContext(), ex)
    assert [check for check, found in results.items() if found] == ["content_type"]
    assert "write_only" not in results
    assert "schema" not in results


def test_create_integration_failures_come_in_the_declared_order() -> None:
    body = {"integration": {**TWILIO, "authToken": "t", "status": "on"}}
    ex = exchange("CreateIntegration", 201, body, {"type": "twilio", "displayName": "Mine"})
    found = check_exchange(ex, Expect(201, echo=(("/displayName", "/integration/displayName"),)))
    assert [(f.kind, f.pointer) for f in found] == [
        ("schema", "/integration/status"),
        ("schema", "/integration/status"),
        ("write-only-leak", "/integration/authToken"),
        ("state", "/integration/displayName"),
    ]


# -- webhook deliveries -----------------------------------------------------------------------------

APP = "5a4db0c5a4db0c5a4db0c5a4"
HOOK = "0123456789abcdef01234567"
EXPECTED = DeliveryContext(HOOK, "client:add", APP, ["client:add"], "http://t/")


def delivery(body_changes: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    event = {
        "id": "0ca7d56ba7b2e081e479fe9e",
        "type": "client:add",
        "createdAt": "2024-01-01T00:00:01.000Z",
        "payload": {"conversation": None, "user": {"id": "u"}, "client": {"id": "c"}, "reason": "channelLinking"},
    }
    body = {"app": {"id": APP}, "webhook": {"id": HOOK, "version": "v2"}, "events": [event], **(body_changes or {})}
    base = {"webhook": HOOK, "trigger": "client:add", "received": True, "contentType": "application/json"}
    return {**base, "apiKey": "matches", "body": body, **changes}


def test_the_delivery_checks_are_listed_in_the_order_their_failures_are_reported() -> None:
    assert DELIVERY_CHECKS.names() == ["received", "json", "schema", "webhook", "app", "triggers", "api_key"]
    assert DELIVERY_CHECKS.listing()[4] == (
        "app: the delivery names the app of its webhook; runs when the test knows the app, once json passed"
    )
    assert DELIVERY_CHECKS.run(EXPECTED, delivery()) == []


# (check, a delivery only that check rejects, what the test knows of it)
ONE_DELIVERY_RULE = [
    ("received", {"webhook": HOOK, "trigger": "client:add", "received": False}, EXPECTED),
    ("json", delivery(contentType="text/plain"), EXPECTED),
    ("schema", delivery({"events": [{**delivery()["body"]["events"][0], "createdAt": "yesterday"}]}), EXPECTED),
    ("webhook", delivery({"webhook": {"id": "another", "version": "v2"}}), EXPECTED),
    ("app", delivery({"app": {"id": "another"}}), EXPECTED),
    ("triggers", delivery(), DeliveryContext(HOOK, "client:add", APP, ["user:remove"], "http://t/")),
    ("api_key", delivery(apiKey="differs"), EXPECTED),
]


def test_every_delivery_check_has_a_delivery_only_it_rejects() -> None:
    assert sorted(case[0] for case in ONE_DELIVERY_RULE) == sorted(DELIVERY_CHECKS.names())


@pytest.mark.parametrize(("name", "entry", "ctx"), ONE_DELIVERY_RULE, ids=[case[0] for case in ONE_DELIVERY_RULE])
def test_a_delivery_breaking_one_rule_is_rejected_by_that_check_alone(
    name: str, entry: dict[str, Any], ctx: DeliveryContext
) -> None:
    results = DELIVERY_CHECKS.results(ctx, entry)
    assert [check for check, found in results.items() if found] == [name]
    for failure in results[name]:
        assert failure.title.startswith("EventWebhooks (POST http://t/)")


@pytest.mark.parametrize(
    ("name", "entry", "ctx"),
    [
        ("json", {"received": False}, EXPECTED),
        ("schema", delivery(body=[1]), EXPECTED),
        ("app", delivery({"app": {"id": "another"}}), DeliveryContext(HOOK, "client:add", None, None, "http://t/")),
        ("triggers", delivery(), DeliveryContext(HOOK, "client:add", APP, None, "http://t/")),
    ],
)
def test_a_delivery_check_that_does_not_apply_is_not_run(
    name: str, entry: dict[str, Any], ctx: DeliveryContext
) -> None:
    results = DELIVERY_CHECKS.results(ctx, entry)
    assert "received" in results
    assert name not in results


# -- the registry itself, on a subject of its own ---------------------------------------------------


def failure(title: str) -> ConformanceFailure:
    return StateMismatch(operation="Op", method="GET", path="/p", title=title, rule="r")


def spy_registry(ran: list[str]) -> Registry[None, int]:
    """Checks on a number: ``positive`` rejects what is not, ``even`` runs only once ``positive`` passed."""
    registry: Registry[None, int] = Registry("number")

    def big(ctx: None, number: int) -> bool:
        """when the number is above 100"""
        return number > 100

    @registry.check("positive")
    def positive(ctx: None, number: int) -> Iterator[ConformanceFailure]:
        """the number is positive"""
        ran.append("positive")
        if number <= 0:
            yield failure("not positive")

    @registry.check("even", after=("positive",))
    def even(ctx: None, number: int) -> Iterator[ConformanceFailure]:
        """the number is even"""
        ran.append("even")
        if number % 2:
            yield failure("odd")

    @registry.check("small", applies=big)
    def small(ctx: None, number: int) -> Iterator[ConformanceFailure]:
        """the number is at most 1000"""
        ran.append("small")
        if number > 1000:
            yield failure("large")

    return registry


@pytest.mark.parametrize(
    ("number", "runs", "titles"),
    [
        (4, ["positive", "even"], []),
        (3, ["positive", "even"], ["odd"]),
        (-3, ["positive"], ["not positive"]),
        (2001, ["positive", "even", "small"], ["odd", "large"]),
    ],
)
def test_a_registry_runs_a_check_only_when_its_condition_holds_and_what_it_follows_passed(
    number: int, runs: list[str], titles: list[str]
) -> None:
    ran: list[str] = []
    registry = spy_registry(ran)
    assert [failure.title for failure in registry.run(None, number)] == titles
    assert ran == runs
    assert list(registry.results(None, number)) == runs


def test_a_registry_lists_its_checks_with_their_conditions() -> None:
    registry = spy_registry([])
    assert registry.listing() == [
        "positive: the number is positive; runs always",
        "even: the number is even; runs always, once positive passed",
        "small: the number is at most 1000; runs when the number is above 100",
    ]
    assert registry.get("small").applies is not always
    with pytest.raises(KeyError, match="no number check 'odd'; the checks are: positive, even, small"):
        registry.get("odd")


def test_a_registry_refuses_a_check_without_a_name_of_its_own_or_a_docstring() -> None:
    registry = spy_registry([])

    def undocumented(ctx: None, number: int) -> Iterator[ConformanceFailure]:
        return iter(())

    def documented(ctx: None, number: int) -> Iterator[ConformanceFailure]:
        """something"""
        return iter(())

    with pytest.raises(ValueError, match="'even' is taken"):
        registry.check("even")(documented)
    with pytest.raises(ValueError, match="comes after later, which no earlier check is called"):
        registry.check("new", after=("later",))(documented)
    with pytest.raises(ValueError, match="a docstring says what it checks"):
        registry.check("new")(undocumented)
    with pytest.raises(ValueError, match="a docstring says what it checks"):
        registry.check("new", applies=lambda ctx, number: True)(documented)
    assert registry.names() == ["positive", "even", "small"]


@pytest.mark.parametrize("body", [{"errors": None}, {"errors": 5}, [{"code": "integration_not_found"}]])
def test_get_integration_expected_404_with_a_malformed_envelope_fails_naming_the_missing_code(body: Any) -> None:
    found = check_exchange(exchange("GetIntegration", 404, body), Expect(404, "integration_not_found"))
    (failure,) = [f for f in found if f.pointer == "/errors" and f.kind == "unexpected-status"]
    assert failure.title.endswith("answered 404 without the error code 'integration_not_found'.")
    assert failure.actual == []
