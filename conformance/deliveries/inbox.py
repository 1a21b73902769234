"""Webhook deliveries a test waits for: received while recording, kept in the cassette, re-checked in replay.

While recording, the receiver (``deliveries/receiver.py``) gets the API's POSTs. A test names the
delivery it waits for (a trigger, a webhook); the delivery checks (``checks/delivery.py``) hold it
to the event schemas, and its ``X-API-Key`` header to the webhook's secret. The header is never
written: the verdict is (``apiKey: matches``), beside the scrubbed body, in the cassette's
``webhooks`` metadata. Replay reads the deliveries back in order and checks them again, offline.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from conformance.cassettes.vcr_adapter import store_metadata, stored_metadata
from conformance.checks.delivery import WAIT_SECONDS, check_delivery, schema_failures, webhook_of
from conformance.checks.undocumented import WEBHOOK_OPERATION, in_delivery
from conformance.contract.schemas import Contract
from conformance.deliveries.receiver import Received, Receiver
from conformance.failures import MissingRecording, StateMismatch

if TYPE_CHECKING:
    from conformance.checks.findings import Findings
    from conformance.scrubbing.scrubber import Scrubber

METADATA_KEY = "webhooks"
FORMAT = 1
OPERATION = WEBHOOK_OPERATION
ENABLE = "SUNCO_WEBHOOK_URL (a public URL that forwards to the webhook receiver on SUNCO_WEBHOOK_PORT)"


def webhooks_in(body: Any) -> list[dict[str, Any]]:
    """The webhooks a response shows: a webhook, a list of them, or a custom integration's."""
    if not isinstance(body, dict):
        return []
    found: list[Any] = []
    if isinstance(body.get("webhook"), dict):
        found.append(body["webhook"])
    found += body.get("webhooks") or []
    integration = body.get("integration")
    if isinstance(integration, dict):
        found += integration.get("webhooks") or []
    return [hook for hook in found if isinstance(hook, dict) and hook.get("id")]


def api_key_verdict(received: Received, secret: str | None) -> str:
    """How the delivery's X-API-Key compares with the webhook's secret; the header itself is never kept."""
    given = received.headers.get("x-api-key")
    if secret is None:
        return "unchecked"
    if given is None:
        return "missing"
    return "matches" if hmac.compare_digest(given.encode(), secret.encode()) else "differs"


