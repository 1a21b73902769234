"""Webhooks and custom integration API keys: targets that are never called, triggers, key names.

Generated targets are on example.com, so a sandbox never delivers to them (it delivers only to
addresses on this machine) and a live app's deliveries to them go nowhere of ours. Flows that
want deliveries use the webhook receiver's URL instead (``sunco.webhooks.target``).
"""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.contract.schemas import shipped
from conformance.session import runs
from conformance.variants.strategies import Hints, safe_text

RESOURCES = ("webhook", "integrationKey")


def triggers() -> tuple[str, ...]:
    """Every documented webhook trigger, from the contract."""
    return tuple(shipped().resolve("components/triggers.json")["items"]["enum"])


def target() -> st.SearchStrategy[str]:
    return safe_text(1, 12).map(lambda slug: f"https://example.com/hooks/{slug}")


def hints(name: str, role: str) -> Hints:
    if name == "integrationKey":
        return Hints({"displayName": safe_text(1, 30).map(runs.tag)})
    return Hints(
        {
            "target": target(),
            "triggers": st.lists(st.sampled_from(triggers()), min_size=1, max_size=4, unique=True),
        }
    )
