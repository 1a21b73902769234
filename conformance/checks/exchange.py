"""The checks every exchange goes through: one registry, each check ``check(ctx, exchange)`` with its condition.

Each check yields failures rather than raising, so one exchange can report all it breaks. The checks
run, and their failures are reported, in the order they are registered below; ``CHECKS.listing()``
names each with its condition.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jsonschema

from conformance import pointer as pointers
from conformance.checks.registry import Registry
from conformance.contract.schemas import ERROR_SCHEMA
from conformance.failures import (
    BrokenRedirect,
    ConformanceFailure,
    ContentTypeMismatch,
    SchemaViolation,
    StateMismatch,
    UndocumentedStatus,
    UnexpectedStatus,
    WriteOnlyLeak,
)
from conformance.model import Exchange, Expect
from conformance.scrubbing.scrubber import Scrubber


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What the test says about an exchange: the outcome it expects, and the variant that sent it."""

    expect: Expect | None = None
    variant: str | None = None


CHECKS: Registry[CheckContext, Exchange] = Registry("exchange")
check = CHECKS.check


def where(exchange: Exchange) -> str:
    label: str = exchange.operation.label
    return label


def _common(exchange: Exchange, variant: str | None) -> dict[str, Any]:
    op = exchange.operation
    return {
        "operation": op.operation_id,
        "method": op.method,
        "path": op.path,
        "status": exchange.status,
        "variant": variant,
    }


# -- what the checks share -------------------------------------------------------------------


def expected_media(exchange: Exchange) -> tuple[str, ...]:
    """The media types the operation documents for this status; JSON for an undocumented error."""
    documented: tuple[str, ...] = exchange.operation.response_media(exchange.status)
    if documented or exchange.operation.documents(exchange.status):
        return documented
    return ("application/json",) if exchange.status >= 400 else ()


EXCERPT = 80


def excerpt(text: str) -> str:
    """The start of a body, credential fields scrubbed, for a failure to show what came."""
    scrubber = Scrubber()
    cleaned = str(scrubber.body(text) or "")
    # A body cut off mid-JSON does not parse: its credential fields are found by their names.
    names = "|".join(re.escape(name) for name in sorted(scrubber.fields))
    cleaned = re.sub(rf'("(?:{names})"\s*:\s*)"[^"]*"?', r'\1"<scrubbed>"', cleaned)
    shown = cleaned[:EXCERPT]
    return repr(shown) + (f" (first {EXCERPT} of {len(text)} characters)" if len(text) > EXCERPT else "")


REDIRECTS = (301, 302, 303, 307, 308)


def schema_for(exchange: Exchange) -> str | None:
    documented: str | None = exchange.operation.response_schema(exchange.status)
    if documented:
        return documented
    # Undocumented errors still owe the documented envelope.
    return ERROR_SCHEMA if exchange.status >= 400 else None


class _Passed:
    """Bodies already found to pass a check, so a body a run meets again (an error envelope, an
    empty list) is not validated again. Keyed by the checker itself (held, so its id stays its
    own) and the body as JSON text; only passes are kept, so every failure is worked out afresh."""

    LIMIT = 20_000

    def __init__(self) -> None:
        self._seen: set[tuple[int, str, str]] = set()
        self._held: dict[int, Any] = {}

    def key(self, checker: Any, ref: str, body: Any) -> tuple[int, str, str]:
        return id(checker), ref, json.dumps(body, ensure_ascii=False)

    def __contains__(self, key: tuple[int, str, str]) -> bool:
        return key in self._seen

    def add(self, checker: Any, key: tuple[int, str, str]) -> None:
        if len(self._seen) >= self.LIMIT:
            self._seen.clear()
            self._held.clear()
        self._held[id(checker)] = checker
        self._seen.add(key)


_passed = _Passed()


