"""Injected faults (``sandbox --faults PROFILE``), so users can rehearse a failing API.

The sandbox numbers the requests it receives (1, 2, …). Whether request N meets a fault, and
which, follows from the profile, the seed and N alone, so the same requests in the same order
meet the same faults on every run, and a recording against a faulty sandbox can be repeated.

When a fault strikes, relative to what the request does:

* before it acts (a latency is only a wait; 500/502/503; 429; a reset connection): the request
  did nothing, and the sandbox is as if it had never arrived;
* after it acts (a truncated or a non-JSON answer): the request took effect (a create created, a
  delete deleted) and only its answer is lost or garbled.

A fault never stops a request half-way, so the sandbox's state is always one a well request left.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from http import HTTPStatus

# How often a profile's fault strikes: one request in RATE (one in MIXED_RATE per kind in "mixed").
RATE = 5
MIXED_RATE = 40
# 429s come in bursts: in a block of BLOCK requests, one burst of 2 or 3, in one block in 2.
BLOCK = 8
BURST_CHANCE = 0.5
MIXED_BURST_CHANCE = 0.1
RETRY_AFTER = "1"
LATENCY = (0.01, 0.15)
HTML_TYPE = "text/html; charset=utf-8"
KEPT = 1000
# (status, code) of each injected error answer.
ERRORS = {
    429: "too_many_requests",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
}
BEFORE = ("status", "reset")
AFTER = ("truncated", "non-json")


@dataclass(frozen=True)
class Fault:
    """What happens to one request: ``kind`` is ``latency``, ``status``, ``reset``, ``truncated`` or ``non-json``."""

    kind: str
    status: int = 0
    retry_after: str | None = None
    delay: float = 0.0

    @property
    def before(self) -> bool:
        """The request is answered (or dropped) without acting: the sandbox's state does not change."""
        return self.kind in BEFORE

    @property
    def after(self) -> bool:
        """The request acts; only its answer is garbled."""
        return self.kind in AFTER

    def error_body(self, profile: str) -> dict[str, list[dict[str, str]]]:
        title = (
            f"The sandbox injected this {self.status} (--faults {profile}) before acting on the request, "
            "which did nothing"
        )
        return {"errors": [{"code": ERRORS[self.status], "title": title}]}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": self.retry_after} if self.retry_after is not None else {}


@dataclass(frozen=True)
class Profile:
    summary: str
    # (kind, status, retry_after) of each single fault it may inject, checked in order.
    singles: tuple[tuple[str, int, str | None], ...] = ()
    rate: int = RATE
    # Retry-After of its 429 bursts ("" for none); None when it has no bursts.
    burst: str | None = None
    burst_chance: float = BURST_CHANCE
    # Share of requests that wait first (1.0: all).
    latency: float = 0.0


PROFILES: dict[str, Profile] = {
    "latency": Profile("every answer comes 10 to 150 ms late; nothing else changes", latency=1.0),
    "http-500": Profile(f"one request in {RATE} answers 500 internal_error before acting", (("status", 500, None),)),
    "http-502": Profile(f"one request in {RATE} answers 502 bad_gateway before acting", (("status", 502, None),)),
    "http-503": Profile(
        f"one request in {RATE} answers 503 service_unavailable with Retry-After: {RETRY_AFTER} before acting",
        (("status", 503, RETRY_AFTER),),
    ),
    "rate-limit": Profile(
        f"bursts of 2 or 3 answers 429 with Retry-After: {RETRY_AFTER}, in one block of {BLOCK} requests in 2, "
        "before acting",
        burst=RETRY_AFTER,
    ),
    "rate-limit-no-retry-after": Profile(
        "the same bursts of 429 without Retry-After, so the client backs off on its own", burst=""
    ),
    "reset": Profile(
        f"one request in {RATE} has its connection reset, with no answer, before acting", (("reset", 0, None),)
    ),
    "truncated": Profile(
        f"one answer in {RATE} is cut off half-way through its body (the connection closes) after acting",
        (("truncated", 0, None),),
    ),
    "non-json": Profile(
        f"one answer in {RATE} keeps its status and headers but carries an HTML page instead of JSON, after acting",
        (("non-json", 0, None),),
    ),
    "mixed": Profile(
        f"the faults of every other profile, each to one request in {MIXED_RATE} (429 bursts in one block in "
        f"{round(1 / MIXED_BURST_CHANCE)}), and one request in 10 late",
        (
            ("status", 500, None),
            ("status", 502, None),
            ("status", 503, RETRY_AFTER),
            ("reset", 0, None),
            ("truncated", 0, None),
            ("non-json", 0, None),
        ),
        rate=MIXED_RATE,
        burst=RETRY_AFTER,
        burst_chance=MIXED_BURST_CHANCE,
        latency=0.1,
    ),
}


def check_profile(name: str) -> str:
    """``name`` when it is a profile; ValueError listing the allowed ones otherwise."""
    if name not in PROFILES:
        raise ValueError(f"no fault profile {name!r}: use one of {', '.join(PROFILES)}")
    return name


def decide(name: str, seed: int, number: int) -> Fault | None:
    """The fault request ``number`` (from 1) meets under profile ``name`` and ``seed``, or None."""
    profile = PROFILES[name]
    draw = random.Random(f"{name}:{seed}:{number}")
    delay = 0.0
    if profile.latency and draw.random() < profile.latency:
        delay = round(draw.uniform(*LATENCY), 3)
    if profile.burst is not None and _in_burst(name, seed, number, profile.burst_chance):
        return Fault("status", 429, profile.burst or None, delay)
    for kind, status, retry_after in profile.singles:
        if draw.randrange(profile.rate) == 0:
            return Fault(kind, status, retry_after, delay)
    return Fault("latency", delay=delay) if delay else None


def _in_burst(name: str, seed: int, number: int, chance: float) -> bool:
    """Requests are taken in blocks; a block holds at most one burst and ends with a request outside
    it, so bursts never run together and the client's attempts always outlast one."""
    block, offset = divmod(number - 1, BLOCK)
    draw = random.Random(f"{name}:{seed}:burst:{block}")
    if draw.random() >= chance:
        return False
    length = draw.choice((2, 3))
    start = draw.randrange(BLOCK - length)
    return start <= offset < start + length


class FaultPlan:
    """The faults of one sandbox: numbers its requests and says what each one meets."""

    def __init__(self, profile: str, seed: int = 0) -> None:
        self.profile = check_profile(profile)
        self.seed = seed
        self._count = 0
        self._lock = threading.Lock()
        # (request number, fault) of the latest faults injected, for tests and the curious.
        self.injected: deque[tuple[int, Fault]] = deque(maxlen=KEPT)

    def next(self) -> Fault | None:
        with self._lock:
            self._count += 1
            number = self._count
            fault = decide(self.profile, self.seed, number)
            if fault is not None:
                self.injected.append((number, fault))
        return fault

    @property
    def summary(self) -> str:
        return PROFILES[self.profile].summary


def html_page(status: int, profile: str) -> bytes:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return (
        f"<!DOCTYPE html><html><head><title>{status} {phrase}</title></head><body><h1>{status} {phrase}</h1>"
        f"<p>sunco-sandbox (--faults {profile}): an HTML page instead of JSON; the request took effect.</p>"
        "</body></html>"
    ).encode()


def truncated(chunks: Iterable[bytes], stop: Exception) -> Iterator[bytes]:
    """The first half of a body, then ``stop`` raised where the rest would be."""
    data = b"".join(chunks)
    if data[: len(data) // 2]:
        yield data[: len(data) // 2]
    raise stop
