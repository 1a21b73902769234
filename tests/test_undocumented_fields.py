"""Fields the contract does not declare: found at the right pointers, never a failure, and shown by
the summary, the JSON and Markdown reports and JUnit's properties."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_checks import exchange
from test_roundtrip import PROJECT, pytest_run

from conformance.checks.exchange import check_exchange
from conformance.checks.findings import Findings
from conformance.checks.undocumented import DELIVERY_SCHEMA, in_delivery, in_exchange
from conformance.contract.importer import BASE_URI
from conformance.contract.schemas import Contract, shipped
from conformance.deliveries.inbox import schema_failures
from conformance.report.summary import UNDOCUMENTED_FIELDS, Summary

ID = "5e4af71a81966cfff3ef6550"
OTHER_ID = "5e4af71a81966cfff3ef6551"
WHEN = "2024-03-13T09:41:07.123Z"


def web(**extra: Any) -> dict[str, Any]:
    return {"id": ID, "type": "web", "status": "active", "displayName": "Web", **extra}


# (name, operation, status, body, [(where, field, example pointer)]); each body conforms otherwise.
EXCHANGES = [
    (
        "productLine and defaultResponder.id on listed integrations, indexes generalised",
        "ListIntegrations",
        200,
        {
            "integrations": [
                web(productLine="messaging"),
                web(productLine="messaging", defaultResponder={"name": "bot", "id": OTHER_ID}),
            ],
            "meta": {"hasMore": False},
        },
        [
            ("ListIntegrations", "/integrations/*/defaultResponder/id", "/integrations/1/defaultResponder/id"),
            ("ListIntegrations", "/integrations/*/productLine", "/integrations/0/productLine"),
        ],
    ),
    ("a field of the integration's own type", "GetIntegration", 200, {"integration": web(brandColor="fff")}, []),
    (
        "a field of another integration type (the discriminator decides)",
        "GetIntegration",
        200,
        {"integration": web(phoneNumberSid="PN1")},
        [("GetIntegration", "/integration/phoneNumberSid", "/integration/phoneNumberSid")],
    ),
    (
        "metadata values (additionalProperties is a schema) are declared",
        "GetUser",
        200,
        {"user": {"id": ID, "metadata": {"plan": "gold", "seats": 3, "beta": True}}},
        [],
    ),
    (
        "a device's info (additionalProperties: true) is open",
        "GetDevice",
        200,
        {"device": {"id": ID, "type": "android", "info": {"vendor": "x", "anything": {"deep": 1}}}},
        [],
    ),
    (
        "entryPoint on a message's source; the author's displayName is declared here",
        "ListMessages",
        200,
        {
            "messages": [
                {
                    "id": ID,
                    "received": WHEN,
                    "author": {
                        "type": "user",
                        "userId": OTHER_ID,
                        "displayName": "Ann",
                        "avatarUrl": "https://a.b/c.png",
                    },
                    "content": {"type": "text", "text": "hi"},
                    "source": {"type": "web", "entryPoint": "launcher"},
                }
            ],
            "meta": {"hasMore": False},
        },
        [("ListMessages", "/messages/*/source/entryPoint", "/messages/0/source/entryPoint")],
    ),
    (
        "an extra member of an error",
        "GetIntegration",
        404,
        {"errors": [{"code": "integration_not_found", "title": "Not found", "requestId": "r-1"}]},
        [("GetIntegration", "/errors/*/requestId", "/errors/0/requestId")],
    ),
]


@pytest.mark.parametrize(("name", "op", "status", "body", "expected"), EXCHANGES, ids=[e[0] for e in EXCHANGES])
def test_a_response_field_the_contract_does_not_declare_is_found_and_fails_nothing(name, op, status, body, expected):
    ex = exchange(op, status, body)
    assert check_exchange(ex) == []
    assert [(f["in"], f["field"], f["example"]) for f in in_exchange(ex)] == expected


def event(kind: str, payload: dict[str, Any], number: int = 1) -> dict[str, Any]:
    return {"id": f"65f1c0ffee0ddba11a5e00{number:02d}", "createdAt": WHEN, "type": kind, "payload": payload}


def delivery(*events: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    return {"app": {"id": ID}, "webhook": {"id": OTHER_ID, "version": "v2"}, **envelope, "events": list(events)}


CONVERSATION = {"id": ID, "type": "personal"}
MESSAGE = {"id": ID, "received": WHEN, "author": {"type": "user", "userId": OTHER_ID}, "source": {"type": "web"}}

# (name, delivery, [(where, field, example pointer)]); each delivery conforms otherwise.
DELIVERIES = [
    (
        "zendeskAccountId on the envelope",
        delivery(event("conversation:read", {"conversation": CONVERSATION}), zendeskAccountId=9876543),
        [("EventWebhooks", "/zendeskAccountId", "/zendeskAccountId")],
    ),
    (
        "brandId on the conversation; displayName and avatarUrl on the author; entryPoint on the source",
        delivery(
            event(
                "conversation:message",
                {
                    "conversation": {**CONVERSATION, "brandId": "360001"},
                    "message": {
                        **MESSAGE,
                        "author": {"type": "user", "userId": OTHER_ID, "displayName": "Ann", "avatarUrl": ""},
                        "content": {"type": "text", "text": "hi"},
                        "source": {"type": "web", "entryPoint": "launcher"},
                    },
                },
            )
        ),
        [
            ("conversation:message", "/payload/conversation/brandId", "/events/0/payload/conversation/brandId"),
            ("conversation:message", "/payload/message/author/avatarUrl", "/events/0/payload/message/author/avatarUrl"),
            (
                "conversation:message",
                "/payload/message/author/displayName",
                "/events/0/payload/message/author/displayName",
            ),
            (
                "conversation:message",
                "/payload/message/source/entryPoint",
                "/events/0/payload/message/source/entryPoint",
            ),
        ],
    ),
    (
        "selectSize on a form field, in the second event",
        delivery(
            event("conversation:read", {"conversation": CONVERSATION}),
            event(
                "conversation:message",
                {
                    "conversation": CONVERSATION,
                    "message": {
                        **MESSAGE,
                        "content": {
                            "type": "form",
                            "fields": [
                                {"type": "text", "name": "n", "label": "Name"},
                                {
                                    "type": "select",
                                    "name": "s",
                                    "label": "Size",
                                    "selectSize": 3,
                                    "options": [{"name": "m", "label": "M"}],
                                },
                            ],
                        },
                    },
                },
                2,
            ),
        ),
        [
            (
                "conversation:message",
                "/payload/message/content/fields/*/selectSize",
                "/events/1/payload/message/content/fields/1/selectSize",
            )
        ],
    ),
    (
        "previousActiveSwitchboardIntegration on passControl; metadata values are declared",
        delivery(
            event(
                "switchboard:passControl",
                {
                    "conversation": CONVERSATION,
                    "metadata": {"reason": "escalate", "priority": 2},
                    "previousActiveSwitchboardIntegration": {"id": ID, "name": "bot"},
                },
            )
        ),
        [
            (
                "switchboard:passControl",
                "/payload/previousActiveSwitchboardIntegration",
                "/events/0/payload/previousActiveSwitchboardIntegration",
            )
        ],
    ),
]


@pytest.mark.parametrize(("name", "body", "expected"), DELIVERIES, ids=[d[0] for d in DELIVERIES])
def test_a_webhook_field_the_contract_does_not_declare_is_found_by_event_type_and_fails_nothing(name, body, expected):
    assert schema_failures(body, DELIVERY_SCHEMA, where="t", what="a delivery", contract=shipped()) == []
    assert [(f["in"], f["field"], f["example"]) for f in in_delivery(shipped(), body)] == expected


def test_an_event_of_a_type_the_contract_does_not_know_fails_and_reports_no_fields():
    body = delivery(event("conversation:summary", {"conversation": CONVERSATION, "summary": "x"}), zendeskAccountId=1)
    failures = schema_failures(body, DELIVERY_SCHEMA, where="t", what="a delivery", contract=shipped())
    assert [f.pointer for f in failures] == ["/events/0/type"]
    assert [f["field"] for f in in_delivery(shipped(), body)] == ["/zendeskAccountId"]


# A small contract with the keywords the shipped one does not use yet.
SHAPE = {
    "$id": BASE_URI + "components/shape.json",
    "type": "object",
    "properties": {"kind": {"enum": ["circle", "square"]}, "tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}}},
    "patternProperties": {"^x-": {}},
    "if": {"properties": {"kind": {"const": "circle"}}},
    "then": {"properties": {"radius": {"type": "number"}}},
    "else": {"properties": {"side": {"type": "number"}}},
    "$defs": {
        "tag": {
            "oneOf": [
                {"type": "string"},
                {"type": "object", "required": ["label"], "properties": {"label": {"type": "string"}}},
            ]
        },
    },
}
FIXTURE = Contract({"components/shape.json": SHAPE}, {"operations": {}})

# (name, instance, undeclared pointers)
KEYWORDS = [
    ("then applies when the if holds", {"kind": "circle", "radius": 1, "side": 2}, ["/side"]),
    ("else applies when it does not", {"kind": "square", "radius": 1, "side": 2}, ["/radius"]),
    ("patternProperties declare the names they match", {"kind": "square", "x-note": 1, "y-note": 2}, ["/y-note"]),
    (
        "the oneOf branch an item matches",
        {"kind": "square", "tags": ["a", {"label": "b", "color": "red"}]},
        ["/tags/1/color"],
    ),
    ("every branch when none matches", {"kind": "square", "tags": [{"colour": "red"}]}, ["/tags/0/colour"]),
]


@pytest.mark.parametrize(("name", "instance", "expected"), KEYWORDS, ids=[k[0] for k in KEYWORDS])
def test_undeclared_follows_the_branches_that_apply(name, instance, expected):
    assert FIXTURE.undeclared("components/shape.json", instance) == expected


def test_findings_keep_the_fields_with_a_passing_verdict():
    findings = Findings("t.yaml", "re-record")
    body = {"integration": web(productLine="messaging")}
    findings.keep(exchange("GetIntegration", 200, body), None, [], None)
    (verdict,) = findings.verdicts
    assert verdict.ok
    assert verdict.undocumented_fields == [
        {"in": "GetIntegration", "field": "/integration/productLine", "example": "/integration/productLine"}
    ]


def test_an_answer_from_another_server_reports_no_fields():
    findings = Findings("t.yaml", "re-record")
    proxy = {"errors": [{"code": "route_not_found", "title": "No route"}], "path": "/v2/apps"}
    findings.keep(exchange("GetIntegration", 404, proxy), None, [], None)
    assert in_exchange(exchange("GetIntegration", 404, proxy))  # the body alone would report /path
    assert findings.verdicts[0].undocumented_fields == []


def field(where: str, name: str, example: str) -> dict[str, str]:
    return {"in": where, "field": name, "example": example}


def test_the_summary_lists_each_field_once_per_place_with_one_example_and_a_count(tmp_path):
    summary = Summary(None, recording=False, cassette_root=tmp_path)  # type: ignore[arg-type]
    summary.tests = {"a": "passed", "b": "passed"}
    listed = field("ListIntegrations", "/integrations/*/productLine", "/integrations/0/productLine")
    summary.verdicts = [
        {"operation": "ListIntegrations", "status": 200, "ok": True, "test": "a", "undocumented_fields": [listed]},
        {
            "operation": "ListIntegrations",
            "status": 200,
            "ok": True,
            "test": "b",
            "undocumented_fields": [{**listed, "example": "/integrations/3/productLine"}],
        },
        {
            "operation": "EventWebhooks",
            "status": 200,
            "ok": True,
            "test": "b",
            "undocumented_fields": [
                field("EventWebhooks", "/zendeskAccountId", "/zendeskAccountId"),
                field(
                    "conversation:message", "/payload/conversation/brandId", "/events/0/payload/conversation/brandId"
                ),
            ],
        },
        {"operation": "GetIntegration", "status": 200, "ok": True, "test": "a"},
    ]
    lines = summary.lines()
    start = lines.index(f"{UNDOCUMENTED_FIELDS} (3 in 3 operation(s) or event type(s)), never a failure:")
    assert lines[start + 1 : start + 4] == [
        "  EventWebhooks /zendeskAccountId (1 exchange)",
        "  ListIntegrations /integrations/*/productLine, e.g. /integrations/0/productLine (2 exchanges)",
        "  conversation:message /payload/conversation/brandId, e.g. /events/0/payload/conversation/brandId "
        "(1 exchange)",
    ]
    rows = summary.as_json()["undocumentedFields"]
    assert rows[1] == {**listed, "test": "a", "exchanges": 2}
    assert [row["in"] for row in rows] == ["EventWebhooks", "ListIntegrations", "conversation:message"]
    assert "| ListIntegrations | `/integrations/*/productLine` | `/integrations/0/productLine` | 2 |" in (
        summary.markdown()
    )


def test_the_summary_says_nothing_of_fields_when_there_are_none(tmp_path):
    summary = Summary(None, recording=False, cassette_root=tmp_path)  # type: ignore[arg-type]
    summary.tests = {"a": "passed"}
    summary.verdicts = [{"operation": "GetIntegration", "status": 200, "ok": True, "test": "a"}]
    assert not any(line.startswith(UNDOCUMENTED_FIELDS) for line in summary.lines())
    assert summary.as_json()["undocumentedFields"] == []
    assert "does not declare" not in summary.markdown()


# -- the whole way: a cassette whose server sent undeclared fields replays green and reports them ---

TEST = "test_webhooks_deliver_the_events_they_subscribe_to"


def with_undeclared_fields(source: Path, target: Path) -> None:
    """The shipped cassette, with productLine on the integration its first exchange creates and
    zendeskAccountId on its first recorded delivery."""
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    for interaction in data["interactions"]:
        response = interaction["response"]
        body = json.loads(response["body"]["string"] or "null")
        if isinstance(body, dict) and isinstance(body.get("integration"), dict):
            body["integration"]["productLine"] = "messaging"
            response["body"]["string"] = json.dumps(body, separators=(",", ":"))
            response["headers"]["Content-Length"] = [str(len(response["body"]["string"].encode()))]
            break
    else:
        raise AssertionError("the cassette creates no integration")
    data["metadata"]["webhooks"]["deliveries"][0]["body"]["zendeskAccountId"] = 9876543
    target.parent.mkdir(parents=True)
    target.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def test_a_replay_with_undeclared_fields_passes_and_every_report_names_them(tmp_path):
    folder = tmp_path / "cassettes"
    with_undeclared_fields(
        PROJECT / "cassettes" / "test_webhooks" / f"{TEST}.yaml", folder / "test_webhooks" / f"{TEST}.yaml"
    )
    report, page, junit = tmp_path / "r.json", tmp_path / "r.md", tmp_path / "junit.xml"
    result = pytest_run(
        "conformance/suites/test_webhooks.py",
        "-k",
        TEST,
        f"--cassette-dir={folder}",
        "--cassette-cache=off",
        f"--conformance-report={report}",
        f"--conformance-markdown={page}",
        f"--junitxml={junit}",
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "conformance tests: 1 passed, 0 failed" in result.stdout
    assert "  CreateIntegration /integration/productLine (1 exchange)" in result.stdout
    assert "  EventWebhooks /zendeskAccountId (1 exchange)" in result.stdout
    rows = {(row["in"], row["field"]) for row in json.loads(report.read_text())["undocumentedFields"]}
    assert {("CreateIntegration", "/integration/productLine"), ("EventWebhooks", "/zendeskAccountId")} <= rows
    assert "| EventWebhooks | `/zendeskAccountId` | `/zendeskAccountId` | 1 |" in page.read_text()
    # The verdicts travel as JSON user properties: what JUnit (and xdist) carry.
    carried = [
        json.loads(prop.get("value", "[]"))
        for prop in ET.parse(junit).iter("property")  # noqa: S314 - the JUnit file this test just wrote
        if prop.get("name") == "conformance"
    ]
    fields = {
        entry["field"] for verdicts in carried for verdict in verdicts for entry in verdict["undocumented_fields"]
    }
    assert {"/integration/productLine", "/zendeskAccountId"} <= fields
