"""``python -m conformance check-payload FILE``: a JSON payload someone captured, checked against the contract.

A payload from logs, a webhook receiver or a support ticket gets the suite's own checks: an API
response body (``--operation OP [--status N]``, the response view), one webhook event (``--event
TYPE``) or a whole webhook delivery (the envelope with its ``events``, each checked by its type;
what a body without options is taken for when it looks like one). It prints the failures as the
suite does, the fields the contract does not declare (never a failure) and one line per verdict.

Exit status: 0 when everything conforms, 1 when something does not, 2 for a usage error (a file
that is missing or not JSON included), each one line on stderr. Nothing printed holds a secret.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance import pointer as pointers
from conformance.checks.delivery import schema_failures
from conformance.checks.exchange import check_exchange
from conformance.checks.undocumented import (
    DELIVERY_SCHEMA,
    EVENT_SCHEMA,
    EVENTS,
    WEBHOOK_OPERATION,
    Field,
    event_type,
    event_types,
    in_delivery,
    in_event,
    in_exchange,
    shown,
)
from conformance.contract import schemas
from conformance.contract.importer import INDEX_FILE
from conformance.contract.resources import resource
from conformance.failures import ConfigError, ConformanceFailure, StateMismatch
from conformance.model import Exchange
from conformance.scrubbing.scrubber import Scrubber, credential_values
from conformance.transport.settings import Settings

JSON_TYPE = "application/json"
NEXT_STEP = (
    "if the service sends this on purpose, the contract lags it: add a correction with its proof to "
    "schemas/overlay.yaml and import again (python -m conformance import-spec); if not, report the payload "
    "to whoever runs the API"
)
# Secrets a partial SUNCO_* configuration may still name; a whole one gives Settings.secrets.
SECRET_VARIABLES = ("SUNCO_KEY_SECRET", "SUNCO_ACCOUNT_KEY_SECRET", "SUNCO_OAUTH_CLIENT_SECRET")


class UsageError(Exception):
    """What was asked cannot be checked: one line, exit status 2."""


@dataclass
class Verdict:
    """One part of the payload checked: the response, the delivery's envelope, or one event."""

    label: str
    failures: list[ConformanceFailure] = field(default_factory=list)
    fields: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures

    def line(self) -> str:
        count = len(self.failures)
        said = "conforms" if self.ok else f"does not conform ({count} failure{'s' if count != 1 else ''})"
        extra = f" ({self.fields} field{'s' if self.fields != 1 else ''} the contract does not declare)"
        return f"{said}: {self.label}" + (extra if self.fields else "")


@dataclass
class Checked:
    what: str
    verdicts: list[Verdict]
    fields: list[Field]
    # what the payload was held to
    contract: schemas.Contract


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the captured JSON payload")
    parser.add_argument("--operation", metavar="OP", help="the operation whose response it is (e.g. ListIntegrations)")
    parser.add_argument(
        "--status", type=int, metavar="N", help="the response's HTTP status (default: the operation's success status)"
    )
    parser.add_argument("--event", metavar="TYPE", help="it is one webhook event of this type (conversation:message)")
    parser.add_argument(
        "--schema-dir", type=Path, metavar="DIR", help="check against the contract import-spec wrote to DIR"
    )
    parser.set_defaults(usage_error=parser.error)


# -- what the payload is --------------------------------------------------------------------


def _read(path: Path) -> tuple[Any, str]:
    try:
        text = path.read_text(encoding="utf-8-sig")  # tools on Windows often save a byte order mark
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None
    try:
        return json.loads(text), text
    except ValueError as error:
        raise UsageError(f"{path} is not JSON: {error}") from None


def _contract(schema_dir: Path | None) -> schemas.Contract:
    """The contract the payload is held to: the import ``--schema-dir`` names, else the shipped one."""
    if schema_dir is None:
        return schemas.shipped()
    if not (schema_dir / INDEX_FILE).is_file():
        raise UsageError(f"--schema-dir {schema_dir} holds no {INDEX_FILE}: give a folder import-spec wrote")
    return schemas.load(schema_dir)


def _operation(contract: schemas.Contract, name: str) -> schemas.Operation:
    known = contract.operations
    if name in known:
        return known[name]
    if name == WEBHOOK_OPERATION:
        raise UsageError(f"{name} is a webhook delivery: give it without --operation, or one event with --event TYPE")
    by_lower = {op.lower(): op for op in known}
    close = [by_lower[m] for m in difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.6)]
    shown = close or sorted(known)
    raise UsageError(f"unknown operation {name!r}; {'did you mean' if close else 'choose one of'}: {', '.join(shown)}")


def _status(op: schemas.Operation, status: int | None) -> int:
    if status is not None:
        return status
    success = [code for code in op.documented_statuses if 200 <= code < 300]
    with_body = [code for code in success if op.response_schema(code)]
    chosen = with_body if len(with_body) == 1 else success
    if len(chosen) != 1:
        raise UsageError(f"{op.operation_id} documents {', '.join(map(str, op.documented_statuses))}: give --status")
    return chosen[0]


def _event(contract: schemas.Contract, kind: str) -> str:
    allowed = event_types(contract)
    if kind not in allowed:
        raise UsageError(f"unknown event type {kind!r}; choose one of: {', '.join(allowed)}")
    return kind


def is_delivery(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get(EVENTS), list)


# -- the checks -------------------------------------------------------------------------------


