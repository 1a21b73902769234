"""Apps and app keys: names a person would give them."""

from __future__ import annotations

from conformance.core.strategies import Hints, safe_text
from conformance.spec.resources import RUN_TAG

RESOURCES = ("app", "appKey")


def hints(name: str, role: str) -> Hints:
    return Hints({"displayName": safe_text(1, 30).map(lambda text: RUN_TAG + text)})
