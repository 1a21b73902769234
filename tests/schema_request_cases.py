"""Data-driven cases for the request schemas: create bodies and update bodies, valid and invalid."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from schema_support import CREATE, MINIMAL_CREATE, TYPES, UPDATE, Case, webhook, with_, without

CREATE_REQUIRED: dict[str, tuple[str, ...]] = {
    "apple": ("businessId", "apiSecret", "mspId"),
    "custom": ("webhooks",),
    "instagram": ("pageAccessToken", "appId", "appSecret"),
    "mailgun": ("apiKey", "domain", "incomingAddress"),
    "messagebird": ("accessKey", "signingKey", "originator"),
    "messenger": ("pageAccessToken", "appId", "appSecret"),
    "telegram": ("token",),
    "twilio": ("accountSid", "authToken"),
    "twitter": ("tier", "consumerKey", "consumerSecret", "accessTokenKey", "accessTokenSecret"),
    "viber": ("token",),
}
# Write-only credentials the spec marks nullable, but which a create call requires.
NULLABLE_BUT_REQUIRED = (
    ("instagram", "pageAccessToken"),
    ("instagram", "appSecret"),
    ("mailgun", "apiKey"),
    ("messagebird", "accessKey"),
    ("messagebird", "signingKey"),
    ("messenger", "pageAccessToken"),
    ("messenger", "appSecret"),
    ("telegram", "token"),
    ("twilio", "authToken"),
    ("twitter", "consumerSecret"),
    ("twitter", "accessTokenSecret"),
    ("viber", "token"),
)


def create_cases() -> Iterator[Case]:
    for t, body in MINIMAL_CREATE.items():
        yield Case(f"minimal {t}", CREATE, body, True)
        yield Case(f"{t} with a display name", CREATE, with_(body, displayName="Support"), True)
        yield Case(f"{t} with a null display name", CREATE, with_(body, displayName=None), True)
        yield Case(f"{t} with an empty display name", CREATE, with_(body, displayName=""), False)
        for field in CREATE_REQUIRED.get(t, ()):
            yield Case(f"{t} without {field}", CREATE, without(body, field), False)
    for t, field in NULLABLE_BUT_REQUIRED:
        yield Case(f"{t} with null {field}", CREATE, with_(MINIMAL_CREATE[t], **{field: None}), False)
    web = MINIMAL_CREATE["web"]
    custom = MINIMAL_CREATE["custom"]
    yield from [
        Case("empty body", CREATE, {}, False),
        Case("not an object", CREATE, [], False),
        Case("missing type", CREATE, {"displayName": "Support"}, False),
        Case("unknown type", CREATE, {"type": "carrier-pigeon"}, False),
        Case("type of the wrong kind", CREATE, {"type": 7}, False),
        Case("display name of 100 chars", CREATE, with_(web, displayName="x" * 100), True),
        Case("display name of 101 chars", CREATE, with_(web, displayName="x" * 101), False),
        Case("display name that is a number", CREATE, with_(web, displayName=123), False),
        Case("unknown extra field", CREATE, with_(web, somethingNew=True), True),
        Case("read-only status is still type-checked", CREATE, with_(web, status="asleep"), False),
        Case("android private key may be null", CREATE, {"type": "android", "privateKey": None}, True),
        Case("android private key may not be empty", CREATE, {"type": "android", "privateKey": ""}, False),
        Case("custom with no webhooks", CREATE, with_(custom, webhooks=[]), False),
        Case("custom with two webhooks", CREATE, with_(custom, webhooks=[webhook(), webhook()]), False),
        Case("custom webhook without triggers", CREATE, with_(custom, webhooks=[{"target": "x"}]), False),
        Case(
            "custom webhook with full user",
            CREATE,
            with_(custom, webhooks=[webhook(includeFullUser=True, secret="s")]),
            True,
        ),
        Case(
            "twitter tier other than enterprise",
            CREATE,
            with_(MINIMAL_CREATE["twitter"], tier="premium"),
            False,
        ),
        Case("twilio auth token empty", CREATE, with_(MINIMAL_CREATE["twilio"], authToken=""), False),
        Case("telegram token of the wrong kind", CREATE, with_(MINIMAL_CREATE["telegram"], token=5), False),
        Case(
            "apple short auth secret",
            CREATE,
            with_(MINIMAL_CREATE["apple"], authenticationMessageSecret="x"),
            False,
        ),
        Case("web with brand color", CREATE, with_(web, brandColor="65758e"), True),
        Case("web integration order null", CREATE, with_(web, integrationOrder=None), True),
        Case("web integration order of numbers", CREATE, with_(web, integrationOrder=[1]), False),
        Case(
            "web prechat capture",
            CREATE,
            with_(
                web,
                prechatCapture={"enabled": True, "fields": [{"type": "email", "name": "e", "label": "E"}]},
            ),
            True,
        ),
        Case(
            "web prechat field of unknown kind",
            CREATE,
            with_(web, prechatCapture={"fields": [{"type": "phone", "name": "p", "label": "P"}]}),
            False,
        ),
        Case(
            "web prechat field without label",
            CREATE,
            with_(web, prechatCapture={"fields": [{"type": "text", "name": "t"}]}),
            False,
        ),
        Case("show AI disclaimer not boolean", CREATE, with_(web, showAIDisclaimer="yes"), False),
        Case("default responder id null", CREATE, with_(web, defaultResponderId=None), True),
        Case("whatsapp fallback language null", CREATE, {"type": "whatsapp", "hsmFallbackLanguage": None}, True),
        Case("messenger page id is a number", CREATE, with_(MINIMAL_CREATE["messenger"], pageId="p"), False),
    ]


UPDATE_SPECIFIC: list[tuple[str, dict[str, Any], bool]] = [
    ("android", {"privateKey": None, "canUserSeeConversationList": False}, True),
    ("android", {"privateKey": ""}, False),
    ("android", {"canUserCreateMoreConversations": "yes"}, False),
    ("apple", {"authenticationMessageSecret": "x" * 88}, True),
    ("apple", {"authenticationMessageSecret": "x" * 87}, False),
    ("custom", {"displayName": None}, True),
    ("instagram", {"pageAccessToken": "pat", "storyRepliesEnabled": False}, True),
    ("instagram", {"storyMentionsEnabled": "no"}, False),
    ("ios", {"certificate": "Y2VydA==", "production": True}, True),
    ("ios", {"production": "yes"}, False),
    ("line", {"showAIDisclaimer": "no"}, False),
    ("mailgun", {"fromAddress": None, "hideUnsubscribeLink": True}, True),
    ("mailgun", {"fromAddress": ""}, False),
    ("messagebird", {"defaultResponderId": None}, True),
    ("messagebird", {"defaultResponderId": 5}, False),
    ("messenger", {"pageAccessToken": "pat"}, True),
    ("messenger", {"pageAccessToken": None}, False),
    ("telegram", {"showAIDisclaimer": False}, True),
    ("twilio", {"showAIDisclaimer": 0}, False),
    ("twitter", {"defaultResponderId": "abc"}, True),
    ("unity", {"canUserSeeConversationList": 1}, False),
    ("viber", {"displayName": 5}, False),
    ("web", {"brandColor": "0099ff", "integrationOrder": None, "originWhitelist": ["https://a.test"]}, True),
    ("web", {"brandColor": 123}, False),
    ("web", {"prechatCapture": {"fields": [{"type": "phone", "name": "p", "label": "P"}]}}, False),
    ("whatsapp", {"hsmFallbackLanguage": None, "accountId": None}, True),
    ("whatsapp", {"hsmFallbackLanguage": 5}, False),
]


def update_cases() -> Iterator[Case]:
    for t in TYPES:
        schema = f"{UPDATE}#/$defs/{t}"
        yield Case(f"{t}: empty update", schema, {}, True)
        yield Case(f"{t}: rename", schema, {"displayName": "Renamed"}, True)
        yield Case(f"{t}: unset name", schema, {"displayName": None}, True)
        yield Case(f"{t}: empty name", schema, {"displayName": ""}, False)
        yield Case(f"{t}: name of 101 chars", schema, {"displayName": "x" * 101}, False)
        yield Case(f"{t}: not an object", schema, "rename", False)
    for t, data, valid in UPDATE_SPECIFIC:
        yield Case(f"{t}: {sorted(data)}", f"{UPDATE}#/$defs/{t}", data, valid)
    yield from [
        Case("any type: rename", UPDATE, {"displayName": "Renamed"}, True),
        Case("any type: empty name", UPDATE, {"displayName": ""}, False),
        Case("any type: array", UPDATE, [], False),
    ]
