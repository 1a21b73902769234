"""Integrations: plausible values for the fields a schema describes only as text, and prose-only rules."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from conformance.session import runs
from conformance.variants.strategies import Hints, hex_id, safe_text

RESOURCES = ("integration",)

TRIGGERS = ("conversation:message", "conversation:read", "conversation:create", "conversation:postback")
_HEX6 = st.text(alphabet="0123456789abcdef", min_size=6, max_size=6)
_URL = safe_text(1, 12).map(lambda slug: f"https://example.com/assets/{slug}.png")
_HOST = safe_text(1, 10).map(lambda name: f"{name.strip('.-_') or 'www'}.example.com")

VALUES: dict[str, st.SearchStrategy[Any]] = {
    "displayName": safe_text(1, 40).map(runs.tag),
    "target": safe_text(1, 12).map(lambda slug: f"https://example.com/hooks/{slug}"),
    "triggers": st.lists(st.sampled_from(TRIGGERS), min_size=1, max_size=3, unique=True),
    "domain": _HOST.map(lambda host: "mail." + host),
    "accountSid": hex_id().map(lambda h: "AC" + h + "00000000"),
    "phoneNumberSid": hex_id().map(lambda h: "PN" + h + "00000000"),
    "messagingServiceSid": hex_id().map(lambda h: "MG" + h + "00000000"),
    "brandColor": _HEX6,
    "conversationColor": _HEX6,
    "actionColor": _HEX6,
    "buttonIconUrl": _URL,
    "businessIconUrl": _URL,
    "backgroundImageUrl": _URL,
    "buttonWidth": st.sampled_from(["48", "58", "64"]),
    "buttonHeight": st.sampled_from(["48", "58", "64"]),
    "originWhitelist": st.lists(_HOST.map(lambda host: f"https://{host}"), min_size=1, max_size=2),
    "hsmFallbackLanguage": st.sampled_from(["en_US", "fr_FR", "de_DE"]),
    "businessName": safe_text(1, 40),
}
# Fields that must name something that exists elsewhere (a responder, other integrations, an
# account), so a generated value would be refused for reasons the contract cannot state.
NAMES_OTHER_THINGS = frozenset(
    {"defaultResponderId", "integrationOrder", "prechatCapture", "accountId", "fromAddress", "secret"}
)
# On update, credentials a live channel verifies are left alone too.
UPDATE_SKIPPED = NAMES_OTHER_THINGS | frozenset(
    {"accountManagementAccessToken", "pageAccessToken", "authenticationMessageSecret"}
)


def _mail_address_on_domain(body: dict[str, Any]) -> dict[str, Any]:
    # Mailgun's incoming address must be an address at its domain.
    if body.get("type") == "mailgun" and isinstance(body.get("domain"), str):
        body = {**body, "incomingAddress": f"inbox@{body['domain']}"}
    return body


def hints(name: str, role: str) -> Hints:
    if role == "update":
        return Hints(VALUES, skip=UPDATE_SKIPPED)
    return Hints(VALUES, skip=NAMES_OTHER_THINGS, fix=_mail_address_on_domain)


def shape_hints(name: str, shape: str, role: str) -> Hints:
    # Twilio needs a phone number or a messaging service; the phone number is the common set-up.
    if shape == "twilio" and role == "create":
        return Hints(always=frozenset({"phoneNumberSid"}))
    return Hints()


def parent_hints(name: str, child: str) -> Hints:
    # Webhooks and integration API keys belong to custom integrations.
    return Hints({"type": st.just("custom")})
