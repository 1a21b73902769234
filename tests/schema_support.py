"""Shared pieces of the schema tests: the integration types, the request files and the case record."""

from __future__ import annotations

import copy
from typing import Any, NamedTuple

TYPES = (
    "android", "apple", "custom", "instagram", "ios", "line", "mailgun", "messagebird",
    "messenger", "telegram", "twilio", "twitter", "unity", "viber", "web", "whatsapp",
)  # fmt: skip
CREATE = "integration-create.request.json"
UPDATE = "integration-update.request.json"
CURSOR = "5e1606762556d93e9c176f69"


class Case(NamedTuple):
    description: str
    schema: str
    data: Any
    valid: bool


def webhook(**extra: Any) -> dict[str, Any]:
    return {"target": "https://example.test/hook", "triggers": ["conversation:message"], **extra}


MINIMAL_CREATE: dict[str, dict[str, Any]] = {
    "android": {"type": "android"},
    "apple": {"type": "apple", "businessId": "biz", "apiSecret": "secret", "mspId": "msp"},
    "custom": {"type": "custom", "webhooks": [webhook()]},
    "instagram": {"type": "instagram", "pageAccessToken": "pat", "appId": "app", "appSecret": "shh"},
    "ios": {"type": "ios"},
    "line": {"type": "line"},
    "mailgun": {
        "type": "mailgun",
        "apiKey": "key",
        "domain": "mg.example.test",
        "incomingAddress": "in@mg.example.test",
    },
    "messagebird": {"type": "messagebird", "accessKey": "ak", "signingKey": "sk", "originator": "+15550100"},
    "messenger": {"type": "messenger", "pageAccessToken": "pat", "appId": "app", "appSecret": "shh"},
    "telegram": {"type": "telegram", "token": "tok"},
    "twilio": {"type": "twilio", "accountSid": "AC1", "authToken": "tok", "phoneNumberSid": "PN1"},
    "twitter": {
        "type": "twitter",
        "tier": "enterprise",
        "consumerKey": "ck",
        "consumerSecret": "cs",
        "accessTokenKey": "atk",
        "accessTokenSecret": "ats",
    },
    "unity": {"type": "unity"},
    "viber": {"type": "viber", "token": "tok"},
    "web": {"type": "web"},
    "whatsapp": {"type": "whatsapp"},
}


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    merged.update(changes)
    return merged


def without(base: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in base.items() if k != key}
