"""The ``sunco_sandbox`` fixture: the bundled sandbox as a stand-in in other projects' tests.

Installed with the package as a pytest plugin (the ``sunco_sandbox`` entry point), so a project that
installs sunco-conformance gets the fixture without importing anything. Each test gets a fresh,
stateful sandbox on 127.0.0.1 at a free port, stopped afterwards; ``@pytest.mark.sunco_sandbox(...)``
chooses a fault profile, a seed or lowered limits for one test.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conformance.deliveries.receiver import Receiver

MARKER = "sunco_sandbox"
# How long deliveries() waits for the events asked for, unless told otherwise: an upper bound, not a pace.
DELIVERY_WAIT = 10.0


@dataclass
class SunCoSandbox:
    """A running sandbox: where it is, the keys it knows, its webhook deliveries."""

    url: str
    app_id: str
    key_id: str
    key_secret: str
    account_key_id: str
    account_key_secret: str
    faults: str | None = None
    _receiver: Receiver | None = field(default=None, repr=False)
    _events: list[Any] = field(default_factory=list, repr=False)

    @property
    def app_url(self) -> str:
        """The app's own base: ``{url}/v2/apps/{app_id}``."""
        return f"{self.url}/v2/apps/{self.app_id}"

    @property
    def auth(self) -> tuple[str, str]:
        """Basic credentials of the app-scope key (``requests``' ``auth=``)."""
        return self.key_id, self.key_secret

    @property
    def account_auth(self) -> tuple[str, str]:
        """Basic credentials of the account-scope key, for apps and app keys."""
        return self.account_key_id, self.account_key_secret

    def webhook_target(self) -> str:
        """A URL on this machine to give a webhook as its ``target``: what the sandbox delivers there is kept."""
        from conformance.deliveries.receiver import Receiver

        if self._receiver is None:
            self._receiver = Receiver(0).start()
        return self._receiver.url

    def deliveries(self, trigger: str | None = None, *, wait_for: int = 0, timeout: float = DELIVERY_WAIT) -> list[Any]:
        """The events delivered to :meth:`webhook_target` so far (of ``trigger``, when given), oldest first.

        With ``wait_for=N`` it waits until N such events have come, or ``timeout`` seconds have gone,
        whichever is first; deliveries are made from the sandbox's own threads.
        """
        receiver = self._receiver
        if receiver is None:
            raise RuntimeError("no webhook target yet: register sunco_sandbox.webhook_target() in a webhook first")
        deadline = time.monotonic() + timeout
        while True:
            found = [event for event in self._take(receiver, 0) if trigger in (None, _type(event))]
            if len(found) >= wait_for:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                return found
            self._take(receiver, left)

    def _take(self, receiver: Receiver, wait: float) -> list[Any]:
        """Every event seen so far, after taking what has come (waiting up to ``wait`` s for one delivery)."""
        got = receiver.claim(_anything, wait)
        while got is not None:
            self._events.extend(_events(got.body))
            got = receiver.claim(_anything, 0)
        return self._events

    def close(self) -> None:
        if self._receiver is not None:
            self._receiver.stop()
            self._receiver = None


@functools.cache
def options() -> dict[str, str]:
    """What the marker may set, and what each one is.

    The sandbox is imported on first use: every pytest run in a project that installs this package
    loads this plugin, and most (a replay of the suite among them) never start a sandbox.
    """
    from conformance.sandbox.faults import PROFILES
    from conformance.sandbox.server import DEFAULT_LIMITS

    return {
        "faults": f"a fault profile: one of {', '.join(PROFILES)}",
        "seed": "an integer: repeatable ids and a fixed clock (faults too, with a profile)",
        "throttle_every": "an integer N: answer every Nth request 429",
        **{name: f"an integer: lowers the documented {name.replace('_', ' ')}" for name in DEFAULT_LIMITS},
    }


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(faults=None, seed=None, throttle_every=0, max_messages=…, message_page_size=…): "
        "how the sunco_sandbox fixture's sandbox behaves for this test",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A wrong marker is the test author's mistake: one line at collection, before any test runs.
    for item in items:
        if MARKER in getattr(item, "fixturenames", ()):
            _options(item)


def _options(node: pytest.Item) -> dict[str, Any]:
    from conformance.sandbox.faults import PROFILES
    from conformance.sandbox.server import DEFAULT_LIMITS

    allowed_options = options()
    marker = node.get_closest_marker(MARKER)
    given: dict[str, Any] = dict(marker.kwargs) if marker else {}
    unknown = sorted(set(given) - set(allowed_options))
    if unknown or (marker and marker.args):
        allowed = "; ".join(f"{name}: {meaning}" for name, meaning in allowed_options.items())
        raise pytest.UsageError(f"@pytest.mark.{MARKER} takes keyword arguments only, among: {allowed}")
    faults = given.pop("faults", None)
    if faults is not None and faults not in PROFILES:
        raise pytest.UsageError(f"@pytest.mark.{MARKER}(faults={faults!r}): use one of {', '.join(PROFILES)}")
    for name, value in given.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise pytest.UsageError(f"@pytest.mark.{MARKER}({name}={value!r}): use {allowed_options[name]}")
    limits = {name: given.pop(name) for name in list(given) if name in DEFAULT_LIMITS}
    return {"faults": faults, "limits": limits or None, **given}


@pytest.fixture
def sunco_sandbox(request: pytest.FixtureRequest) -> Iterator[SunCoSandbox]:
    """A fresh, stateful Sunshine Conversations sandbox on 127.0.0.1 for this test."""
    from conformance.sandbox import Sandbox

    chosen = _options(request.node)
    with Sandbox(**chosen) as running:
        handle = SunCoSandbox(
            url=running.url,
            app_id=running.app_id,
            key_id=running.key_id,
            key_secret=running.key_secret,
            account_key_id=running.account_key_id,
            account_key_secret=running.account_key_secret,
            faults=chosen["faults"],
        )
        try:
            yield handle
        finally:
            handle.close()


def _anything(_: object) -> bool:
    return True


def _type(event: Any) -> Any:
    return event.get("type") if isinstance(event, dict) else None


def _events(body: bytes) -> list[Any]:
    try:
        parsed = json.loads(body)
    except ValueError:
        return []
    events = parsed.get("events") if isinstance(parsed, dict) else None
    return list(events) if isinstance(events, list) else []
