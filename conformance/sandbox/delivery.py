"""Webhook deliveries: each one an HTTP POST to a webhook's target, off the request path, retried within bounds.

The documented policy, compressed in time: up to 5 attempts at exponentially growing intervals
while the target answers anything but a 2xx or a non-recoverable status (400, 401, 403, 404,
406), or does not answer within the timeout. Requests never wait for a delivery, and no
delivery can stop the sandbox: a failing target only uses up its own attempts.

The sandbox delivers only to addresses on this machine: generated webhooks name example.com,
and a test must never reach the network. Other targets are recorded as skipped.
"""

from __future__ import annotations

import heapq
import http.client
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
NON_RECOVERABLE = frozenset({400, 401, 403, 404, 406})
USER_AGENT = "sunco-conformance-sandbox"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryPolicy:
    """How deliveries are attempted: the documented 5 attempts and 20 s timeout; a shorter backoff."""

    attempts: int = 5
    # seconds before the second attempt; each later one waits twice as long as the one before
    backoff: float = 1.0
    timeout: float = 20.0
    hosts: frozenset[str] = LOOPBACK
    workers: int = 2
    # most deliveries waiting at once; beyond it a delivery is dropped (and logged), never blocked on
    capacity: int = 1000

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.workers < 1 or self.capacity < 1:
            raise ValueError("attempts, workers and capacity must be at least 1")
        if self.backoff < 0 or self.timeout <= 0:
            raise ValueError("backoff must be 0 or more and timeout more than 0 seconds")


@dataclass(frozen=True)
class Delivery:
    """One POST to make: the webhook's target and secret, and the JSON body of its events."""

    target: str
    secret: str
    body: bytes
    webhook_id: str
    events: tuple[str, ...] = ()


@dataclass
class Outcome:
    """What became of a delivery: its attempts (a status, or the error's name) and its state."""

    delivery: Delivery
    attempts: list[int | str] = field(default_factory=list)
    # pending, delivered, refused (a non-recoverable status), failed (attempts used up), skipped, dropped
    state: str = "pending"


class Outbox:
    """Deliveries waiting for their next attempt, and the worker threads that make them."""

    def __init__(self, policy: DeliveryPolicy | None = None) -> None:
        self.policy = policy or DeliveryPolicy()
        self._lock = threading.Condition()
        self._due: list[tuple[float, int, Outcome]] = []
        self._order = itertools.count()
        self._in_flight = 0
        self._outcomes: list[Outcome] = []
        self._threads: list[threading.Thread] = []
        self._stopping = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self._threads:
                return
            self._stopping = False
            self._threads = [
                threading.Thread(target=self._work, name=f"sandbox-webhooks-{n}", daemon=True)
                for n in range(self.policy.workers)
            ]
        for thread in self._threads:
            thread.start()

    def stop(self, wait: float = 2.0) -> None:
        """Stop the workers; a delivery still waiting for a slow target is abandoned (its thread is a daemon)."""
        with self._lock:
            self._stopping = True
            threads, self._threads = self._threads, []
            self._lock.notify_all()
        deadline = time.monotonic() + wait
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    # -- deliveries --------------------------------------------------------------------------

    def send(self, delivery: Delivery) -> Outcome:
        """Queue a delivery; never blocks and never raises."""
        outcome = Outcome(delivery)
        with self._lock:
            self._outcomes.append(outcome)
            if not self.allowed(delivery.target):
                outcome.state = "skipped"
            elif len(self._due) >= self.policy.capacity:
                outcome.state = "dropped"
                log.warning("sandbox: %d deliveries already wait; one to %s dropped", len(self._due), delivery.target)
            else:
                heapq.heappush(self._due, (time.monotonic(), next(self._order), outcome))
                self._lock.notify()
        return outcome

    def allowed(self, target: str) -> bool:
        try:
            parts = urlsplit(target)
            return parts.scheme in ("http", "https") and (parts.hostname or "") in self.policy.hosts
        except ValueError:
            return False

    @property
    def outcomes(self) -> list[Outcome]:
        with self._lock:
            return list(self._outcomes)

    def wait(self, timeout: float) -> bool:
        """Wait until no delivery is queued, in flight or waiting to be retried; False if time ran out."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._due or self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
            return True

    # -- workers -----------------------------------------------------------------------------

    def _next(self) -> Outcome | None:
        with self._lock:
            while not self._stopping:
                if self._due and self._due[0][0] <= time.monotonic():
                    self._in_flight += 1
                    return heapq.heappop(self._due)[2]
                self._lock.wait(self._due[0][0] - time.monotonic() if self._due else None)
            return None

    def _work(self) -> None:
        while (outcome := self._next()) is not None:
            try:
                result = self._attempt(outcome.delivery)
            except Exception as error:  # a bug here must not end the worker
                log.exception("sandbox: delivery to %s failed unexpectedly", outcome.delivery.target)
                result = type(error).__name__
            with self._lock:
                self._in_flight -= 1
                outcome.attempts.append(result)
                self._settle(outcome, result)
                self._lock.notify_all()

    def _settle(self, outcome: Outcome, result: int | str) -> None:
        if isinstance(result, int) and 200 <= result < 300:
            outcome.state = "delivered"
        elif isinstance(result, int) and result in NON_RECOVERABLE:
            outcome.state = "refused"
        elif len(outcome.attempts) >= self.policy.attempts:
            outcome.state = "failed"
        else:
            delay = self.policy.backoff * 2 ** (len(outcome.attempts) - 1)
            heapq.heappush(self._due, (time.monotonic() + delay, next(self._order), outcome))

    def _attempt(self, delivery: Delivery) -> int | str:
        """POST once: the status, or the name of the error that stood in for one."""
        parts = urlsplit(delivery.target)
        kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        connection = kind(parts.hostname or "", parts.port, timeout=self.policy.timeout)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {
            "Content-Type": "application/json",
            "X-API-Key": delivery.secret,
            "User-Agent": USER_AGENT,
        }
        try:
            connection.request("POST", path, body=delivery.body, headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException) as error:
            return type(error).__name__
        finally:
            connection.close()
