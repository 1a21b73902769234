"""check-payload: a captured response, webhook event or whole delivery checked against the contract."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from run_support import clean_env
from test_roundtrip import PROJECT

from conformance.__main__ import PROG, main

COMMAND = f"{PROG} check-payload"
ID = "5e4af71a81966cfff3ef6550"
OTHER_ID = "5e4af71a81966cfff3ef6551"
WHEN = "2024-03-13T09:41:07.123Z"
CONVERSATION = {"id": ID, "type": "personal"}


def event(kind: str, payload: dict[str, Any], number: int = 1) -> dict[str, Any]:
    return {"id": f"65f1c0ffee0ddba11a5e00{number:02d}", "createdAt": WHEN, "type": kind, "payload": payload}


def message(**changes: Any) -> dict[str, Any]:
    return {
        "id": ID,
        "received": WHEN,
        "author": {"type": "user", "userId": OTHER_ID},
        "content": {"type": "text", "text": "Hello"},
        "source": {"type": "web"},
        **changes,
    }


def delivery(*events: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    return {"app": {"id": ID}, "webhook": {"id": OTHER_ID, "version": "v2"}, **envelope, "events": list(events)}


READ = event("conversation:read", {"conversation": CONVERSATION}, 1)
MESSAGE = event("conversation:message", {"conversation": CONVERSATION, "message": message()}, 2)
BAD_AUTHOR = event(
    "conversation:message", {"conversation": CONVERSATION, "message": message(author={"type": "robot"})}, 3
)
INTEGRATIONS = {"integrations": [{"id": ID, "type": "web", "productLine": "messaging"}], "meta": {"hasMore": False}}


def run(tmp_path: Path, payload: Any, *options: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    file = tmp_path / "payload.json"
    file.write_text(payload if isinstance(payload, str) else json.dumps(payload), encoding="utf-8")
    try:
        status = main(["check-payload", str(file), *options])
    except SystemExit as stop:
        status = stop.code if isinstance(stop.code, int) else 1
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# (name, payload, options, exit status, lines the output holds, in order)
VERDICTS = [
    (
        "a conforming delivery with an undeclared envelope field",
        delivery(READ, MESSAGE, zendeskAccountId=9876543),
        [],
        0,
        [
            "checked {file} as a webhook delivery with 2 events, against ",
            "fields the contract does not declare (never a failure):",
            "  EventWebhooks /zendeskAccountId",
            "conforms: EventWebhooks envelope (1 field the contract does not declare)",
            "conforms: /events/0 conversation:read",
            "conforms: /events/1 conversation:message",
        ],
    ),
    (
        "a delivery whose third event breaks its schema",
        delivery(READ, MESSAGE, BAD_AUTHOR),
        [],
        1,
        [
            "EventWebhooks (POST payload.json) sent a delivery that breaks "
            "operations/EventWebhooks.json#/$defs/request-json.",
            "  pointer   : /events/2/payload/message/author/type",
            "conforms: EventWebhooks envelope",
            "conforms: /events/0 conversation:read",
            "conforms: /events/1 conversation:message",
            "does not conform (1 failure): /events/2 conversation:message",
        ],
    ),
    (
        "a conforming response with an undeclared field in a list item",
        INTEGRATIONS,
        ["--operation", "ListIntegrations"],
        0,
        [
            "checked {file} as a ListIntegrations 200 response, against ",
            "  ListIntegrations /integrations/*/productLine, e.g. /integrations/0/productLine",
            "conforms: ListIntegrations 200 (1 field the contract does not declare)",
        ],
    ),
    (
        "a response that breaks its schema",
        {"integrations": [], "meta": {"hasMore": "no"}},
        ["--operation", "ListIntegrations", "--status", "200"],
        1,
        [
            "ListIntegrations (GET /v2/apps/{appId}/integrations) answered 200 with a body that breaks "
            "components/integrationListResponse.json.",
            "  pointer   : /meta/hasMore",
            "  rule      : type (/properties/meta/properties/hasMore/type in the schema): "
            "'no' is not of type 'boolean'",
            "does not conform (1 failure): ListIntegrations 200",
        ],
    ),
    (
        "a status the operation does not document",
        {"errors": [{"code": "internal_error", "title": "Oops"}]},
        ["--operation", "ListIntegrations", "--status", "500"],
        1,
        [
            "  rule      : the status must be one the operation documents",
            "does not conform (1 failure): ListIntegrations 500",
        ],
    ),
    (
        "one event, checked as the type --event names",
        MESSAGE,
        ["--event", "conversation:message"],
        0,
        ["checked {file} as one conversation:message event, against "],
    ),
    (
        "one event of another type than --event says",
        READ,
        ["--event", "conversation:message"],
        1,
        [
            "EventWebhooks (POST payload.json) sent an event whose type is not conversation:message.",
            "  pointer   : /type",
            "  actual    : conversation:read",
            "does not conform (1 failure): conversation:message",
        ],
    ),
]


@pytest.mark.parametrize(
    ("name", "payload", "options", "status", "lines"), VERDICTS, ids=[case[0] for case in VERDICTS]
)
def test_check_payload_prints_failures_fields_and_one_line_per_verdict(
    name, payload, options, status, lines, tmp_path, capsys
):
    code, out, err = run(tmp_path, payload, *options, capsys=capsys)
    assert (code, err) == (status, "")
    shown = out.splitlines()
    # The first line names the file as given and the contract's folder as it is reached from here.
    found = [
        next(
            n
            for n, got in enumerate(shown)
            if got == line or got.startswith(line.replace("{file}", str(tmp_path / "payload.json")))
        )
        for line in lines
    ]
    assert found == sorted(found), out
    verdicts = [line for line in shown if line.startswith(("conforms: ", "does not conform "))]
    assert len(verdicts) == (len(payload["events"]) + 1 if "events" in payload and not options else 1)


def test_check_payload_reads_a_file_saved_with_a_byte_order_mark(tmp_path, capsys):
    code, out, _ = run(tmp_path, "\ufeff" + json.dumps(delivery(READ)), capsys=capsys)
    assert code == 0
    assert out.splitlines()[-1] == "conforms: /events/0 conversation:read"


def test_a_failure_reads_as_the_suite_writes_it_with_a_next_step(tmp_path, capsys):
    _, out, _ = run(tmp_path, delivery(BAD_AUTHOR), capsys=capsys)
    for label in ("pointer", "rule", "expected", "actual", "next step"):
        assert any(line.startswith(f"  {label.ljust(9)} : ") for line in out.splitlines()), (label, out)
    assert "enum (" in out
    assert "'robot' is not one of ['business', 'user']" in out


# (name, payload, options, what the one line says)
USAGE = [
    ("a file that is not JSON", "{not json", [], "payload.json is not JSON: "),
    (
        "a body that is no delivery, without options",
        INTEGRATIONS,
        [],
        'is not a webhook delivery (no "events" list): say what it is with --operation OP [--status N] or --event TYPE',
    ),
    (
        "an unknown operation gets close matches",
        INTEGRATIONS,
        ["--operation", "ListIntegration"],
        "unknown operation 'ListIntegration'; did you mean: ListIntegrations",
    ),
    (
        "an unknown event type gets the allowed ones",
        MESSAGE,
        ["--event", "conversation:summary"],
        "unknown event type 'conversation:summary'; choose one of: client:add, client:remove",
    ),
    (
        "--operation and --event together",
        MESSAGE,
        ["--operation", "GetApp", "--event", "conversation:message"],
        "not both",
    ),
    ("--status without --operation", MESSAGE, ["--status", "200"], "--status goes with --operation"),
    (
        "a delivery named as an operation",
        delivery(READ),
        ["--operation", "EventWebhooks"],
        "EventWebhooks is a webhook delivery: give it without --operation, or one event with --event TYPE",
    ),
    ("a --schema-dir that is no import", MESSAGE, ["--schema-dir", "/"], "--schema-dir / holds no index.json"),
    (
        "a status that is not a number",
        INTEGRATIONS,
        ["--operation", "ListIntegrations", "--status", "ok"],
        "invalid int",
    ),
]


@pytest.mark.parametrize(("name", "payload", "options", "said"), USAGE, ids=[case[0] for case in USAGE])
def test_check_payload_usage_error_is_one_line_exit_2(name, payload, options, said, tmp_path, capsys):
    code, out, err = run(tmp_path, payload, *options, capsys=capsys)
    assert code == 2
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith(f"{COMMAND}: error: ")
    assert line.endswith(f"(see {COMMAND} --help)")
    assert said in line


def test_check_payload_of_a_missing_file_is_one_line_exit_2_without_a_traceback(tmp_path):
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "conformance", "check-payload", str(tmp_path / "missing.json")],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{COMMAND}: error: cannot read {tmp_path / 'missing.json'}: No such file or directory (see {COMMAND} --help)"
    ]


def test_check_payload_honours_schema_dir(tmp_path, capsys):
    """Another import is what the payload is held to: one that declares a conversation's brandId."""
    folder = tmp_path / "schemas"
    shutil.copytree(PROJECT / "schemas", folder)
    conversation = folder / "components" / "conversationTruncated.json"
    schema = json.loads(conversation.read_text())
    schema["properties"]["brandId"] = {"type": "string"}
    conversation.write_text(json.dumps(schema))
    payload = delivery(event("conversation:read", {"conversation": {**CONVERSATION, "brandId": "360001"}}))
    _, out, _ = run(tmp_path, payload, capsys=capsys)
    assert "  conversation:read /payload/conversation/brandId, e.g. /events/0/payload/conversation/brandId" in out
    code, out, _ = run(tmp_path, payload, "--schema-dir", str(folder), capsys=capsys)
    assert code == 0
    assert f"against {folder}/" in out.splitlines()[0]
    assert "brandId" not in out
    # The other import was the one run's only: the same process holds the next payload to schemas/ again.
    _, out, _ = run(tmp_path, payload, capsys=capsys)
    assert "/payload/conversation/brandId" in out
    assert f"against {folder}/" not in out