def check_response(body: Any, text: str, op: schemas.Operation, status: int, contract: schemas.Contract) -> Checked:
    exchange = Exchange(
        operation=op,
        method=op.method,
        url="",
        path=op.path,
        request_body=None,
        status=status,
        headers={"Content-Type": JSON_TYPE},
        text=text,
        body=body,
        body_is_json=True,
        contract=contract,
    )
    fields = in_exchange(exchange)
    verdict = Verdict(f"{op.operation_id} {status}", check_exchange(exchange), len(fields))
    return Checked(f"a {op.operation_id} {status} response", [verdict], fields, contract)


def check_event(body: Any, kind: str, where: str, contract: schemas.Contract) -> Checked:
    """One event, checked as the type ``--event`` names; a type of its own that differs is a failure."""
    as_kind = {**body, "type": kind} if isinstance(body, dict) else body
    failures = schema_failures(as_kind, EVENT_SCHEMA, where=where, what=f"a {kind} event", contract=contract)
    sent = body.get("type") if isinstance(body, dict) else None
    if isinstance(body, dict) and sent != kind:
        failures.append(
            StateMismatch(
                operation=WEBHOOK_OPERATION,
                method="POST",
                path=where,
                title=f"{WEBHOOK_OPERATION} (POST {where}) sent an event whose type is not {kind}.",
                pointer="/type",
                rule="an event names its own type (--event says which it should be)",
                expected=kind,
                actual=sent if sent is not None else "(absent)",
            )
        )
    fields = in_event(contract, body, kind)
    return Checked(f"one {kind} event", [Verdict(kind, failures, len(fields))], fields, contract)


def _index(pointer: str | None) -> int | None:
    """The event a pointer into a delivery is in, if any."""
    tokens = pointers.tokens(pointer or "")
    return int(tokens[1]) if len(tokens) > 1 and tokens[0] == EVENTS and tokens[1].isdigit() else None


def check_delivery_body(body: dict[str, Any], where: str, contract: schemas.Contract) -> Checked:
    failures = schema_failures(body, DELIVERY_SCHEMA, where=where, what="a delivery", contract=contract)
    fields = in_delivery(contract, body)
    events = body[EVENTS]
    envelope = Verdict(f"{WEBHOOK_OPERATION} envelope")
    verdicts = [envelope] + [
        Verdict(f"{pointers.child('/' + EVENTS, n)} {event_type(body, n) or '(no type)'}") for n in range(len(events))
    ]
    for failure in failures:
        n = _index(failure.pointer)
        (envelope if n is None or n >= len(events) else verdicts[n + 1]).failures.append(failure)
    for entry in fields:
        n = _index(entry["example"])
        (envelope if n is None or n >= len(events) else verdicts[n + 1]).fields += 1
    count = len(events)
    return Checked(f"a webhook delivery with {count} event{'s' if count != 1 else ''}", verdicts, fields, contract)


# -- output -----------------------------------------------------------------------------------


def _scrubber(body: Any, contract: schemas.Contract) -> Scrubber:
    """Secrets the SUNCO_* settings name, and whatever the payload holds under a credential's name."""
    try:
        settings = Settings.from_env(os.environ, channel_types=_channel_types(contract))
        scrubber = Scrubber(settings.secrets, public=settings.public, contract=contract)
    except ConfigError:
        scrubber = Scrubber([os.environ[name] for name in SECRET_VARIABLES if os.environ.get(name)], contract=contract)
    scrubber.learn(credential_values(body, scrubber.fields))
    return scrubber


def _channel_types(contract: schemas.Contract) -> tuple[str, ...]:
    try:
        return resource("integration").shapes_in(contract)
    except KeyError:
        return ()


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd()).as_posix() + "/"
    except ValueError:
        return str(path) + "/"


def render(file: Path, checked: Checked) -> Iterable[str]:
    index = checked.contract.index
    version = (index.get("source") or {}).get("version", "?") if isinstance(index.get("source"), dict) else "?"
    against = _shown(checked.contract.directory) if checked.contract.directory else "a contract built in memory"
    yield f"checked {file} as {checked.what}, against {against} (spec {version})"
    for verdict in checked.verdicts:
        for failure in verdict.failures:
            yield ""
            yield failure.with_context(cassette=None, next_step=NEXT_STEP).render()
    if checked.fields:
        yield ""
        yield "fields the contract does not declare (never a failure):"
        yield from (f"  {shown(entry)}" for entry in checked.fields)
    yield ""
    yield from (verdict.line() for verdict in checked.verdicts)


def check(args: argparse.Namespace) -> tuple[Any, Checked]:
    """The payload and what its checks found; a :class:`UsageError` when it cannot be checked as asked."""
    contract = _contract(args.schema_dir)
    if args.operation and args.event:
        raise UsageError("give --operation (with --status) or --event, not both")
    if args.status is not None and not args.operation:
        raise UsageError("--status goes with --operation")
    body, text = _read(args.file)
    where = args.file.name
    if args.operation:
        op = _operation(contract, args.operation)
        return body, check_response(body, text, op, _status(op, args.status), contract)
    if args.event:
        return body, check_event(body, _event(contract, args.event), where, contract)
    if is_delivery(body):
        return body, check_delivery_body(body, where, contract)
    raise UsageError(
        f'{args.file} is not a webhook delivery (no "{EVENTS}" list): '
        "say what it is with --operation OP [--status N] or --event TYPE"
    )


def run(args: argparse.Namespace) -> int:
    try:
        body, checked = check(args)
    except UsageError as error:
        args.usage_error(str(error))  # one line, exit status 2
    scrubber = _scrubber(body, checked.contract)
    for line in render(args.file, checked):
        print(scrubber.text(line))
    return 0 if all(verdict.ok for verdict in checked.verdicts) else 1
