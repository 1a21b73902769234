"""Data-driven cases for the response, error and query schemas, valid and invalid."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from schema_support import CURSOR, MINIMAL_CREATE, TYPES, Case, webhook, with_, without

from conformance.spec.schemas import write_only_fields


def response_body(integration_type: str) -> dict[str, Any]:
    """What the API could answer for a minimal create: the body minus write-only fields, plus ids."""
    secret = write_only_fields(f"integration.json#/$defs/{integration_type}")
    body = {k: v for k, v in MINIMAL_CREATE[integration_type].items() if k not in secret}
    return {"id": CURSOR, "status": "active", "displayName": None, **body}


def full_web() -> dict[str, Any]:
    return {
        "id": CURSOR,
        "type": "web",
        "status": "active",
        "displayName": "Web",
        "brandColor": "65758e",
        "integrationOrder": None,
        "canUserSeeConversationList": True,
        "attachmentsEnabled": True,
        "showAIDisclaimer": True,
        "defaultResponder": {
            "name": "Bot",
            "integrationId": CURSOR,
            "integrationType": "zd:agentWorkspace",
            "deliverStandbyEvents": False,
            "nextSwitchboardIntegrationId": None,
            "messageHistoryCount": 10,
            "inherited": True,
        },
        "prechatCapture": {"enabled": False, "fields": []},
    }


def response_cases() -> Iterator[Case]:
    single = "integration.response.json"
    listed = "integration-list.response.json"
    for t in TYPES:
        yield Case(f"{t} response without write-only fields", single, {"integration": response_body(t)}, True)
    web = full_web()
    page = {"hasMore": True, "afterCursor": CURSOR}
    yield from [
        Case("full web response", single, {"integration": web}, True),
        Case("missing integration", single, {}, False),
        Case("integration without type", single, {"integration": without(web, "type")}, False),
        Case("unknown status", single, {"integration": with_(web, status="paused")}, False),
        Case("display name of 101 chars", single, {"integration": with_(web, displayName="x" * 101)}, False),
        Case("null default responder", single, {"integration": with_(web, defaultResponder=None)}, True),
        Case(
            "default responder of the wrong shape",
            single,
            {"integration": with_(web, defaultResponder={"inherited": "yes"})},
            False,
        ),
        Case(
            "custom with its webhook",
            single,
            {"integration": {"id": CURSOR, "type": "custom", "webhooks": [webhook(id="w", version="v2")]}},
            True,
        ),
        Case("custom with no webhooks", single, {"integration": {"type": "custom", "webhooks": []}}, False),
        Case("twitter premium tier", single, {"integration": {"type": "twitter", "tier": "premium"}}, False),
        Case(
            "whatsapp with a phone number",
            single,
            {"integration": {"type": "whatsapp", "phoneNumber": "+15550100"}},
            True,
        ),
        Case(
            "list",
            listed,
            {"integrations": [web, response_body("twilio")], "meta": page, "links": {"next": "https://n"}},
            True,
        ),
        Case("empty list", listed, {"integrations": [], "meta": {"hasMore": False}, "links": {}}, True),
        Case("list without integrations", listed, {"meta": {"hasMore": False}}, False),
        Case("list with a broken item", listed, {"integrations": [{"displayName": "x"}]}, False),
        Case("list with bad meta", listed, {"integrations": [], "meta": {"hasMore": "no"}}, False),
        Case("delete body", "empty.response.json", {}, True),
        Case("delete body not an object", "empty.response.json", [], False),
    ]


def error_cases() -> Iterator[Case]:
    schema = "error-response.json"
    yield from [
        Case("one error", schema, {"errors": [{"code": "bad_request", "title": "Invalid type"}]}, True),
        Case("missing title", schema, {"errors": [{"code": "bad_request"}]}, False),
        Case("missing code", schema, {"errors": [{"title": "Invalid type"}]}, False),
        Case("numeric code", schema, {"errors": [{"code": 400, "title": "Invalid type"}]}, False),
        Case("no errors", schema, {"errors": []}, False),
        Case("no errors key", schema, {}, False),
    ]


def query_cases() -> Iterator[Case]:
    query = "integration-list.query.json"
    page = "pagination.json#/$defs/page-query"
    yield from [
        Case("no query", query, {}, True),
        Case(
            "full query",
            query,
            {"page[after]": CURSOR, "page[size]": "10", "filter[types]": "custom,web"},
            True,
        ),
        Case("before cursor", query, {"page[before]": CURSOR}, True),
        Case("both cursors", query, {"page[after]": CURSOR, "page[before]": CURSOR}, False),
        Case("short cursor", query, {"page[after]": CURSOR[:-1]}, False),
        Case("size not digits", query, {"page[size]": "ten"}, False),
        Case("size as a number", query, {"page[size]": 10}, False),
        Case("unknown parameter", query, {"sort": "asc"}, False),
        Case("page object", page, {"after": CURSOR, "size": 100}, True),
        Case("page size 0", page, {"size": 0}, False),
        Case("page size 101", page, {"size": 101}, False),
        Case("page size as string", page, {"size": "10"}, False),
        Case("page both cursors", page, {"after": CURSOR, "before": CURSOR}, False),
    ]
