"""What a live run skips and why: tests it cannot make without a setting, a key or a reachable receiver.

A live run that skips keeps its reason in the cassette's pins; its replay skips for the same reason.
Replay never skips for want of a setting: it needs none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from conformance.contract.schemas import Contract
from conformance.deliveries.inbox import ENABLE
from conformance.transport.client import needs_account

if TYPE_CHECKING:
    from conformance.transport.settings import Settings
    from conformance.variants.pins import Pins


class SkipPolicy:
    """One test's skips: ``settings`` are the live settings (None in replay), ``pins`` keep the reason."""

    def __init__(self, *, recording: bool, settings: Settings | None, pins: Pins, contract: Contract) -> None:
        self.contract = contract
        self.recording = recording
        self.settings = settings
        self.pins = pins
        # Why the test did not run live (the first reason given), kept in the cassette for replay.
        self.reason: str | None = None

    def not_run(self, reason: str) -> NoReturn:
        """Skip the test; a recording keeps the reason, so its replay skips for the same one."""
        self.keep(reason)
        pytest.skip(reason)

    def keep(self, reason: str) -> None:
        """Keep why the test did not run live (the first reason given), whichever way it skipped."""
        if self.reason is not None:
            return
        self.reason = reason
        self.pins.keep_not_run(reason)

    def replay(self) -> None:
        """In replay, skip for the reason the recording gave for not running live, if it gave one."""
        reason = self.pins.not_run()
        if reason:
            pytest.skip(f"{reason} (replaying a recording that did not run live)")

    def require_account(self) -> None:
        """Skip a live run that has no account-scope key; replay always runs from the cassette."""
        if self.recording and self.settings is not None and not self.settings.account_key_id:
            self.not_run("not run live: needs an account-scope key (SUNCO_ACCOUNT_KEY_ID, SUNCO_ACCOUNT_KEY_SECRET)")
        self.replay()

    def live_setting(self, name: str, variables: str) -> Any:
        """An optional setting a test needs live (``oauth``, ``sdk_user_id``…); without it a live run
        skips the test, naming the variables that would enable it. Replay needs none: it is None there,
        and the test reads what it needs from its pinned variants."""
        if not self.recording:
            self.replay()
            return None
        value = getattr(self.settings, name, None) if self.settings is not None else None
        if value is None:
            self.not_run(f"not run live: needs {variables}")
        return value

    def require_scope(self, *operation_ids: str) -> None:
        """Skip a live run whose key signs with a scope these operations refuse (an account-scope token
        on webhooks, which take app and integration keys only); replay always runs from the cassette."""
        settings = self.settings
        if not self.recording or settings is None or settings.auth != "jwt":
            return
        for operation_id in operation_ids:
            op = self.contract.operation(operation_id)
            if op.scopes and settings.scope not in op.scopes and not needs_account(op):
                self.not_run(
                    f"not run live: needs a key of {' or '.join(sorted(op.scopes))} scope for {operation_id} "
                    f"(SUNCO_JWT_SCOPE={settings.scope} signs every call with {settings.scope} scope)",
                )

    def require_deliveries(self) -> None:
        """Skip a live run the API cannot deliver webhooks to."""
        if self.recording and (self.settings is None or not self.settings.webhooks_reachable):
            self.not_run(f"not run live: needs {ENABLE}")
