"""Every check fails on the exchange it exists for, and names the place and the rule."""

from __future__ import annotations

import pytest

from conformance.checks.exchange import check_exchange
from conformance.contract.schemas import shipped
from conformance.failures import (
    ConformanceFailure,
    ContentTypeMismatch,
    FailureGroup,
    SchemaViolation,
    StateMismatch,
    UndocumentedStatus,
    UnexpectedStatus,
    WriteOnlyLeak,
    raise_if_any,
)
from conformance.model import Exchange, Expect

JSON = {"Content-Type": "application/json; charset=utf-8"}
GOOD_ID = "5e4af71a81966cfff3ef6550"


def exchange(op: str, status: int, body, request_body=None, headers=JSON, text=None) -> Exchange:
    import json

    raw = text if text is not None else json.dumps(body)
    return Exchange(
        operation=shipped().operation(op),
        method=shipped().operation(op).method,
        url="http://x",
        path="/p",
        request_body=request_body,
        status=status,
        headers=headers,
        text=raw,
        body=body if text is None else None,
        body_is_json=text is None,
        contract=shipped(),
    )


OK_CREATE = {"integration": {"id": GOOD_ID, "type": "web", "status": "active", "displayName": "Web"}}

PASSING = [
    (
        "created",
        exchange("CreateIntegration", 201, OK_CREATE, {"type": "web", "displayName": "Web"}),
        Expect(201, echo=(("/type", "/integration/type"), ("/displayName", "/integration/displayName"))),
    ),
    (
        "rejected",
        exchange("CreateIntegration", 400, {"errors": [{"code": "bad_request", "title": "x"}]}),
        Expect(400, "bad_request"),
    ),
    (
        "listed",
        exchange("ListIntegrations", 200, {"integrations": [OK_CREATE["integration"]], "meta": {"hasMore": False}}),
        None,
    ),
    ("deleted", exchange("DeleteIntegration", 200, {}), Expect(200)),
    (
        "a field write-only for one type is fine on another",
        exchange("GetIntegration", 200, {"integration": {"type": "web", "displayName": "k", "brandColor": "fff"}}),
        None,
    ),
    (
        "documented defaults applied",
        exchange(
            "CreateIntegration",
            201,
            {"integration": {"id": GOOD_ID, "type": "web", "brandColor": "65758e", "displayStyle": "button"}},
            {"type": "web"},
        ),
        Expect(201, defaults_at="/integration"),
    ),
    (
        "a default left out of the response",
        exchange("CreateIntegration", 201, {"integration": {"id": GOOD_ID, "type": "web"}}, {"type": "web"}),
        Expect(201, defaults_at="/integration"),
    ),
]

# (name, exchange, expectation, failure class, pointer)
FAILING = [
    (
        "status differs from the variant",
        exchange("CreateIntegration", 400, {"errors": [{"code": "c", "title": "t"}]}),
        Expect(201),
        UnexpectedStatus,
        None,
    ),
    (
        "status not documented",
        exchange("GetIntegration", 500, {"errors": [{"code": "c", "title": "t"}]}),
        None,
        UndocumentedStatus,
        None,
    ),
    ("not JSON", exchange("GetIntegration", 200, None, text="<html>"), None, ContentTypeMismatch, None),
    (
        "wrong content type",
        exchange("GetIntegration", 200, OK_CREATE, headers={"Content-Type": "text/plain"}),
        None,
        ContentTypeMismatch,
        None,
    ),
    (
        "status enum",
        exchange("GetIntegration", 200, {"integration": {"type": "web", "status": "on"}}),
        None,
        SchemaViolation,
        "/integration/status",
    ),
    (
        "displayName too long",
        exchange("GetIntegration", 200, {"integration": {"type": "web", "displayName": "x" * 101}}),
        None,
        SchemaViolation,
        "/integration/displayName",
    ),
    (
        "type-specific field type",
        exchange("GetIntegration", 200, {"integration": {"type": "web", "brandColor": 5}}),
        None,
        SchemaViolation,
        "/integration/brandColor",
    ),
    (
        "error code of another resource",
        exchange("GetIntegration", 404, {"errors": [{"code": "app_not_found", "title": "App not found"}]}),
        Expect(404, "integration_not_found"),
        UnexpectedStatus,
        "/errors",
    ),
    (
        "error without the errors envelope",
        exchange("GetIntegration", 401, {"message": "no"}),
        Expect(401, "unauthorized"),
        UnexpectedStatus,
        "/errors",
    ),
    (
        "errors envelope of the wrong shape",
        exchange("GetIntegration", 404, {"errors": {"code": "integration_not_found"}}),
        Expect(404, "integration_not_found"),
        SchemaViolation,
        "/errors",
    ),
    (
        "mailgun signingKey returned (write-only by the overlay)",
        exchange("GetIntegration", 200, {"integration": {"type": "mailgun", "signingKey": "k"}}),
        None,
        WriteOnlyLeak,
        "/integration/signingKey",
    ),
    (
        "documented default not applied",
        exchange(
            "CreateIntegration",
            201,
            {"integration": {"id": GOOD_ID, "type": "web", "brandColor": "000"}},
            {"type": "web"},
        ),
        Expect(201, defaults_at="/integration"),
        StateMismatch,
        "/integration/brandColor",
    ),
    (
        "redirect answered with JSON where text is documented",
        exchange("Authorize", 302, {"x": 1}),
        None,
        ContentTypeMismatch,
        None,
    ),
    (
        "list meta type",
        exchange("ListIntegrations", 200, {"integrations": [], "meta": {"hasMore": "no"}}),
        None,
        SchemaViolation,
        "/meta/hasMore",
    ),
    (
        "write-only credential returned",
        exchange("GetIntegration", 200, {"integration": {"type": "twilio", "authToken": "tok"}}),
        None,
        WriteOnlyLeak,
        "/integration/authToken",
    ),
    (
        "write-only in a list item",
        exchange("ListIntegrations", 200, {"integrations": [{"type": "web"}, {"type": "android", "privateKey": "k"}]}),
        None,
        WriteOnlyLeak,
        "/integrations/1/privateKey",
    ),
    (
        "error code",
        exchange("CreateIntegration", 400, {"errors": [{"code": "oops", "title": "t"}]}),
        Expect(400, "bad_request"),
        UnexpectedStatus,
        "/errors",
    ),
    (
        "created does not reflect type",
        exchange("CreateIntegration", 201, OK_CREATE, {"type": "ios"}),
        Expect(201, echo=(("/type", "/integration/type"),)),
        StateMismatch,
        "/integration/type",
    ),
]