def test_check_payload_prints_no_secret(tmp_path, capsys, monkeypatch):
    """A secret the payload holds, or one the SUNCO_* settings name, never reaches the output."""
    monkeypatch.setenv("SUNCO_KEY_SECRET", "configured-secret-value-0123456789")
    hook = {"id": ID, "secret": "payload-secret-value-0123456789", "note": "configured-secret-value-0123456789"}
    # A list where an object belongs: the failure's actual value is the whole webhook.
    code, out, _ = run(tmp_path, {"webhook": [hook]}, "--operation", "GetWebhook", capsys=capsys)
    assert code == 1
    assert "  pointer   : /webhook" in out.splitlines()
    assert '"id": "5e4af71a81966cfff3ef6550"' in out
    assert "payload-secret-value" not in out
    assert "configured-secret-value" not in out


def readme_section() -> str:
    text = (PROJECT / "README.md").read_text(encoding="utf-8")
    return text.split("## Checking a captured payload", 1)[1].split("\n## ", 1)[0]


def test_the_readme_example_gives_the_output_the_readme_shows(tmp_path, capsys, monkeypatch):
    section = readme_section()
    payload = section.split("```json\n", 1)[1].split("```", 1)[0]
    shown = section.split("$ python -m conformance check-payload delivery.json\n", 1)[1].split("$ echo $?", 1)[0]
    monkeypatch.chdir(PROJECT)
    code, out, _ = run(tmp_path, json.loads(payload), capsys=capsys)
    assert code == int(section.split("$ echo $?\n", 1)[1].split("\n", 1)[0])
    assert out.replace(str(tmp_path / "payload.json"), "delivery.json") == shown
