"""The scrubber on large texts, for ``python -m conformance bench``: free text of 1 MB and 10 MB
holding secrets, their encoded forms and fragments, scrubbed as a failure or a cut-off body would be.

Its cost per MB at both sizes is printed side by side: a linear scrubber costs the same per MB at
10 MB as at 1 MB. Every planted secret must be gone, or the figures mean nothing.
"""

from __future__ import annotations

import base64
import random
import string
import time
from collections.abc import Sequence
from typing import Any

from conformance.scrubbing.scrubber import Scrubber
from conformance.tools.bench_replay import SETTINGS, Progress

SCRUB_SIZES = (1_000_000, 10_000_000)
# A planted secret (or a form or fragment of one) about this often.
EVERY = 50_000
WORDS = ("conversation", "message", "integration", '"displayName":', '"id":', "{", "}", "author", "content", "text")


class ScrubMismatch(AssertionError):
    """A planted secret survived the scrubber: the figures would time a scrubber that does not work."""


def secrets(seed: int = 0) -> list[str]:
    """The bench's settings' secrets and a few more as a run learns them (tokens, key secrets)."""
    rng = random.Random(seed)
    learned = ["".join(rng.choice(string.ascii_letters + string.digits) for _ in range(40)) for _ in range(10)]
    return [str(value) for value in SETTINGS.secrets] + learned


def plant(secret: str, kind: int) -> str:
    if kind == 0:
        return secret
    if kind == 1:
        return base64.b64encode(secret.encode()).decode().rstrip("=")
    return secret[3:23]  # a fragment, as an error title cut short would echo


def sample_text(size: int, planted: Sequence[str], seed: int = 0) -> str:
    """About ``size`` characters of JSON-ish words with a planted secret, form or fragment every EVERY."""
    rng = random.Random(seed)
    parts: list[str] = []
    length = 0
    while length < size:
        chunk = " ".join(rng.choice(WORDS) for _ in range(EVERY // 8))[:EVERY]
        secret = planted[len(parts) % len(planted)]
        chunk += " " + plant(secret, len(parts) % 3) + " "
        parts.append(chunk)
        length += len(chunk)
    return "".join(parts)[:size]


def time_scrub(scrubber: Scrubber, text: str, planted: Sequence[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        scrubbed = scrubber.text(text)
        best = min(best, time.perf_counter() - start)
    left = [secret for secret in planted if len(secret) > 16 and secret[3:23] in scrubbed]
    if left:
        raise ScrubMismatch(f"scrub: {len(left)} planted secret(s) survived the scrubber")
    return best


def measure_scrub(sizes: Sequence[int], repeat: int, progress: Progress) -> dict[str, dict[str, Any]]:
    """Seconds (best of ``repeat``) and MB/s per text size, keyed by the size in characters."""
    planted = secrets()
    scrubber = Scrubber(planted, fields=frozenset(), public=SETTINGS.public)
    result: dict[str, dict[str, Any]] = {}
    for size in sizes:
        progress(f"scrub: {size / 1e6:g} MB of text, best of {repeat}")
        seconds = time_scrub(scrubber, sample_text(size, planted), planted, repeat)
        result[str(size)] = {"seconds": seconds, "mb_per_s": size / 1e6 / seconds}
    return result


def per_mb_ratio(scrub: dict[str, dict[str, Any]], sizes: Sequence[int]) -> float:
    """The cost per MB at the largest size over that at the smallest: 1 for a linear scrubber."""
    small, large = min(sizes), max(sizes)
    per_mb = {size: float(scrub[str(size)]["seconds"]) / size for size in (small, large)}
    return per_mb[large] / per_mb[small]