@pytest.mark.parametrize(("name", "ex", "expect"), PASSING, ids=[p[0] for p in PASSING])
def test_conforming_exchange_passes(name, ex, expect):
    assert check_exchange(ex, expect) == []


@pytest.mark.parametrize(("name", "ex", "expect", "kind", "pointer"), FAILING, ids=[f[0] for f in FAILING])
def test_each_check_reports_its_failure(name, ex, expect, kind, pointer):
    failures = check_exchange(ex, expect, variant="v-1")
    assert [type(f) for f in failures if isinstance(f, kind)], failures
    failure = next(f for f in failures if isinstance(f, kind))
    if pointer is not None:
        assert failure.pointer == pointer
    assert isinstance(failure, AssertionError)
    assert failure.operation == ex.operation.operation_id
    assert ex.operation.method in failure.title
    assert ex.operation.path in failure.title
    assert failure.title.count(".") >= 1
    assert "\n" not in failure.title


BODY_UNDER_A_JSON_HEADER = [
    # (what came, the title says, the actual value shows)
    ("", "with an empty body, under Content-Type application/json", "no body (0 characters, all blank)"),
    ("  \n", "with an empty body, under Content-Type application/json", "no body (3 characters, all blank)"),
    ("<html>oops</html>", "with a body that is not JSON, under Content-Type application/json", "'<html>oops</html>'"),
    (
        '{"key": {"id": "k1", "secret": "s3cr3t-value',
        "with a body that is not JSON",
        '\'{"key": {"id": "k1", "secret": "<scrubbed>"\'',
    ),
    ("x" * 300, "with a body that is not JSON", f"'{'x' * 80}' (first 80 of 300 characters)"),
]


@pytest.mark.parametrize(("text", "title", "actual"), BODY_UNDER_A_JSON_HEADER)
def test_get_integration_200_under_a_json_header_names_an_empty_or_broken_body(text, title, actual):
    (failure,) = check_exchange(exchange("GetIntegration", 200, None, text=text), None)
    assert isinstance(failure, ContentTypeMismatch)
    assert title in failure.title
    assert "not application/json" not in failure.title  # the header was right: the body is the fault
    assert failure.actual == actual
    assert "s3cr3t" not in str(failure)


def test_get_integration_200_under_another_media_type_names_the_header_and_shows_the_body():
    ex = exchange("GetIntegration", 200, None, text='{"secret": "s3cr3t"}', headers={"Content-Type": "text/plain"})
    (failure,) = check_exchange(ex, None)
    assert "a body that is not application/json" in failure.title
    assert failure.actual == 'text/plain: \'{"secret":"<scrubbed>"}\''


def test_failure_detail_reads_like_a_bug_report():
    failure = check_exchange(FAILING[4][1], None, variant="get-3")[0]
    failure.with_context(cassette="cassettes/x/test_y.yaml", next_step="re-record: pytest x")
    text = str(failure)
    assert text.splitlines()[0] == failure.title
    for label in ("variant", "status", "pointer", "rule", "expected", "actual", "cassette", "next step"):
        assert f"  {label}" in text, label
    assert "enum" in failure.rule
    assert failure.as_dict()["pointer"] == "/integration/status"


def test_several_failures_are_raised_together():
    leak = next(f[1] for f in FAILING if f[0] == "write-only credential returned")
    failures = check_exchange(FAILING[4][1], None) + check_exchange(leak, None)
    with pytest.raises(FailureGroup) as caught:
        raise_if_any(failures)
    assert len(failures) >= 2
    assert caught.value.failures == failures
    assert f"[{len(failures)}]" in str(caught.value)
    with pytest.raises(ConformanceFailure):
        raise_if_any(failures[:1])
    raise_if_any([])