def _leaf(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """The most specific cause, so an allOf/if-then error points at the field that broke."""
    while error.context:
        error = jsonschema.exceptions.best_match(error.context) or error.context[0]
    return error


def _expected(error: jsonschema.ValidationError) -> Any:
    if error.validator in ("type", "enum", "const", "required"):
        return f"{error.validator}: {error.validator_value}"
    return f"{error.validator} {error.validator_value}"


def _names(value: Any, found: set[str]) -> set[str]:
    """Every property name anywhere in a JSON value."""
    if isinstance(value, dict):
        found.update(value)
        for sub in value.values():
            _names(sub, found)
    elif isinstance(value, list):
        for sub in value:
            _names(sub, found)
    return found


# -- conditions: when a check applies ---------------------------------------------------------


def expects_status(ctx: CheckContext, exchange: Exchange) -> bool:
    """when the test expects a status"""
    return ctx.expect is not None


def expects_nothing(ctx: CheckContext, exchange: Exchange) -> bool:
    """when the test expects no particular status"""
    return ctx.expect is None


def is_redirect(ctx: CheckContext, exchange: Exchange) -> bool:
    """when the answer is a redirect"""
    return exchange.status in REDIRECTS


def may_have_body(ctx: CheckContext, exchange: Exchange) -> bool:
    """when the status is not 204"""
    return exchange.status != 204


def body_is_json(ctx: CheckContext, exchange: Exchange) -> bool:
    """when the body is JSON"""
    return exchange.body_is_json


def _came_as_expected(ctx: CheckContext, exchange: Exchange) -> bool:
    return ctx.expect is not None and exchange.status == ctx.expect.status


def asks_error_code(ctx: CheckContext, exchange: Exchange) -> bool:
    """when the expected error status came and the test names its error code"""
    return _came_as_expected(ctx, exchange) and bool(ctx.expect and ctx.expect.error_code)


def asks_echo(ctx: CheckContext, exchange: Exchange) -> bool:
    """when the expected status came, for a JSON request whose fields the test expects back"""
    return (
        _came_as_expected(ctx, exchange)
        and bool(ctx.expect and ctx.expect.echo)
        and isinstance(exchange.request_body, (dict, list))
    )


def asks_defaults(ctx: CheckContext, exchange: Exchange) -> bool:
    """when the expected status came, for a request with a body, and the test names where the record is"""
    return (
        _came_as_expected(ctx, exchange)
        and ctx.expect is not None
        and ctx.expect.defaults_at is not None
        and bool(exchange.operation.request)
    )


# -- the checks, in the order they run -----------------------------------------------------------


@check("expected_status", applies=expects_status)
def status_is_expected(ctx: CheckContext, exchange: Exchange) -> Iterator[ConformanceFailure]:
    """the status is the one the test expects (an undocumented one it asks for shows in the summary only)"""
    expect = ctx.expect
    if expect is None or exchange.status == expect.status:
        return
    yield UnexpectedStatus(
        title=f"{where(exchange)} answered {exchange.status} where {expect.status} was expected.",
        rule="the variant's expected outcome",
        expected=expect.status,
        actual=exchange.status,
        notes=[f"response: {exchange.text[:200]}"] if exchange.text else [],
        **_common(exchange, ctx.variant),
    )


@check("documented_status", applies=expects_nothing)
def status_is_documented(ctx: CheckContext, exchange: Exchange) -> Iterator[ConformanceFailure]:
    """the status is one the operation documents"""
    documented = exchange.operation.documented_statuses
    if exchange.status in documented:
        return
    yield UndocumentedStatus(
        title=f"{where(exchange)} answered {exchange.status}, a status the operation does not document.",
        rule="the status must be one the operation documents",
        expected=f"one of {', '.join(map(str, documented))}",
        actual=exchange.status,
        **_common(exchange, ctx.variant),
    )


@check("redirect", applies=is_redirect)
def redirect_has_location(ctx: CheckContext, exchange: Exchange) -> Iterator[ConformanceFailure]:
    """a redirect carries a Location header naming where to go"""
    location = next((v for k, v in exchange.headers.items() if k.lower() == "location"), "")
    if not str(location).strip():
        yield BrokenRedirect(
            title=f"{where(exchange)} answered {exchange.status} without a Location header.",
            rule=f"a {exchange.status} redirect carries a Location header (RFC 9110 section 15.4)",
            expected="a Location header naming the redirect target",
            actual="no Location header",
            **_common(exchange, ctx.variant),
        )


@check("content_type", applies=may_have_body)
def media_type_is_documented(ctx: CheckContext, exchange: Exchange) -> Iterator[ConformanceFailure]:
    """the body is of a media type the operation documents for the status, and JSON when it says JSON"""
    allowed = expected_media(exchange)
    if not allowed:
        return
    media = exchange.media_type
    json_expected = media == "application/json" or media.endswith("+json")
    shown = " or ".join(allowed)
    if media not in allowed:
        yield ContentTypeMismatch(
            title=f"{where(exchange)} answered {exchange.status} with a body that is not {shown}.",
            rule=f"the operation documents {shown} for {exchange.status}",
            expected=shown,
            actual=f"{exchange.content_type or '(no Content-Type)'}: {excerpt(exchange.text)}",
            **_common(exchange, ctx.variant),
        )
    elif json_expected and not exchange.body_is_json:
        # The header is right: what is wrong is the body, so say what came.
        empty = not exchange.text.strip()
        what = "an empty body" if empty else "a body that is not JSON"
        yield ContentTypeMismatch(
            title=f"{where(exchange)} answered {exchange.status} with {what}, under Content-Type {media}.",
            rule=f"a {media} body is one JSON value (RFC 8259)",
            expected=f"a JSON body, as {shown} says",
            actual=f"no body ({len(exchange.text)} characters, all blank)" if empty else excerpt(exchange.text),
            **_common(exchange, ctx.variant),
        )


# A body whose media type is already wrong is not judged further: its schema says nothing of it.
BODY = ("content_type",)


@check("schema", applies=body_is_json, after=BODY)
def body_matches_schema(ctx: CheckContext, exchange: Exchange) -> Iterator[ConformanceFailure]:
    """the body is valid against the schema documented for the status (the error envelope for an undocumented error)"""
    ref = schema_for(exchange)
    if ref is None:
        return
    checker = exchange.contract.validator(ref, "response")
    key = _passed.key(checker, ref, exchange.body)
    if key in _passed:
        return
    errors = sorted(checker.iter_errors(exchange.body), key=lambda e: list(e.absolute_path))
    if not errors:
        _passed.add(checker, key)
    for error in errors:
        leaf = _leaf(error)
        yield SchemaViolation(
            title=f"{where(exchange)} answered {exchange.status} with a body that breaks {ref}.",
            pointer=pointers.join(leaf.absolute_path),
            rule=f"{leaf.validator} ({pointers.join(leaf.absolute_schema_path)} in the schema): {leaf.message}",
            expected=_expected(leaf),
            actual=leaf.instance,
            **_common(exchange, ctx.variant),
        )


@check("write_only", applies=body_is_json, after=BODY)
def no_write_only_field(ctx: CheckContext, exchange: Exchange) -> Iterator[ConformanceFailure]:
    """no field the schema flags write-only (for this body's shape) comes back"""
    ref = exchange.operation.response_schema(exchange.status)
    if not ref:
        return
    # Only a property the schema flags writeOnly somewhere can leak; most bodies carry none by name.
    if not _names(exchange.body, set()) & exchange.contract.write_only_fields(ref):
        return
    for pointer in exchange.contract.annotated_pointers(ref, exchange.body, "writeOnly"):
        name = pointer.rsplit("/", 1)[-1]
        yield WriteOnlyLeak(
            title=f"{where(exchange)} returned the write-only field {name!r}.",
            pointer=pointer,
            rule="writeOnly: a field the API accepts must never come back in a response",
            expected="absent",
            # A leaked credential must not travel on into logs and reports.
            actual=f"present (value withheld, {len(str(pointers.resolve(exchange.body, pointer)))} characters)",
            **_common(exchange, ctx.variant),
        )


@check("error_code", applies=asks_error_code, after=BODY)
def error_code_is_expected(ctx: CheckContext, exchange: Exchange) -> Iterator[ConformanceFailure]:
    """the error envelope carries the error code the test expects"""
    expect = ctx.expect
    if expect is None:
        return
    errors = exchange.body.get("errors") if isinstance(exchange.body, dict) else None
    # An envelope of the wrong shape (its schema failure says so) names no code.
    codes = [item.get("code") for item in errors if isinstance(item, dict)] if isinstance(errors, list) else []
    if expect.error_code not in codes:
        yield UnexpectedStatus(
            title=f"{where(exchange)} answered {exchange.status} without the error code {expect.error_code!r}.",
            pointer="/errors",
            rule="the variant's expected error code",
            expected=expect.error_code,
            actual=codes,
            **_common(exchange, ctx.variant),
        )


@check("echo", applies=asks_echo, after=BODY)
def request_is_reflected(ctx: CheckContext, exchange: Exchange) -> Iterator[ConformanceFailure]:
    """each field the request sent comes back where the test expects it"""
    expect = ctx.expect
    if expect is None:
        return
    for sent_at, returned_at in expect.echo:
        sent = pointers.resolve(exchange.request_body, sent_at)
        if sent is pointers.MISSING:
            continue
        returned = pointers.resolve(exchange.body, returned_at)
        # Sending null unsets a field: absent and null both reflect it.
        if returned != sent and not (sent is None and returned is pointers.MISSING):
            yield StateMismatch(
                title=f"{where(exchange)} did not reflect the request's {sent_at} in its response.",
                pointer=returned_at,
                rule=f"the response's {returned_at} equals the request's {sent_at}",
                expected=sent,
                actual="(absent)" if returned is pointers.MISSING else returned,
                **_common(exchange, ctx.variant),
            )


@check("defaults", applies=asks_defaults, after=BODY)
def defaults_are_applied(ctx: CheckContext, exchange: Exchange) -> Iterator[ConformanceFailure]:
    """a field the request left out comes back with its documented default (or not at all)"""
    expect = ctx.expect
    request_ref = exchange.operation.request
    if expect is None or expect.defaults_at is None:
        return
    sent = exchange.request_body
    record = pointers.resolve(exchange.body, expect.defaults_at)
    if not isinstance(sent, dict) or not isinstance(record, dict):
        return
    for name, schema in exchange.contract.applicable_properties(request_ref, sent).items():
        if name in sent or "default" not in schema or name not in record or schema.get("writeOnly"):
            continue
        if record[name] != schema["default"]:
            yield StateMismatch(
                title=f"{where(exchange)} did not apply the documented default of {name}.",
                pointer=pointers.child(expect.defaults_at, name),
                rule=f"default: a {name} the request leaves out is {schema['default']!r}",
                expected=schema["default"],
                actual=record[name],
                **_common(exchange, ctx.variant),
            )


# -- running them -------------------------------------------------------------------------------


def check_exchange(
    exchange: Exchange, expect: Expect | None = None, variant: str | None = None
) -> list[ConformanceFailure]:
    """Every failure of the registered checks whose conditions hold, in the order they are registered."""
    return CHECKS.run(CheckContext(expect, variant), exchange)


def state_failure(
    exchange: Exchange, *, title: str, pointer: str, rule: str, expected: Any, actual: Any, variant: str | None = None
) -> StateMismatch:
    return StateMismatch(
        title=f"{where(exchange)} {title}",
        pointer=pointer,
        rule=rule,
        expected=expected,
        actual=actual,
        **_common(exchange, variant),
    )
