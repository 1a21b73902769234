"""Switchboards and switchboard integrations: names a control protocol can use, and integrations that exist.

A switchboard integration links an integration of the app. Generated bodies link Zendesk's
built-in Agent Workspace by its type, which every app has; the flows link custom integrations
they create by id. References to other switchboard integrations (a default, a next) are left to
the flows, which create what they name.
"""

from __future__ import annotations

import string

from hypothesis import strategies as st

from conformance.variants.strategies import Hints

RESOURCES = ("switchboard", "switchboardIntegration")

# Zendesk's Agent Workspace, built into every app that Zendesk serves (the vendor's own example).
BUILT_IN_TYPE = "zd:agentWorkspace"
NAME_ALPHABET = string.ascii_letters + string.digits + "-_"
# Fields that must name a record elsewhere: a generated value would name nothing.
NAMES_OTHER_RECORDS = frozenset({"integrationId", "nextSwitchboardIntegrationId", "defaultSwitchboardIntegrationId"})


def names() -> st.SearchStrategy[str]:
    return st.text(alphabet=NAME_ALPHABET, min_size=1, max_size=20).map(lambda text: "conformance-" + text)


def hints(name: str, role: str) -> Hints:
    if name == "switchboard":
        # Enabling needs a default switchboard integration; the flows enable it once they made one.
        return Hints({"enabled": st.just(False)}, skip=NAMES_OTHER_RECORDS)
    always = frozenset({"integrationType"}) if role == "create" else frozenset()
    return Hints(
        {"name": names(), "integrationType": st.just(BUILT_IN_TYPE)},
        skip=NAMES_OTHER_RECORDS,
        always=always,
    )
