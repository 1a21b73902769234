"""One test's conformance session: the ``sunco`` fixture, which sends the test's calls and checks them.

It is made of parts, each with its own state: the cassette's pins (which variants, to whom), the
findings (verdicts and failures), the skip policy, the ledger and its teardown, and the webhook
inbox. The session holds them and hands each only what it needs; no part knows the session.

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
from conformance.checks.exchange import check_exchange, state_failure
from conformance.checks.findings import REFUSED_CODES, REFUSED_STATUSES, Findings, Verdict
from conformance.contract.schemas import Contract, Operation, shipped
from conformance.deliveries.inbox import Inbox, replays_deliveries
from conformance.deliveries.receiver import Receiver
from conformance.failures import OutdatedRequest, UnmatchedRequest, Unreachable, raise_if_any
from conformance.model import Exchange, Expect, Variant
from conformance.scrubbing.scrubber import PLACEHOLDER, Scrubber, credential_values
from conformance.session.ledger import Ledger
from conformance.session.run_ledger import RunLedger
from conformance.session.skips import SkipPolicy
from conformance.session.teardown import Teardown
from conformance.transport import faults, interrupt
from conformance.transport.client import Broken, BrokenExchange, Client
from conformance.transport.settings import Settings
from conformance.variants.pins import METADATA_KEY, Pins
from conformance.variants.resend import Symbols

if TYPE_CHECKING:
    from hypothesis import strategies as st

__all__ = ["METADATA_KEY", "REFUSED_CODES", "REFUSED_STATUSES", "ConformanceSession", "Verdict"]
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
        self.recording = recording
        self.scrubber = scrubber
        self.nodeid = nodeid
        self.record_command = record_command
        self._settings = settings
        self._client: Client | None = None
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
        live = settings if recording else None
        next_step = (
            "compare with the API reference; if the API changed on purpose, update the schema in schemas/"
            if recording
            else f"if the API changed on purpose, re-record: {record_command}"
        )
        self.findings = Findings(self.cassette_path, next_step)
        symbols = Symbols(
            recording=recording,
            settings=live,
            answered=self.answered,
            target=lambda: self.client.settings,
            webhooks=lambda: self.webhooks.target,
            webhooks_open=lambda: self._inbox.target if self._inbox is not None else None,
        )
        # ``reuse`` (--variants-from): the pins of an earlier recording whose variants are sent again.
        self.pins = Pins(
            cassette,
            recording=recording,
            settings=live,
            scrubber=scrubber,
            symbols=symbols,
            nodeid=nodeid,
            cassette_path=self.cassette_path,
            record_command=record_command,
            seed=seed,
            reuse=reuse,
            redraw=redraw,
            say=self._say,
            contract=self.contract,
        )
        self.skips = SkipPolicy(recording=recording, settings=live, pins=self.pins, contract=self.contract)
        # What the test creates; while recording, also in the run's ledger on disk (``journal``).
        self.ledger = Ledger(journal if recording else None)
        self.teardown = Teardown(self.ledger, self.call, self.findings, self.contract)

    @property
    def settings(self) -> Settings | None:
        """The live settings while recording; None in replay, where everything comes from the cassette."""
        return self._settings if self.recording else None

    @property
    def cassette_path(self) -> str:
        if self.cassette_file:
            return self.cassette_file
        return "(no cassette: recording disabled)" if self.cassette is None else str(self.cassette.path)

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

    @property
    def client(self) -> Client:
        if self._client is None:
            if self.recording:
                assert self._settings is not None
                # The test's name lets a seeded sandbox draw this test's ids and times on their own.
                self._client = Client(
                    self._settings,
                    on_retry=self._retrying,
                    on_broken=self._record_broken,
                    test=self.nodeid,
                    contract=self.contract,
                )
            else:
                target = self.pins.target()
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
        return self.pins.variants(group, strategy, count)

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
                self.findings.add(outdated)
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
        self.pins.note(operation_id, variant.id if variant else None, exchange.attempts)
        self.last_exchange = exchange
        self.answered.append(exchange)
        variant_id = variant.id if variant else None
        fault = faults.classify(
            exchange, expected, variant_id, recording=self.recording, record_command=self.record_command
        )
        found = [fault] if fault is not None else check_exchange(exchange, expected, variant_id)
        self.findings.keep(exchange, variant_id, found, expected)
        said = f": a {fault.kind.replace('-', ' ')}, the test stops" if fault is not None else ""
        self._say(f"{operation_id} answered {exchange.status}{said} (exchange {self.findings.exchanges})")
        if fault is not None:
            if exchange.method == "DELETE" and exchange.broken_attempts:
                self.teardown.forget(exchange.path, self.client.path_for)  # the broken-off attempt most likely did it
            if exchange.method == "POST":
                self.ledger.maybe_created(operation_id, path_params or {}, request_body)
            # What follows would be judged against a state the fault left unknown.
            raise self.findings.stop()
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
        raise self.findings.cannot_continue(needed, variant, exchange or self.last_exchange, pointer)

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
        self.findings.keep_broken(failure, error.operation.operation_id, variant_id, list(error.retried))
        self._say(f"{error.operation.operation_id}: {error.broken.what}: a server fault, the test stops "
                  f"(exchange {self.findings.exchanges})")  # fmt: skip
        return self.findings.stop()

    def recorded(self) -> provenance.Provenance:
        """What the cassette says of its recording (replay), or of this one (recording)."""
        return self.pins.recorded()

    @property
    def app_id(self) -> str:
        return self.client.settings.app_id

    @property
    def webhooks(self) -> Inbox:
        """Deliveries to the webhooks this test creates; a live run the API cannot deliver to is not run."""
        if self._inbox is None:
            receiver: Receiver | None = None
            target: str | None = None
            if self.recording and not replays_deliveries(self.cassette):
                self.skips.require_deliveries()
                assert self._settings is not None, "a live run the API can deliver to has settings"
                receiver = self._receiver() if self._receiver else Receiver().start()
                target = self._settings.webhook_url or receiver.url
            self._inbox = Inbox(
                self.cassette,
                receiver,
                target,
                findings=self.findings,
                app_id=lambda: self.app_id,
                scrubber=self.scrubber,
                record_command=self.record_command,
                note_schemas=self.pins.note_schemas,
                contract=self.contract,
            )
        return self._inbox

    def expect_state(self, exchange: Exchange | None, ok: bool, **details: Any) -> None:
        """Record a stateful expectation (e.g. the list contains what was created)."""
        if not ok:
            exchange = exchange or self.last_exchange
            assert exchange is not None, "a state expectation follows at least one exchange"
            self.findings.fail(state_failure(exchange, **details), verdict=True)

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

    # -- what a suite test asks of its live run (the skip policy) -----------------------------------

    def require_account(self) -> None:
        """Skip a live run that has no account-scope key; replay always runs from the cassette."""
        self.skips.require_account()

    def live_setting(self, name: str, variables: str) -> Any:
        """An optional setting a test needs live (``oauth``, ``sdk_user_id``…), or a skip naming the
        variables that would enable it; None in replay, where the pinned variants hold what it needs."""
        return self.skips.live_setting(name, variables)

    def not_run(self, reason: str) -> NoReturn:
        """Skip the test; a recording keeps the reason, so its replay skips for the same one."""
        self.skips.not_run(reason)

    def require_scope(self, *operation_ids: str) -> None:
        """Skip a live run whose key signs with a scope these operations refuse."""
        self.skips.require_scope(*operation_ids)

    def replay_not_run(self) -> None:
        """In replay, skip for the reason the recording gave for not running live, if it gave one."""
        self.skips.replay()

    # -- the end of the test --------------------------------------------------------------------

    def cleanup(self) -> None:
        """Delete what the test created and did not delete itself, newest first."""
        if self._inbox is not None:
            self._inbox.close()
        self.teardown.run()

    def finish(self) -> None:
        """The end of a test's body: everything it found so far fails it."""
        self.finished = True
        raise_if_any(self.findings.failures)

    def close(self) -> None:
        """Teardown: delete what the test left, then (in replay) check every recorded exchange was played."""
        self.closing = True
        self.cleanup()
        if not self.recording and self.cassette is not None:
            self.findings.add(
                *unanswered.unplayed(self.cassette, self.cassette_path, self.record_command, self.contract)
            )