class Inbox:
    """One test's view of webhook deliveries.

    Live, ``receiver`` gets them and ``target`` is where the test's webhooks point; in replay both are
    None and the deliveries come from ``cassette``. What a delivery breaks goes to ``findings``;
    ``app_id`` gives the app a delivery must name.
    """

    def __init__(
        self,
        cassette: Any,
        receiver: Receiver | None,
        target: str | None,
        *,
        findings: Findings,
        app_id: Callable[[], str],
        scrubber: Scrubber,
        record_command: str,
        note_schemas: Callable[[str], None] = lambda operation_id: None,
        contract: Contract,
    ) -> None:
        self._contract = contract
        self._cassette = cassette
        self._findings = findings
        self._app_id = app_id
        self._scrubber = scrubber
        self._record_command = record_command
        self._note_schemas = note_schemas
        self._receiver = receiver
        self._target = target
        self._secrets: dict[str, str] = {}
        self._triggers: dict[str, list[str]] = {}
        self._entries: list[dict[str, Any]] = []
        self._stored = False
        self._cursor = 0

    # -- what the test tells the inbox -------------------------------------------------------

    @property
    def target(self) -> str:
        """Where the test's webhooks point: the receiver (or the URL forwarding to it); in replay, as recorded."""
        if self._target is not None:
            return self._target
        recorded = self._recorded()
        return str((recorded or {}).get("target") or "http://127.0.0.1/webhooks")

    def watch(self, body: Any) -> list[str]:
        """Remember the webhooks a create response shows (ids, triggers, secrets); their ids."""
        ids = []
        for hook in webhooks_in(body):
            hook_id = str(hook["id"])
            ids.append(hook_id)
            self._triggers[hook_id] = [str(t) for t in hook.get("triggers") or []]
            if self._receiver is not None and isinstance(hook.get("secret"), str):
                self._secrets[hook_id] = hook["secret"]
        return ids

    # -- waiting and checking ----------------------------------------------------------------

    def expect(self, trigger: str, webhook_id: str) -> dict[str, Any] | None:
        """The ``trigger`` event delivered to the webhook, checked; None (and a failure) when none came."""
        entry = self._replay(trigger, webhook_id) if self._receiver is None else self._receive(trigger, webhook_id)
        if entry is None:
            return None
        found = check_delivery(
            entry,
            webhook_id=webhook_id,
            trigger=trigger,
            app_id=self._app_id(),
            triggers=self._triggers.get(webhook_id),
            where=self.target,
            contract=self._contract,
        )
        body = entry.get("body")
        undocumented = in_delivery(self._contract, body) if isinstance(body, dict) else []
        self._findings.keep_result(OPERATION, 200 if entry.get("received") else 0, found, undocumented)
        return event_of(entry, trigger)

    def check(self, ok: bool, *, title: str, rule: str, expected: Any, actual: Any, pointer: str | None = None) -> None:
        """A flow's own expectation of the delivery it just received (a truncated user, say)."""
        if not ok:
            failure = StateMismatch(
                operation=OPERATION,
                method="POST",
                path=self.target,
                title=f"{OPERATION} (POST {self.target}) {title}",
                rule=rule,
                expected=expected,
                actual=actual,
                pointer=pointer,
            )
            self._findings.fail(failure, verdict=True)

    def _receive(self, trigger: str, webhook_id: str) -> dict[str, Any]:
        assert self._receiver is not None, "recording runs a receiver"

        def wanted(received: Received) -> bool:
            body = _json(received.body)
            return webhook_of(body) == webhook_id and event_of({"body": body}, trigger) is not None

        received = self._receiver.claim(wanted, WAIT_SECONDS)
        entry: dict[str, Any] = {"webhook": webhook_id, "trigger": trigger, "received": received is not None}
        if received is not None:
            body = _json(received.body)
            entry["path"] = received.path
            entry["contentType"] = received.headers.get("content-type", "")
            entry["apiKey"] = api_key_verdict(received, self._secrets.get(webhook_id))
            scrub = self._scrubber
            entry["body"] = (
                scrub.json_value(body) if body is not None else scrub.text(received.body.decode("utf-8", "replace"))
            )
        self._keep(entry)
        return entry

    def _keep(self, entry: dict[str, Any]) -> None:
        self._entries.append(entry)
        # A delivery is checked against the webhook's event schemas: the recording depends on them.
        self._note_schemas(OPERATION)
        cassette = self._cassette
        if cassette is None:
            return
        if not self._stored:
            # A recording keeps what this run received, never what an earlier one did.
            store_metadata(
                cassette, METADATA_KEY, {"format": FORMAT, "target": self.target, "deliveries": self._entries}
            )
            self._stored = True
        cassette.dirty = True

    def _recorded(self) -> dict[str, Any] | None:
        recorded = stored_metadata(self._cassette, METADATA_KEY)
        return recorded if isinstance(recorded, dict) else None

    def _replay(self, trigger: str, webhook_id: str) -> dict[str, Any] | None:
        deliveries = (self._recorded() or {}).get("deliveries") or []
        entry = deliveries[self._cursor] if self._cursor < len(deliveries) else None
        self._cursor += 1
        if entry is None or entry.get("trigger") != trigger:
            asked = f"a {trigger} delivery to webhook {webhook_id}"
            self._findings.fail(
                MissingRecording(
                    operation=OPERATION,
                    method="POST",
                    path=self.target,
                    title=f"{OPERATION} (POST {self.target}): the recording holds no {trigger} delivery here.",
                    rule="replay re-checks the deliveries recorded with the test, in order",
                    expected=asked,
                    actual=f"{entry.get('trigger')} delivery" if entry else "no more recorded deliveries",
                    next_step=f"the test changed since it was recorded; re-record: {self._record_command}",
                )
            )
            return None
        # Ids in replay are the recorded ones, so the recorded webhook is the one asked for.
        return dict(entry)

    def close(self) -> None:
        """Forget late deliveries to this test's webhooks, so they never reach another test."""
        if self._receiver is not None and self._triggers:
            ids = set(self._triggers)
            self._receiver.discard(lambda received: webhook_of(_json(received.body)) in ids)


def replays_deliveries(cassette: Any) -> bool:
    """A cassette whose recorded requests are played back (record modes once and new_episodes) holds
    the deliveries they caused: nothing is sent, so nothing would be delivered."""
    recorded = stored_metadata(cassette, METADATA_KEY)
    return (
        bool(recorded) and bool(getattr(cassette, "rewound", False)) and getattr(cassette, "record_mode", "") != "all"
    )


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except ValueError:
        return None


def event_of(entry: Mapping[str, Any], trigger: str) -> dict[str, Any] | None:
    body = entry.get("body")
    events = body.get("events") if isinstance(body, dict) else None
    return next((e for e in events or [] if isinstance(e, dict) and e.get("type") == trigger), None)


__all__ = ["ENABLE", "Inbox", "Receiver", "check_delivery", "schema_failures", "webhooks_in"]
