"""Apps and app keys: names a person would give them."""

from __future__ import annotations

from conformance.session import runs
from conformance.variants.strategies import Hints, safe_text

RESOURCES = ("app", "appKey")


def hints(name: str, role: str) -> Hints:
    return Hints({"displayName": safe_text(1, 30).map(runs.tag)})
