"""Users and clients: external ids unique per run, so a live app's existing users never collide."""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.session import runs
from conformance.variants.strategies import Hints, hex_id, safe_text

RESOURCES = ("user", "client")


def hints(name: str, role: str) -> Hints:
    if name == "user":
        return Hints(
            {
                "externalId": hex_id().map(runs.tag),
                # An email always, so a user can be found by it (users are listed by email only).
                "profile": st.fixed_dictionaries(
                    {
                        "givenName": safe_text(1, 20),
                        "surname": safe_text(1, 20),
                        "email": hex_id().map(lambda h: f"conformance-{h[:12]}@example.com"),
                        "locale": st.sampled_from(["en-US", "fr-CA", "de-DE"]),
                    }
                ),
                "givenName": safe_text(1, 20),
                "surname": safe_text(1, 20),
                "email": safe_text(1, 12).map(lambda n: f"{n.strip('.') or 'user'}@example.com"),
                "locale": st.sampled_from(["en-US", "fr-CA", "de-DE"]),
            },
            skip=frozenset({"brandId", "zendeskId"}),
            # A user's profile always, with its email: a lifecycle lists users by that email, and a
            # user without one could only be listed by a filter every user matches.
            always=frozenset({"profile"}),
        )
    return Hints({"phoneNumber": st.sampled_from(["+15145550101", "+15145550102"])}, skip=frozenset({"brandId"}))
