"""What a session does about live runs it cannot make: skip them, naming why, and replay the same skip.

Part of :class:`conformance.session.session.ConformanceSession`, kept apart to keep that module small;
the session's methods of the same names call these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from conformance.deliveries.inbox import ENABLE, Inbox, replays_deliveries
from conformance.deliveries.receiver import Receiver
from conformance.transport.client import needs_account
from conformance.variants.pins import METADATA_KEY

if TYPE_CHECKING:
    from conformance.session.session import ConformanceSession


def webhooks(session: ConformanceSession) -> Inbox:
    """Deliveries to the webhooks this test creates; a live run the API cannot deliver to is not run."""
    if session._inbox is None:
        settings = session._settings
        if not session.recording or replays_deliveries(session.cassette):
            session._inbox = Inbox(session, None, None, contract=session.contract)
        elif settings is None or not settings.webhooks_reachable:
            not_run(session, f"not run live: needs {ENABLE}")
        else:
            receiver = session._receiver() if session._receiver else Receiver().start()
            session._inbox = Inbox(session, receiver, settings.webhook_url or receiver.url, contract=session.contract)
    return session._inbox


def require_account(session: ConformanceSession) -> None:
    """Skip a live run that has no account-scope key; replay always runs from the cassette."""
    if session.recording and session._settings is not None and not session._settings.account_key_id:
        not_run(session, "not run live: needs an account-scope key (SUNCO_ACCOUNT_KEY_ID, SUNCO_ACCOUNT_KEY_SECRET)")
    replay_not_run(session)


def live_setting(session: ConformanceSession, name: str, variables: str) -> Any:
    """An optional setting a test needs live (``oauth``, ``sdk_user_id``…); without it a live run
    skips the test, naming the variables that would enable it. Replay needs none: it is None there,
    and the test reads what it needs from its pinned variants."""
    if not session.recording:
        replay_not_run(session)
        return None
    value = getattr(session._settings, name, None) if session._settings is not None else None
    if value is None:
        not_run(session, f"not run live: needs {variables}")
    return value


def not_run(session: ConformanceSession, reason: str) -> NoReturn:
    """Skip the test; a recording keeps the reason, so its replay skips for the same one."""
    keep_reason(session, reason)
    pytest.skip(reason)


def keep_reason(session: ConformanceSession, reason: str) -> None:
    """While recording, keep why the test did not run live in its cassette (the first reason given)."""
    if session.not_run_reason is not None:
        return
    session.not_run_reason = reason
    if session.recording and session.cassette is not None:
        session.pins()["notRun"] = reason
        session.cassette.dirty = True


def replay_not_run(session: ConformanceSession) -> None:
    """In replay, skip for the reason the recording gave for not running live, if it gave one."""
    pins = getattr(session.cassette, "_metadata", {}).get(METADATA_KEY) if not session.recording else None
    if isinstance(pins, dict) and pins.get("notRun"):
        pytest.skip(f"{pins['notRun']} (replaying a recording that did not run live)")


def require_scope(session: ConformanceSession, *operation_ids: str) -> None:
    """Skip a live run whose key signs with a scope these operations refuse (an account-scope token
    on webhooks, which take app and integration keys only); replay always runs from the cassette."""
    settings = session._settings
    if not session.recording or settings is None or settings.auth != "jwt":
        return
    for operation_id in operation_ids:
        op = session.contract.operation(operation_id)
        if op.scopes and settings.scope not in op.scopes and not needs_account(op):
            not_run(
                session,
                f"not run live: needs a key of {' or '.join(sorted(op.scopes))} scope for {operation_id} "
                f"(SUNCO_JWT_SCOPE={settings.scope} signs every call with {settings.scope} scope)",
            )
