"""One test's conformance session: pinned variants, calls through the client, checks, verdicts.

In replay the target (base URL, app id, auth mode) comes from the cassette, so replay needs no
settings at all and always re-sends exactly what was recorded.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NoReturn, TypeVar

import pytest
import requests
from hypothesis import strategies as st
from vcr.errors import CannotOverwriteExistingCassetteException

from conformance.core import provenance
from conformance.core.checks import check_exchange, state_failure
from conformance.core.client import Client, needs_account
from conformance.core.deliveries import ENABLE, Inbox, replays_deliveries
from conformance.core.explain import nearest
from conformance.core.failures import (
    CannotContinue,
    ConformanceFailure,
    FailureGroup,
    MissingRecording,
    UnmatchedRequest,
    UnplayedInteractions,
    Unreachable,
    cause_chain,
    raise_if_any,
)
from conformance.core.ledger import Ledger
from conformance.core.model import Exchange, Expect, Variant
from conformance.core.receiver import Receiver
from conformance.core.scrub import PLACEHOLDER, Scrubber, credential_values
from conformance.core.settings import Settings
from conformance.core.variants import PIN_FORMAT, draw, number, pin, unpin
from conformance.spec.schemas import Operation, load_index, operation

METADATA_KEY = "conformance"
F = TypeVar("F", bound=ConformanceFailure)
T = TypeVar("T")
# Answers that say the key or app is wrong, not that the API broke a rule.
REFUSED_STATUSES = (401, 403)
REFUSED_CODES = ("app_not_found",)
# Replay signs nothing that anyone checks; long enough that PyJWT does not warn about it.
REPLAY_SECRET = "replay-has-no-credentials-and-needs-none-0000"  # noqa: S105 - a placeholder


@dataclass
class Verdict:
    """What the summary and the JSON report keep of one exchange."""

    operation: str
    status: int
    variant: str | None
    ok: bool
    documented: bool = True
    failures: list[dict[str, Any]] = field(default_factory=list)
    # The test (a variant, or an explicit expect) asked for exactly this status.
    expected: bool = False


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
    ) -> None:
        self.cassette = cassette
        self.cassette_file = cassette_file
        self.progress = progress
        self.finished = False
        # Exchanges answered, and how many of them refused the key or app when no one expected it.
        self.exchanges = 0
        self.refusals = 0
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
        self.ledger = Ledger()
        # Why the test did not run live (a missing setting), kept in the cassette for replay.
        self.not_run_reason: str | None = None
        self.last_exchange: Exchange | None = None
        # The run's webhook receiver, started the first time a test waits for deliveries.
        self._receiver = receiver
        self._inbox: Inbox | None = None

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

    # -- pinning -----------------------------------------------------------------------------

    def pins(self) -> dict[str, Any]:
        if self._pins is None:
            if self.recording:
                assert self._settings is not None
                target = {
                    "apiUrl": self._settings.api_url,
                    "appId": self._settings.app_id,
                    "auth": self._settings.auth,
                    "scope": self._settings.scope,
                }
                if self._settings.oauth_url:
                    target["oauthUrl"] = self._settings.oauth_url
                default = {
                    "format": PIN_FORMAT,
                    "target": target,
                    "seed": self.seed,
                    provenance.RECORDING_KEY: provenance.recording(self._settings.api_url),
                    "variants": {},
                    provenance.EXCHANGES_KEY: [],
                }
                if self.reuse is not None:
                    # Asked for on purpose: the earlier recording's variants go live again, as pinned.
                    default["seed"] = self.reuse.get("seed", self.seed)
                    default["variants"] = copy.deepcopy(dict(self.reuse.get("variants") or {}))
                # Without a cassette (--disable-recording) the variants are drawn and sent, not kept.
                self._pins = default if self.cassette is None else self.cassette.get_metadata(METADATA_KEY, default)
                if self.redraw and self._pins is not default:
                    # "all" re-records every request: pinned (scrubbed) bodies must not go live.
                    self.cassette._metadata[METADATA_KEY] = self._pins = default
                    self.cassette.dirty = True
                if self._pins is not default:
                    # An earlier recording being extended (new_episodes): its list of exchanges no
                    # longer matches its interactions, so it goes; readers fall back to the requests.
                    self._pins.pop(provenance.EXCHANGES_KEY, None)
                elif self.cassette is not None and default["variants"]:
                    self.cassette.dirty = True
            else:
                self._pins = self._load_pins()
        return self._pins

    def _load_pins(self) -> dict[str, Any]:
        pins: dict[str, Any] | None = getattr(self.cassette, "_metadata", {}).get(METADATA_KEY)
        if pins is None:
            raise self._missing(
                f"No recording holds the variants of {self.nodeid}.",
                expected=f"a cassette at {self.cassette_path}",
                actual="no such cassette, or one recorded without pinned variants",
                next_step=f"record it: {self.record_command}",
            )
        return pins

    def _missing(self, title: str, *, expected: str, actual: str, next_step: str) -> MissingRecording:
        return MissingRecording(
            operation="(none)",
            method="-",
            path="-",
            title=title,
            rule="replay re-sends only the variants pinned in the cassette",
            expected=expected,
            actual=actual,
            cassette=self.cassette_path,
            next_step=next_step,
        )

    @property
    def client(self) -> Client:
        if self._client is None:
            if self.recording:
                assert self._settings is not None
                self._client = Client(self._settings, on_retry=self._retrying)
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
                self._client = Client(settings, sleep=lambda _seconds: None)
        return self._client

    def variants(
        self, group: str, strategy: st.SearchStrategy[Variant] | st.SearchStrategy[list[Variant]], count: int
    ) -> list[Variant]:
        """The variants of ``group``: drawn and pinned while recording, read back in replay."""
        pins = self.pins()
        if self.recording and group not in pins["variants"]:
            drawn = [self._with_channel(v) for v in number(group, draw(strategy, count, self.seed))]
            pins["variants"][group] = pin(group, drawn, self.scrubber.variant_body)
            if self.cassette is not None:
                self.cassette.dirty = True
            return drawn
        if group not in pins["variants"]:
            raise self._missing(
                f"The recording of {self.nodeid} pins no variants named {group!r}.",
                expected=f"variant group {group!r}",
                actual=f"groups {sorted(pins['variants'])}",
                next_step=f"the test changed since it was recorded; re-record: {self.record_command}",
            )
        pinned = unpin(pins["variants"][group])
        return [self._with_channel(v) for v in pinned] if self.recording and self.reuse is not None else pinned

    def _with_channel(self, variant: Variant) -> Variant:
        """A body that must be accepted gets the user's real settings for its channel, if any."""
        channels = self._settings.channels if self._settings else {}
        body = variant.body
        if variant.expect.status >= 300 or not isinstance(body, dict) or body.get("type") not in channels:
            return variant
        return replace(variant, body={**body, **channels[body["type"]]})

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
        request_body = variant.body if variant is not None else body
        if variant is not None:
            path_params = {**(path_params or {}), **variant.params.get("path", {})}
            query = {**(query or {}), **variant.params.get("query", {})}
        if key is not None:
            authorization = self.client.settings.authorization_with(*key)
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
        except requests.RequestException as error:
            raise self._unreachable(operation_id, error) from None
        if self.recording:
            # A token, key or webhook secret the API just handed out is kept out of failure text and reports too.
            learned = self.scrubber.secrets_in(exchange.body, exchange.headers)
            self.scrubber.learn([*learned, *credential_values(exchange.body, self.scrubber.fields)])
        expected = variant.expect if variant is not None else expect
        self._note(operation_id, variant, exchange)
        self.last_exchange = exchange
        found = check_exchange(exchange, expected, variant.id if variant else None)
        self._keep(exchange, variant.id if variant else None, found, expected)
        self._say(f"{operation_id} answered {exchange.status} (exchange {self.exchanges})")
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
        if exchange is None:
            raise CannotContinue(
                operation="(none)",
                method="-",
                path="-",
                title=f"The test cannot go on: it needs {needed}, and no exchange provided it.",
                rule="a test that cannot continue fails; it does not pass",
                expected=needed,
                cassette=self.cassette_path,
                next_step=self._next_step(),
            )
        failure = CannotContinue(
            operation=exchange.operation.operation_id,
            method=exchange.method,
            path=exchange.operation.path,
            status=exchange.status,
            title=f"{exchange.operation.label} answered {exchange.status} without {needed}, so the test cannot go on.",
            pointer=pointer or None,
            rule="a test that cannot continue fails; it does not pass",
            expected=needed,
            actual=exchange.body if exchange.body_is_json else exchange.text[:200],
            variant=variant.id if variant else None,
            cassette=self.cassette_path,
            next_step=self._next_step(),
        )
        self.failures.append(failure)
        if self.verdicts and self.verdicts[-1].operation == exchange.operation.operation_id:
            self.verdicts[-1].ok = False
            self.verdicts[-1].failures.append(failure.as_dict())
        raise FailureGroup(self.failures) if len(self.failures) > 1 else failure

    def _say(self, line: str) -> None:
        if self.progress is not None:
            self.progress(f"{self.nodeid.rpartition('::')[2]}: {line}")

    def _retrying(self, op: Operation, attempt: int, wait: float) -> None:
        limit = self.client.retry.max_attempts
        self._say(f"{op.operation_id} answered 429; retry {attempt + 1} of {limit} in {wait:.1f} s")

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
        if self._inbox is None:
            settings = self._settings
            if not self.recording or replays_deliveries(self.cassette):
                self._inbox = Inbox(self, None, None)
            elif settings is None or not settings.webhooks_reachable:
                pytest.skip(f"not run live: needs {ENABLE}")
            else:
                receiver = self._receiver() if self._receiver else Receiver().start()
                self._inbox = Inbox(self, receiver, settings.webhook_url or receiver.url)
        return self._inbox

    def keep_result(self, operation_id: str, status: int, found: list[ConformanceFailure]) -> None:
        """The verdict of something checked outside an exchange (a webhook delivery)."""
        for failure in found:
            failure.with_context(cassette=self.cassette_path, next_step=self._next_step())
        self.failures.extend(found)
        self.verdicts.append(Verdict(operation_id, status, None, not found, True, [f.as_dict() for f in found]))

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
        for failure in found:
            failure.with_context(cassette=self.cassette_path, next_step=self._next_step())
        self.failures.extend(found)
        documented = exchange.status in exchange.operation.documented_statuses
        wanted = expected is not None and expected.status == exchange.status
        self.exchanges += 1
        if not wanted and _refused(exchange):
            self.refusals += 1
        self.verdicts.append(
            Verdict(
                exchange.operation.operation_id,
                exchange.status,
                variant,
                not found,
                documented,
                [failure.as_dict() for failure in found],
                wanted,
            )
        )

    def _unmatched(self, operation_id: str, error: CannotOverwriteExistingCassetteException) -> UnmatchedRequest:
        recorded = [request for request, _ in getattr(self.cassette, "data", [])]
        sent = self.scrubber.request(error.failed_request)
        found = nearest(recorded, sent)
        return self._transport_failure(
            UnmatchedRequest,
            operation_id,
            title=f"sent a request that {self.cassette_path} does not hold.",
            rule="replay answers only requests recorded in the cassette (method, path, query, JSON body)",
            expected="a recorded request with the same method, path, query and body",
            actual=f"{sent.method} {sent.uri}",
            notes=[found.describe()] if found else ["the cassette holds no requests at all"],
            next_step=f"re-record this test: {self.record_command}",
        )

    def _unreachable(self, operation_id: str, error: requests.RequestException) -> Unreachable:
        return self._transport_failure(
            Unreachable,
            operation_id,
            title=f"got no answer from {self.client.settings.api_url}.",
            rule="the API answers every request",
            expected="an HTTP response",
            actual=self.scrubber.text(f"{type(error).__name__}: {error}"),
            notes=[f"cause: {self.scrubber.text(line)}" for line in cause_chain(error)],
            next_step="check SUNCO_API_URL and that the host is reachable from here (SUNCO_TIMEOUT sets how long "
            "to wait), then record again",
        )

    def _transport_failure(self, kind: type[F], operation_id: str, *, title: str, **details: Any) -> F:
        """A failure with no exchange to check: the request never got a (recorded) answer."""
        op = operation(operation_id)
        return kind(
            operation=op.operation_id,
            method=op.method,
            path=op.path,
            title=f"{op.label} {title}",
            cassette=self.cassette_path,
            **details,
        )

    def require_account(self) -> None:
        """Skip a live run that has no account-scope key; replay always runs from the cassette."""
        if self.recording and self._settings is not None and not self._settings.account_key_id:
            self.not_run("not run live: needs an account-scope key (SUNCO_ACCOUNT_KEY_ID, SUNCO_ACCOUNT_KEY_SECRET)")
        self._replay_not_run()

    def live_setting(self, name: str, variables: str) -> Any:
        """An optional setting a test needs live (``oauth``, ``sdk_user_id``…); without it a live run
        skips the test, naming the variables that would enable it. Replay needs none: it is None there,
        and the test reads what it needs from its pinned variants."""
        if not self.recording:
            self._replay_not_run()
            return None
        value = getattr(self._settings, name, None) if self._settings is not None else None
        if value is None:
            self.not_run(f"not run live: needs {variables}")
        return value

    def not_run(self, reason: str) -> NoReturn:
        """Skip the test; a recording keeps the reason, so its replay skips for the same one."""
        self.not_run_reason = reason
        if self.recording and self.cassette is not None:
            self.pins()["notRun"] = reason
            self.cassette.dirty = True
        pytest.skip(reason)

    def _replay_not_run(self) -> None:
        pins = getattr(self.cassette, "_metadata", {}).get(METADATA_KEY) if not self.recording else None
        if isinstance(pins, dict) and pins.get("notRun"):
            pytest.skip(f"{pins['notRun']} (replaying a recording made without it)")

    def require_scope(self, *operation_ids: str) -> None:
        """Skip a live run whose key signs with a scope these operations refuse (an account-scope token
        on webhooks, which take app and integration keys only); replay always runs from the cassette."""
        settings = self._settings
        if not self.recording or settings is None or settings.auth != "jwt":
            return
        for operation_id in operation_ids:
            op = operation(operation_id)
            if op.scopes and settings.scope not in op.scopes and not needs_account(op):
                pytest.skip(
                    f"not run live: needs a key of {' or '.join(sorted(op.scopes))} scope for {operation_id} "
                    f"(SUNCO_JWT_SCOPE={settings.scope} signs every call with {settings.scope} scope)"
                )

    def cleanup(self) -> None:
        """Delete what the test created and did not delete itself, newest first."""
        if self._inbox is not None:
            self._inbox.close()
        for item, path in self.ledger.drain():
            op_id = item.operations.get("delete")
            if op_id is None:
                continue
            try:
                self.call(op_id, path_params=path, expect=Expect(200))
            except ConformanceFailure as failure:
                self.failures.append(failure)

    def finish(self) -> None:
        """The end of a test's body: everything it found so far fails it."""
        self.finished = True
        raise_if_any(self.failures)

    def close(self) -> None:
        """Teardown: delete what the test left, then (in replay) check every recorded exchange was played."""
        self.cleanup()
        if not self.recording and self.cassette is not None:
            self.failures.extend(self._unplayed())

    def _unplayed(self) -> list[ConformanceFailure]:
        """One failure naming the recorded exchanges that replay never asked for."""
        data = getattr(self.cassette, "data", [])
        counts = getattr(self.cassette, "play_counts", {})
        left = [index for index in range(len(data)) if not counts.get(index)]
        if not left:
            return []
        first = data[left[0]][0]
        op = _operation_of(first.method, first.path)
        shown = [f"#{i + 1} {data[i][0].method} {data[i][0].path} -> {data[i][1]['status']['code']}" for i in left]
        return [
            UnplayedInteractions(
                operation=op.operation_id if op else "(unknown)",
                method=first.method,
                path=op.path if op else first.path,
                title=f"{op.label if op else first.method + ' ' + first.path} was recorded but never replayed: "
                f"{len(left)} of {len(data)} recorded exchanges were left unplayed.",
                rule="replay plays every recorded exchange; a test that stops early or sends less fails",
                expected=f"all {len(data)} recorded exchanges played",
                actual=f"{len(data) - len(left)} played",
                notes=shown[:10] + ([f"... and {len(shown) - 10} more"] if len(shown) > 10 else []),
                cassette=self.cassette_path,
                next_step=f"if the test changed on purpose, re-record: {self.record_command}",
            )
        ]


def _refused(exchange: Exchange) -> bool:
    return exchange.status in REFUSED_STATUSES or any(code in REFUSED_CODES for code in exchange.error_codes)


def _operation_of(method: str, path: str) -> Operation | None:
    """The index's operation whose path template ends the request's path (a base URL may add a prefix)."""
    for op in load_index().values():
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(op.path))
        if op.method == method.upper() and re.search(pattern + "$", path):
            return op
    return None
