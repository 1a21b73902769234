"""Integrations: the tests the resource table implies, and the rules the vendor states only in prose."""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.contract.resources import resource
from conformance.model import Expect, Variant
from conformance.session.session import ConformanceSession
from conformance.suites.flows import Records, shape_hints, valid_bodies
from conformance.suites.generic.generated import Generated

GENERATED = Generated("integration")

INTEGRATION = resource("integration")


def _broken(kind: str, label: str, change: dict[str, object], drop: tuple[str, ...] = ()) -> st.SearchStrategy[Variant]:
    bodies = valid_bodies(INTEGRATION, hints=shape_hints(INTEGRATION, kind))
    return bodies.map(
        lambda body: Variant(
            label,
            {**{k: v for k, v in body.items() if k not in drop}, **change},
            Expect(400, "bad_request"),
        )
    )


def test_create_integration_rejects_bodies_breaking_prose_rules(sunco: ConformanceSession) -> None:
    """Rules the documentation states in words, which the overlay turns into schema rules."""
    records = Records(sunco, INTEGRATION)
    rules = st.tuples(
        _broken(
            "twilio",
            "twilio without phoneNumberSid or messagingServiceSid",
            {},
            ("phoneNumberSid", "messagingServiceSid"),
        ),
        _broken(
            "mailgun", "mailgun incomingAddress at another domain", {"incomingAddress": "inbox@elsewhere.example.org"}
        ),
        _broken("line", "line channelId without channelSecret", {"channelId": "1286564967"}, ("channelSecret",)),
        _broken("web", "web brandColor that is not a hex colour", {"brandColor": "blue"}),
        _broken("web", "web displayStyle that is neither button nor tab", {"displayStyle": "popup"}),
        _broken("web", "web originWhitelist entry that is not an http(s) origin", {"originWhitelist": ["example.com"]}),
        _broken(
            "custom",
            "custom webhook with an undocumented trigger",
            {"webhooks": [{"target": "https://example.com/hooks/x", "triggers": ["conversation:nonsense"]}]},
        ),
    ).map(list)
    for variant in sunco.variants("prose-rules", rules, 7):
        records.create(variant)
    sunco.finish()
