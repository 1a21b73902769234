"""One test's conformance session: pinned variants, calls through the client, checks, verdicts.

In replay the target (base URL, app id, auth mode) comes from the cassette, so replay needs no
settings at all and always re-sends exactly what was recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import requests
from vcr.errors import CannotOverwriteExistingCassetteException

from conformance.cassettes import provenance
from conformance.cassettes.playback import CassetteAdapter, replays
from conformance.checks import unanswered
from conformance.checks import verdicts as _verdicts
from conformance.checks.exchange import check_exchange, state_failure
from conformance.checks.undocumented import Field
from conformance.checks.verdicts import REFUSED_CODES, REFUSED_STATUSES, Verdict
from conformance.contract.schemas import Contract, Operation, shipped
from conformance.deliveries.inbox import Inbox
from conformance.deliveries.receiver import Receiver
from conformance.failures import (
    ConformanceFailure,
    FailureGroup,
    OutdatedRequest,
    UnmatchedRequest,
    Unreachable,
    raise_if_any,
)
from conformance.model import Exchange, Expect, Variant
from conformance.scrubbing.scrubber import PLACEHOLDER, Scrubber, credential_values
from conformance.session import live as _live
from conformance.session import teardown as _teardown
from conformance.session.ledger import Ledger
from conformance.session.run_ledger import RunLedger
from conformance.transport import faults, interrupt
from conformance.transport.client import Broken, BrokenExchange, Client
from conformance.transport.settings import Settings
from conformance.variants import pins as _pinning
from conformance.variants.pins import METADATA_KEY

if TYPE_CHECKING:
    from hypothesis import strategies as st

__all__ = ["METADATA_KEY", "REFUSED_CODES", "REFUSED_STATUSES", "ConformanceSession", "Verdict"]
F = TypeVar("F", bound=ConformanceFailure)
T = TypeVar("T")
# Replay signs nothing that anyone checks; long enough that PyJWT does not warn about it.
REPLAY_SECRET = "replay-has-no-credentials-and-needs-none-0000"  # noqa: S105 - a placeholder


class ConformanceSession:
    def __init__(
        self,
        *,
        cassette: Any,
        recording: bool,
        settings: Settings | None,
        redraw: bool = False,
        scrubber: Scrubber,
        nodeid: str,
        record_command: str,
        seed: int = 0,
        cassette_file: str | None = None,
        progress: Callable[[str], None] | None = None,
        reuse: Mapping[str, Any] | None = None,
        receiver: Callable[[], Receiver] | None = None,
        journal: RunLedger | None = None,
        contract: Contract | None = None,
    ) -> None:
        # The contract every call is looked up in and checked against (the plugin's --schema-dir).
        self.contract = contract or shipped()
        self.cassette = cassette
        self.cassette_file = cassette_file
        self.progress = progress
        self.finished = False
        # Exchanges answered, and how many of them refused the key or app when no one expected it.
        self.exchanges = 0
        self.refusals = 0
        # Answers that did not come from the API (route-level 404s, other servers' pages) nobody expected.
        self.foreign = 0
        self.recording = recording
        self.redraw = redraw
        self.scrubber = scrubber
        self.nodeid = nodeid
        self.record_command = record_command
        self.seed = seed
        # --variants-from: the pins of an earlier recording whose variants are sent again
        self.reuse = reuse
        self.failures: list[ConformanceFailure] = []
        self.verdicts: list[Verdict] = []
        self._pins: dict[str, Any] | None = None
        self._settings = settings
        self._client: Client | None = None
        # What the test creates; while recording, also in the run's ledger on disk (``journal``).
        self.ledger = Ledger(journal if recording else None)
        # Why the test did not run live (a missing setting), kept in the cassette for replay.
        self.not_run_reason: str | None = None
        # Preconditions a flow checked once in this test (``Records.room_for_one``).
        self.checked: set[tuple[Any, ...]] = set()
        self.last_exchange: Exchange | None = None
        # Every answer this test got, in order: what the symbols of its pinned variants resolve against.
        self.answered: list[Exchange] = []
        # The run's webhook receiver, started the first time a test waits for deliveries.
        self._receiver = receiver
        self._inbox: Inbox | None = None
        # Set at teardown: a Ctrl-C stops the test's live requests, not the deletes of what it made.
        self.closing = False

    @property
    def settings(self) -> Settings | None:
        """The live settings while recording; None in replay, where everything comes from the cassette."""
        return self._settings if self.recording else None

    @property
    def cassette_path(self) -> str:
        if self.cassette_file:
            return self.cassette_file
        return str(getattr(self.cassette, "_path", "(no cassette: recording disabled)"))

    @property
    def refused_everything(self) -> bool:
        """Every exchange was a 401, 403 or app_not_found that nothing expected: wrong key or app."""
        return self.exchanges > 0 and self.refusals == self.exchanges

    def _next_step(self) -> str:
        if self.recording:
            return "compare with the API reference; if the API changed on purpose, update the schema in schemas/"
        return f"if the API changed on purpose, re-record: {self.record_command}"

    def _outdated(
        self, operation_id: str, query: Mapping[str, str] | None, expected: Expect | None
    ) -> OutdatedRequest | None:
        """A replayed request meant to succeed that lacks a query parameter the contract requires: the
        recording predates the contract (a newer release added the parameter), so it must be re-recorded."""
        if expected is not None and not 200 <= expected.status < 300:
            return None  # a request meant to be refused may leave out what it likes
        op = self.contract.operation(operation_id)
        sent = set(query or {})
        missing = [
            p.name
            for p in op.parameters
            if p.location == "query" and p.required and not any(k == p.name or k.startswith(p.name + "[") for k in sent)
        ]
        if not missing:
            return None
        version = self.contract.version
        return OutdatedRequest(
            operation=op.operation_id,
            method=op.method,
            path=op.path,
            title=f"{op.label} is replayed without the query parameter {missing[0]}, which the contract "
            f"(spec {version}) requires.",
            rule="every request meant to succeed carries the parameters the contract requires",
            expected=f"query parameter(s) {', '.join(missing)}",
            actual=f"query {sorted(sent)}" if sent else "no query",
            cassette=self.cassette_path,
            next_step=f"the recording predates the contract: re-record it: {self.record_command}",
        )

    def __repr__(self) -> str:
        # Short: pytest shows a failing test's arguments, and an address says nothing.
        return f"<ConformanceSession {self.nodeid} ({'recording' if self.recording else 'replay'})>"

    # -- pinning (conformance.variants.pins) ---------------------------------------------------

    def pins(self) -> dict[str, Any]:
        return _pinning.pins(self)

    @property
    def client(self) -> Client:
        if self._client is None:
            if self.recording:
                assert self._settings is not None
                self._client = Client(
                    self._settings, on_retry=self._retrying, on_broken=self._record_broken, contract=self.contract
                )
            else:
                target = self.pins()["target"]
                settings = Settings(
                    api_url=target["apiUrl"],
                    app_id=target["appId"],
                    key_id=PLACEHOLDER,
                    key_secret=REPLAY_SECRET,
                    auth=target["auth"],
                    scope=target.get("scope", "app"),
                    account_key_id=PLACEHOLDER + "-account",
                    account_key_secret=REPLAY_SECRET,
                    oauth_url=target.get("oauthUrl"),
                )
                # Replay answers instantly; waiting out a recorded Retry-After would only slow CI.
                transport = CassetteAdapter(self.cassette) if replays(self.cassette) else None
                self._client = Client(
                    settings, sleep=lambda _seconds: None, replaying=True, transport=transport, contract=self.contract
                )
        return self._client

    def variants(
        self, group: str, strategy: st.SearchStrategy[Variant] | st.SearchStrategy[list[Variant]], count: int
    ) -> list[Variant]:
        """The variants of ``group``: drawn and pinned while recording, read back in replay."""
        return _pinning.variants(self, group, strategy, count)

    # -- calls and checks --------------------------------------------------------------------

    def call(
        self,
        operation_id: str,
        *,
        variant: Variant | None = None,
        body: Any = None,
        path_params: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        authenticate: bool = True,
        authorization: str | None = None,
        expect: Expect | None = None,
        key: tuple[str, str, str] | None = None,
    ) -> Exchange:
        """Send one request, check the exchange, and keep the verdict.

        ``authorization`` is sent instead of the settings' credentials (an OAuth access token).
        ``key`` (id, secret, scope) authenticates with a key the test created instead of the configured one.
        """
        if self.recording and not self.closing:
            interrupt.check()
        request_body = variant.body if variant is not None else body
        if variant is not None:
            path_params = {**(path_params or {}), **variant.params.get("path", {})}
            query = {**(query or {}), **variant.params.get("query", {})}
        if key is not None:
            authorization = self.client.settings.authorization_with(*key)
        if not self.recording:
            outdated = self._outdated(operation_id, query, variant.expect if variant is not None else expect)
            if outdated is not None:
                self.failures.append(outdated)
        try:
            exchange = self.client.call(
                operation_id,
                path_params=path_params,
                query=query,
                body=request_body,
                authenticate=authenticate,
                authorization=authorization,
            )
        except CannotOverwriteExistingCassetteException as error:
            raise self._unmatched(operation_id, error) from None
        except BrokenExchange as error:
            if error.operation.method == "POST":
                self.ledger.maybe_created(operation_id, path_params or {}, request_body)
            raise self._broken(error, variant) from None
        except requests.RequestException as error:
            raise self._unreachable(operation_id, error) from None
        if self.recording:
            # A token, key or webhook secret the API just handed out is kept out of failure text and reports too.
            learned = self.scrubber.secrets_in(exchange.body, exchange.headers)
            self.scrubber.learn([*learned, *credential_values(exchange.body, self.scrubber.fields)])
        expected = variant.expect if variant is not None else expect
        self._note(operation_id, variant, exchange)
        self.last_exchange = exchange
        self.answered.append(exchange)
        variant_id = variant.id if variant else None
        fault = faults.classify(
            exchange, expected, variant_id, recording=self.recording, record_command=self.record_command
        )
        found = [fault] if fault is not None else check_exchange(exchange, expected, variant_id)
        self._keep(exchange, variant_id, found, expected)
        said = f": a {fault.kind.replace('-', ' ')}, the test stops" if fault is not None else ""
        self._say(f"{operation_id} answered {exchange.status}{said} (exchange {self.exchanges})")
        if fault is not None:
            if exchange.method == "DELETE" and exchange.broken_attempts:
                _teardown.forget(self, exchange.path)  # the broken-off attempt most likely deleted it
            if exchange.method == "POST":
                self.ledger.maybe_created(operation_id, path_params or {}, request_body)
            # What follows would be judged against a state the fault left unknown.
            raise self._stop()
        return exchange

    def require(
        self,
        value: T | None,
        needed: str,
        variant: Variant | None = None,
        *,
        exchange: Exchange | None = None,
        pointer: str = "",
    ) -> T:
        """``value``, or a failure that ends the test: the rest of it cannot run without it."""
        if value is not None:
            return value
        exchange = exchange or self.last_exchange
        failure = _verdicts.cannot_continue(self, needed, variant, exchange, pointer)
        if exchange is None:
            raise failure
        self.failures.append(failure)
        if self.verdicts and self.verdicts[-1].operation == exchange.operation.operation_id:
            self.verdicts[-1].ok = False
            self.verdicts[-1].failures.append(failure.as_dict())
        raise FailureGroup(self.failures) if len(self.failures) > 1 else failure

    def _say(self, line: str) -> None:
        if self.progress is not None:
            # A server's words (a malformed chunk-size line, say) may echo a credential.
            self.progress(self.scrubber.text(f"{self.nodeid.rpartition('::')[2]}: {line}"))

    def _retrying(self, op: Operation, attempt: int, wait: float, got: str) -> None:
        limit = self.client.retry.max_attempts
        said = got if got.startswith("answered") else f"got no whole answer: {got}"
        self._say(f"{op.operation_id} {said}; retry {attempt + 1} of {limit} in {wait:.1f} s")

    def _record_broken(self, sent: requests.PreparedRequest, broken: Broken) -> None:
        if self.cassette is not None:
            faults.record_broken(self.cassette, sent, broken)

    def _broken(self, error: BrokenExchange, variant: Variant | None) -> AssertionError:
        variant_id = variant.id if variant else None
        failure = faults.broken(error, variant_id, recording=self.recording, record_command=self.record_command)
        failure.with_context(cassette=self.cassette_path, next_step=None)
        self.failures.append(failure)
        self.exchanges += 1
        verdict = Verdict(error.operation.operation_id, 0, variant_id, False, failures=[failure.as_dict()])
        verdict.fault, verdict.retried = failure.kind, list(error.retried)
        self.verdicts.append(verdict)
        self._say(f"{error.operation.operation_id}: {error.broken.what}: a server fault, the test stops "
                  f"(exchange {self.exchanges})")  # fmt: skip
        return self._stop()

    def _stop(self) -> AssertionError:
        """What ends the test: everything it found so far."""
        return FailureGroup(self.failures) if len(self.failures) > 1 else self.failures[0]

    def _note(self, operation_id: str, variant: Variant | None, exchange: Exchange) -> None:
        """While recording, which variant and operation each exchange is, and how many attempts it took."""
        if not self.recording:
            return
        noted = self.pins().get(provenance.EXCHANGES_KEY)
        if isinstance(noted, list):
            noted.append(provenance.exchange(operation_id, variant.id if variant else None, exchange.attempts))

    def recorded(self) -> provenance.Provenance:
        """What the cassette says of its recording (replay), or of this one (recording)."""
        pins = getattr(self.cassette, "_metadata", {}).get(METADATA_KEY) if self.cassette is not None else None
        return provenance.Provenance.from_pins(self.cassette_path, pins or self._pins)

    @property
    def app_id(self) -> str:
        return self.client.settings.app_id

    @property
    def webhooks(self) -> Inbox:
        """Deliveries to the webhooks this test creates; a live run the API cannot deliver to is not run."""
        return _live.webhooks(self)

    def keep_result(
        self, operation_id: str, status: int, found: list[ConformanceFailure], undocumented: list[Field] | None = None
    ) -> None:
        """The verdict of something checked outside an exchange (a webhook delivery)."""
        for failure in found:
            failure.with_context(cassette=self.cassette_path, next_step=self._next_step())
        self.failures.extend(found)
        verdict = Verdict(operation_id, status, None, not found, True, [f.as_dict() for f in found])
        verdict.undocumented_fields = list(undocumented or [])
        self.verdicts.append(verdict)

    def fail(self, failure: ConformanceFailure, *, verdict: bool = False) -> None:
        """Keep a failure found outside an exchange; ``verdict`` marks the last verdict failed with it."""
        self.failures.append(failure.with_context(cassette=self.cassette_path, next_step=self._next_step()))
        if verdict and self.verdicts:
            self.verdicts[-1].ok = False
            self.verdicts[-1].failures.append(failure.as_dict())

    def expect_state(self, exchange: Exchange | None, ok: bool, **details: Any) -> None:
        """Record a stateful expectation (e.g. the list contains what was created)."""
        exchange = exchange or self.last_exchange
        if not ok:
            assert exchange is not None, "a state expectation follows at least one exchange"
            failure = state_failure(exchange, **details)
            self.failures.append(failure.with_context(cassette=self.cassette_path, next_step=self._next_step()))
            if self.verdicts:
                self.verdicts[-1].ok = False
                self.verdicts[-1].failures.append(failure.as_dict())

    def _keep(
        self, exchange: Exchange, variant: str | None, found: list[ConformanceFailure], expected: Expect | None
    ) -> None:
        _verdicts.keep(self, exchange, variant, found, expected)

    def _unmatched(self, operation_id: str, error: CannotOverwriteExistingCassetteException) -> UnmatchedRequest:
        sent = self.scrubber.request(error.failed_request)
        return unanswered.unmatched(
            self.cassette, self.cassette_path, self.contract.operation(operation_id), sent, self.record_command
        )

    def _unreachable(self, operation_id: str, error: requests.RequestException) -> Unreachable:
        url = self.client.settings.api_url
        return unanswered.unreachable(
            url, self.cassette_path, self.contract.operation(operation_id), error, self.scrubber.text
        )

    # -- live runs that cannot be made (conformance.session.live) ---------------------------------

    def require_account(self) -> None:
        """Skip a live run that has no account-scope key; replay always runs from the cassette."""
        _live.require_account(self)

    def live_setting(self, name: str, variables: str) -> Any:
        """An optional setting a test needs live (``oauth``, ``sdk_user_id``…); without it a live run
        skips the test, naming the variables that would enable it. Replay needs none: it is None there,
        and the test reads what it needs from its pinned variants."""
        return _live.live_setting(self, name, variables)

    def not_run(self, reason: str) -> NoReturn:
        """Skip the test; a recording keeps the reason, so its replay skips for the same one."""
        _live.not_run(self, reason)

    def keep_not_run(self, reason: str) -> None:
        """A live run that skipped by any other way than ``not_run``: keep its reason all the same."""
        _live.keep_reason(self, reason)

    def replay_not_run(self) -> None:
        """In replay, skip for the reason the recording gave for not running live, if it gave one."""
        _live.replay_not_run(self)

    def require_scope(self, *operation_ids: str) -> None:
        """Skip a live run whose key signs with a scope these operations refuse (an account-scope token
        on webhooks, which take app and integration keys only); replay always runs from the cassette."""
        _live.require_scope(self, *operation_ids)

    # -- teardown (conformance.session.teardown) ----------------------------------------------------

    def cleanup(self) -> None:
        """Delete what the test created and did not delete itself, newest first."""
        _teardown.cleanup(self)

    def finish(self) -> None:
        """The end of a test's body: everything it found so far fails it."""
        self.finished = True
        raise_if_any(self.failures)

    def close(self) -> None:
        """Teardown: delete what the test left, then (in replay) check every recorded exchange was played."""
        self.closing = True
        self.cleanup()
        if not self.recording and self.cassette is not None:
            self.failures.extend(
                unanswered.unplayed(self.cassette, self.cassette_path, self.record_command, self.contract)
            )