def test_an_expected_error_must_name_its_code():
    with pytest.raises(ValueError, match="error code"):
        Expect(404)
    assert Expect(404, "integration_not_found").error_code == "integration_not_found"


class CountingValidator:
    """A response validator that counts how often it validates a body."""

    def __init__(self, real) -> None:
        self.real = real
        self.validated = 0

    def iter_errors(self, instance):
        self.validated += 1
        return self.real.iter_errors(instance)


@pytest.fixture
def counting(monkeypatch):
    from conformance.checks import exchange as checks

    made: dict[tuple[str, str], CountingValidator] = {}
    real = shipped().validator

    def validator(ref, view="response"):
        return made.setdefault((ref, view), CountingValidator(real(ref, view)))

    monkeypatch.setattr(shipped(), "validator", validator)
    monkeypatch.setattr(checks, "_passed", checks._Passed())
    return made


def test_a_body_that_passed_is_not_validated_again_but_a_failing_one_always_is(counting):
    listed = {"integrations": [OK_CREATE["integration"]], "meta": {"hasMore": False}}
    broken = {"integrations": [], "meta": {"hasMore": "no"}}
    for _ in range(3):
        assert check_exchange(exchange("ListIntegrations", 200, listed)) == []
        found = check_exchange(exchange("ListIntegrations", 200, broken))
        assert [(f.kind, f.pointer) for f in found] == [("schema", "/meta/hasMore")]
    (checker,) = counting.values()
    assert checker.validated == 1 + 3
    # The same values in another form (a float) are another body: validated on their own.
    other = {"integrations": [], "meta": {"hasMore": False, "x": 1.0}}
    check_exchange(exchange("ListIntegrations", 200, other))
    check_exchange(exchange("ListIntegrations", 200, {"integrations": [], "meta": {"hasMore": False, "x": 1}}))
    assert checker.validated == 1 + 3 + 2


def test_a_body_without_any_write_only_name_skips_the_write_only_walk(monkeypatch):
    walked: list[str] = []
    real = shipped().annotated_pointers

    def walk(ref, body, flag):
        walked.append(ref)
        return real(ref, body, flag)

    monkeypatch.setattr(shipped(), "annotated_pointers", walk)
    assert check_exchange(exchange("GetIntegration", 200, {"integration": {"type": "web", "displayName": "w"}})) == []
    assert walked == []
    # A write-only name anywhere, even where it is allowed, takes the whole walk, which judges it.
    found = check_exchange(exchange("GetIntegration", 200, {"integration": {"type": "twilio", "authToken": "t"}}))
    assert [f.pointer for f in found if isinstance(f, WriteOnlyLeak)] == ["/integration/authToken"]
    assert len(walked) == 1


def test_the_plugin_freezes_what_collection_built_so_later_collections_skip_it():
    import gc

    from conformance.plugin import hooks as plugin

    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    plugin.pytest_collection_finish(None)
    assert gc.get_freeze_count() > 0


CONVERSATION = {"id": GOOD_ID, "type": "personal", "isDefault": True}
# (name, exchange, the format, the pointer): a value of the wrong form in a response
WRONG_FORMS = [
    (
        "timestamp in words",
        exchange("GetConversation", 200, {"conversation": {**CONVERSATION, "createdAt": "yesterday"}}),
        "date-time",
        "/conversation/createdAt",
    ),
    (
        "timestamp without T and zone",
        exchange("GetConversation", 200, {"conversation": {**CONVERSATION, "lastUpdatedAt": "2024-01-01 00:05:43"}}),
        "date-time",
        "/conversation/lastUpdatedAt",
    ),
    (
        "message received in words",
        exchange(
            "ListMessages",
            200,
            {
                "messages": [
                    {
                        "id": GOOD_ID,
                        "received": "yesterday",
                        "author": {"type": "business"},
                        "content": {"type": "text", "text": "Hi"},
                    }
                ],
                "meta": {"hasMore": False},
            },
        ),
        "date-time",
        "/messages/0/received",
    ),
    (
        "icon URL that is no URI",
        exchange("UpdateConversation", 200, {"conversation": {**CONVERSATION, "iconUrl": "AAA"}}),
        "uri",
        "/conversation/iconUrl",
    ),
]


@pytest.mark.parametrize(("name", "ex", "fmt", "pointer"), WRONG_FORMS, ids=[w[0] for w in WRONG_FORMS])
def test_a_response_value_of_the_wrong_form_fails_naming_the_format(name, ex, fmt, pointer):
    failures = check_exchange(ex, None, variant="v-1")
    assert [(type(f), f.pointer) for f in failures] == [(SchemaViolation, pointer)]
    assert failures[0].rule.startswith("format (")
    assert f"is not a '{fmt}'" in failures[0].rule
    assert failures[0].expected == f"format {fmt}"
