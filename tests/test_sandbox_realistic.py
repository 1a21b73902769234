"""The realistic sandbox: ids and times as the live service draws them, and what it sends that the docs lack.

One scenario (integrations, a user and a client, a switchboard hand-off, messages) runs against a
realistic sandbox and against a plain one; each deviation of the profile is a row that must hold on
the first and not on the second. Answers are read as they come: whether the contract accepts them
is the round trip's business (tests/test_realistic_roundtrip.py).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from run_support import clean_env

from conformance.contract.schemas import shipped
from conformance.deliveries.receiver import Receiver
from conformance.pointer import MISSING
from conformance.pointer import resolve as at
from conformance.sandbox import Sandbox
from conformance.sandbox.delivery import DeliveryPolicy
from conformance.sandbox.realistic import REALISTIC, Deviation

FAST = DeliveryPolicy(backoff=0.01, timeout=2.0)
IDLE = 30.0
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
TRIGGERS = ["conversation:message", "client:add", "switchboard:passControl"]


class Client:
    """Calls by operationId, answers unchecked (the realistic ones break today's contract on purpose)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def __call__(self, operation_id: str, body: Any = None, **params: str) -> Any:
        op = shipped().operation(operation_id)
        url = self.sandbox.url + op.path.format(appId=self.sandbox.app_id, **params)
        auth = (self.sandbox.key_id, self.sandbox.key_secret)
        if operation_id == "CreateAppKey":
            auth = (self.sandbox.account_key_id, self.sandbox.account_key_secret)
        response = requests.request(op.method, url, json=body, auth=auth, timeout=10)
        assert response.status_code < 300, (operation_id, response.status_code, response.text)
        return response.json()


def scenario(sandbox: Sandbox, receiver: Receiver) -> dict[str, Any]:
    """Every answer and delivery the rows look at, by name."""
    call = Client(sandbox)
    out: dict[str, Any] = {}
    hook = {"target": receiver.url, "triggers": TRIGGERS, "includeFullUser": True}
    custom = call("CreateIntegration", {"type": "custom", "webhooks": [hook]})["integration"]
    out["CreateIntegration web"] = call("CreateIntegration", {"type": "web", "defaultResponderId": "responder-1"})
    out["ListIntegrations"] = call("ListIntegrations")
    out["UpdateIntegration"] = call("UpdateIntegration", {"displayName": "renamed"}, integrationId=custom["id"])
    out["CreateAppKey"] = call("CreateAppKey", {"displayName": "key"})
    user = call("CreateUser", {"externalId": "someone", "profile": {"givenName": "Ada"}})["user"]
    client = {
        "matchCriteria": {"type": "whatsapp", "integrationId": "x", "phoneNumber": "+15145550101"},
        "confirmation": {"type": "immediate"},
        "target": {"conversationId": "c"},
    }
    call("CreateClient", client, userIdOrExternalId=user["id"])
    board = call("CreateSwitchboard")["switchboard"]["id"]
    members = []
    for name in ("bot", "agent"):
        other = call("CreateIntegration", {"type": "custom", "webhooks": [{"target": receiver.url, "triggers": []}]})
        body = {"name": name, "integrationId": other["integration"]["id"]}
        members.append(call("CreateSwitchboardIntegration", body, switchboardId=board)["switchboardIntegration"])
    call("UpdateSwitchboardIntegration", {"nextSwitchboardIntegrationId": members[1]["id"]},
         switchboardId=board, switchboardIntegrationId=members[0]["id"])  # fmt: skip
    call("UpdateSwitchboard", {"enabled": True, "defaultSwitchboardIntegrationId": members[0]["id"]},
         switchboardId=board)  # fmt: skip
    conversation = {"type": "personal", "participants": [{"userId": user["id"]}], "metadata": {"plan": "gold"}}
    conversation_id = call("CreateConversation", conversation)["conversation"]["id"]
    text = {"author": {"type": "user", "userId": user["id"]}, "content": {"type": "text", "text": "hi"}}
    out["PostMessage"] = call("PostMessage", text, conversationId=conversation_id)
    form = {
        "author": {"type": "business"},
        "content": {"type": "form", "fields": [{"type": "email", "name": "email", "label": "Email"}]},
    }
    out["PostMessage form"] = call("PostMessage", form, conversationId=conversation_id)
    out["ListMessages"] = call("ListMessages", conversationId=conversation_id)
    # Bot to agent, then back: the second hand-off knows who held control before it.
    call("PassControl", {"switchboardIntegration": "agent"}, conversationId=conversation_id)
    call("PassControl", {"switchboardIntegration": "bot"}, conversationId=conversation_id)
    assert sandbox.outbox.wait(IDLE)
    bodies = []
    while (got := receiver.claim(lambda _: True, 0)) is not None:
        bodies.append(json.loads(got.body))
    # Deliveries come in any order; the store keeps the order the events happened in.
    order = [event["id"] for event in sandbox.store.events]
    for body in sorted(bodies, key=lambda b: order.index(b["events"][0]["id"])):
        name = f"delivery {body['events'][0]['type']}"
        out[name if name not in out else f"{name} #2"] = body
    return out


@pytest.fixture(scope="module")
def answers() -> dict[str, dict[str, Any]]:
    found = {}
    for name, realistic in (("realistic", True), ("plain", False)):
        with Receiver() as receiver, Sandbox(delivery=FAST, realistic=realistic) as sandbox:
            found[name] = scenario(sandbox, receiver)
    return found


# (answer, pointer, what the realistic sandbox sends there)
ROWS = [
    ("delivery client:add", "/zendeskAccountId", 12345678),
    ("delivery client:add", "/events/0/payload/user/profile/avatarUrl", ""),
    ("delivery conversation:message", "/zendeskAccountId", 12345678),
    ("delivery conversation:message", "/events/0/payload/conversation/brandId", "360012345678"),
    ("delivery conversation:message", "/events/0/payload/conversation/metadata/lastAgentId", None),
    ("delivery conversation:message", "/events/0/payload/message/author/avatarUrl", ""),
    ("delivery conversation:message", "/events/0/payload/message/source/entryPoint", "conversation"),
    ("delivery switchboard:passControl #2", "/events/0/payload/previousActiveSwitchboardIntegration/name", "agent"),
    ("delivery switchboard:passControl", "/events/0/payload/previousActiveSwitchboardIntegration", None),
    ("PostMessage", "/messages/0/author/avatarUrl", ""),
    ("PostMessage", "/messages/0/source/entryPoint", "conversation"),
    ("PostMessage form", "/messages/0/author/displayName", "Sandbox app"),
    ("PostMessage form", "/messages/0/content/fields/0/selectSize", 1),
    ("ListMessages", "/messages/0/source/entryPoint", "conversation"),
    ("ListIntegrations", "/integrations/0/productLine", "messaging"),
    ("ListIntegrations", "/integrations/0/webhooks/0/triggers/3", "passthrough:messaging"),
    ("UpdateIntegration", "/integration/webhooks/0/triggers/3", "passthrough:messaging"),
    ("CreateIntegration web", "/integration/defaultResponder/integrationType", "zd:answerBot"),
]


@pytest.mark.parametrize(("answer", "pointer", "sent"), ROWS, ids=[f"{a} {p}" for a, p, _ in ROWS])
def test_realistic_sandbox_sends_what_the_live_service_sends(answers, answer, pointer, sent):
    assert at(answers["realistic"][answer], pointer) == sent
    assert at(answers["plain"][answer], pointer) in (MISSING, *([] if sent is None else [None]))


def test_realistic_sandbox_adds_a_user_author_name_and_a_responder_id(answers):
    author = at(answers["realistic"]["PostMessage"], "/messages/0/author")
    assert author["displayName"] == f"Web User {author['userId']}"
    responder = at(answers["realistic"]["CreateIntegration web"], "/integration/defaultResponder/id")
    assert OBJECT_ID.match(responder)


def test_every_deviation_of_the_profile_shows_in_the_scenario(answers):
    # A new deviation needs a row: each one is seen somewhere in the realistic answers.
    text = json.dumps(answers["realistic"])
    plain = json.dumps(answers["plain"])
    for deviation in REALISTIC.deviations:
        if deviation.append:
            assert f'"{deviation.value}"' in text, deviation
            assert f'"{deviation.value}"' not in plain, deviation
        else:
            assert f'"{deviation.field}"' in text, deviation


def moment(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


def test_realistic_ids_are_object_ids_of_the_wall_clock_and_times_are_now():
    before = time.time()
    with Sandbox(realistic=True) as sandbox:
        call = Client(sandbox)
        first = call("CreateUser", {"externalId": "one"})["user"]
        second = call("CreateUser", {"externalId": "two"})["user"]
        key = call("CreateAppKey", {"displayName": "key"})["key"]
        conversation = call("CreateConversation", {"type": "personal", "participants": [{"userId": first["id"]}]})
    after = time.time()
    for record_id in (first["id"], second["id"], key["id"].removeprefix("app_")):
        assert OBJECT_ID.match(record_id), record_id
        assert int(before) <= int(record_id[:8], 16) <= after, record_id
    # The counter at the end moves by one; the random middle stays for the process.
    assert int(second["id"][-6:], 16) == (int(first["id"][-6:], 16) + 1) % (1 << 24)
    assert first["id"][8:18] == second["id"][8:18]
    created = conversation["conversation"]["createdAt"]
    assert int(before) <= moment(created) <= after + 0.001, created


def test_a_realistic_sandbox_takes_no_seed():
    with pytest.raises(ValueError, match="takes no seed"):
        Sandbox(realistic=True, seed=1)


def test_a_deviation_keeps_a_field_already_there_and_filters_by_value():
    body = {"items": [{"type": "a", "x": 1}, {"type": "b"}], "one": {"type": "a"}}
    Deviation("response", "/items/type=a", "x", 2, "kept").apply(body)
    Deviation("response", "/items/type=b", "x", 3, "added").apply(body)
    Deviation("response", "/one/type=b", "x", 4, "not a b").apply(body)
    assert body == {"items": [{"type": "a", "x": 1}, {"type": "b", "x": 3}], "one": {"type": "a"}}


def run_cli(*args: str) -> Any:
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "conformance", "sandbox", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
    )


def test_sandbox_cli_refuses_realistic_with_a_seed_in_one_line():
    result = run_cli("--realistic", "--seed", "1", "--port", "0")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == ["error: --realistic is not allowed with --seed: a realistic sandbox draws fresh ids and times"]


def test_sandbox_cli_realistic_says_so_in_its_banner():
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance", "sandbox", "--realistic", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    try:
        assert process.stdout is not None
        banner = []
        while not banner or "press Ctrl-C" not in banner[-1]:
            line = process.stdout.readline()
            assert line, process.stderr.read() if process.stderr else "no banner"
            banner.append(line)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert any(line.startswith("  profile: realistic") for line in banner), banner
