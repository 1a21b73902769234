"""The sandbox's switchboard actions over a real socket: who holds control, and the events each hand-off emits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sandbox_support import OTHER_ID, Api, codes
from switchboard_support import Board, IntegrationKeySandbox, as_integration, events

from conformance.sandbox import Sandbox

ACTIONS = ("PassControl", "OfferControl", "AcceptControl", "ReleaseControl")


@pytest.fixture
def keyed() -> Iterator[Sandbox]:
    with IntegrationKeySandbox() as running:
        yield running


@pytest.fixture
def setup(keyed: Sandbox) -> tuple[Board, dict[str, Any], dict[str, Any], str]:
    """Bot and agent, each the other's next; enabled with the bot as default; a conversation."""
    board = Board(Api(keyed))
    bot = board.member("bot")
    agent = board.member("agent", nextSwitchboardIntegrationId=bot["id"])
    board.update_member(bot["id"], nextSwitchboardIntegrationId=agent["id"])
    board.enable(bot)
    return board, bot, agent, board.conversation()


def _types(sandbox: Sandbox) -> list[str]:
    return [event["type"] for event in events(sandbox)]


def test_a_conversation_starts_under_the_default_only_while_the_switchboard_is_enabled(api: Api) -> None:
    board = Board(api)
    bot = board.member("bot")
    assert board.control(board.conversation()) == (None, None)
    board.enable(bot)
    assert board.control(board.conversation()) == ("bot", None)


def test_each_hand_off_moves_control_and_emits_its_event(setup: tuple[Board, Any, Any, str]) -> None:
    board, bot, agent, conversation = setup
    sandbox = board.api.sandbox
    assert board.control(conversation) == ("bot", None)
    steps: list[tuple[str, Any, tuple[str | None, str | None]]] = [
        ("PassControl", {"switchboardIntegration": "next", "metadata": {"lang": "en-ca"}}, ("agent", None)),
        ("OfferControl", {"switchboardIntegration": "bot"}, ("agent", "bot")),
        ("AcceptControl", {"metadata": {"vip": True}}, ("bot", None)),
        ("OfferControl", {"switchboardIntegration": "next"}, ("bot", "agent")),
        ("OfferControl", {"switchboardIntegration": agent["id"]}, ("bot", "agent")),  # replaces the offer
        ("PassControl", {"switchboardIntegration": agent["id"]}, ("agent", None)),
        ("ReleaseControl", None, (None, None)),
    ]
    for operation_id, body, holders in steps:
        assert board.act(operation_id, conversation, body) == (200, {}), operation_id
        assert board.control(conversation) == holders, operation_id
    found = events(sandbox)
    assert [e["type"] for e in found] == [
        "switchboard:passControl",
        "switchboard:offerControl",
        "switchboard:acceptControl",
        "switchboard:offerControl",
        "switchboard:offerControl",
        "switchboard:passControl",
        "switchboard:releaseControl",
    ]
    first = found[0]["payload"]
    assert first["metadata"] == {"lang": "en-ca"}
    assert first["conversation"]["id"] == conversation
    assert first["conversation"]["activeSwitchboardIntegration"] == {
        key: agent[key] for key in ("id", "name", "integrationId", "integrationType")
    }
    assert found[1]["payload"]["conversation"]["pendingSwitchboardIntegration"]["id"] == bot["id"]
    assert found[2]["payload"]["metadata"] == {"vip": True}
    released = found[-1]["payload"]["conversation"]
    assert "activeSwitchboardIntegration" not in released
    assert "pendingSwitchboardIntegration" not in released
    assert {e["appId"] for e in found} == {sandbox.app_id}


def test_a_target_is_named_by_id_then_name_then_type(setup: tuple[Board, Any, Any, str]) -> None:
    board, _bot, _agent, conversation = setup
    zendesk = board.member("zendesk", integrationType="zd:agentWorkspace")
    # A name that is another's id loses to the id.
    named_like_an_id = board.member(zendesk["id"], integrationType="zd:answerBot")
    board.act("PassControl", conversation, {"switchboardIntegration": zendesk["id"]})
    assert board.control(conversation) == ("zendesk", None)
    board.act("PassControl", conversation, {"switchboardIntegration": "zd:answerBot"})
    assert board.control(conversation) == (named_like_an_id["name"], None)
    board.act("PassControl", conversation, {"switchboardIntegration": "agent"})
    assert board.control(conversation) == ("agent", None)


@pytest.mark.parametrize(
    ("operation_id", "body", "code"),
    [
        ("OfferControl", {"switchboardIntegration": "bot"}, "switchboard_invalid_target"),  # the active one
        ("AcceptControl", {}, "switchboard_invalid_action"),  # nothing pending
        ("PassControl", {"switchboardIntegration": "nobody"}, "switchboard_invalid_target"),
        ("PassControl", {"switchboardIntegration": "custom"}, "switchboard_invalid_target"),  # two have it
        ("OfferControl", {"switchboardIntegration": "custom"}, "switchboard_invalid_target"),
    ],
)
def test_an_action_that_cannot_apply_changes_nothing_and_emits_its_failure(
    setup: tuple[Board, Any, Any, str], operation_id: str, body: dict[str, Any], code: str
) -> None:
    board, _bot, _agent, conversation = setup
    assert board.act(operation_id, conversation, {**body, "metadata": {"try": 1}}) == (200, {})
    assert board.control(conversation) == ("bot", None)
    [failure] = events(board.api.sandbox)
    trigger = "switchboard:" + operation_id[0].lower() + operation_id[1:]
    assert failure["type"] == f"{trigger}:failure"
    assert failure["payload"]["error"]["code"] == code
    assert failure["payload"]["metadata"] == {"try": 1}
    assert failure["payload"]["conversation"]["activeSwitchboardIntegration"]["name"] == "bot"


def test_next_with_nobody_in_control_and_actions_without_an_enabled_switchboard_fail(
    setup: tuple[Board, Any, Any, str],
) -> None:
    board, bot, _agent, conversation = setup
    board.act("ReleaseControl", conversation)
    board.act("PassControl", conversation, {"switchboardIntegration": "next"})
    assert board.control(conversation) == (None, None)
    board.update(enabled=False)
    board.act("PassControl", conversation, {"switchboardIntegration": bot["id"]})
    assert board.control(conversation) == (None, None)
    assert _types(board.api.sandbox) == [
        "switchboard:releaseControl",
        "switchboard:passControl:failure",
        "switchboard:passControl:failure",
    ]
    assert events(board.api.sandbox)[-1]["payload"]["error"]["code"] == "switchboard_invalid_action"


def test_passing_control_to_the_one_in_control_changes_nothing_and_emits_nothing(
    setup: tuple[Board, Any, Any, str],
) -> None:
    board, _bot, _agent, conversation = setup
    assert board.act("PassControl", conversation, {"switchboardIntegration": "bot"}) == (200, {})
    assert board.control(conversation) == ("bot", None)
    assert events(board.api.sandbox) == []


def test_passing_control_ends_an_offer(setup: tuple[Board, Any, Any, str]) -> None:
    board, _bot, _agent, conversation = setup
    board.act("OfferControl", conversation, {"switchboardIntegration": "agent"})
    board.act("PassControl", conversation, {"switchboardIntegration": "bot"})
    assert board.control(conversation) == ("bot", None)


def test_with_integration_scope_only_the_pending_accepts_and_only_the_active_releases(
    setup: tuple[Board, Any, Any, str],
) -> None:
    board, bot, agent, conversation = setup
    board.act("OfferControl", conversation, {"switchboardIntegration": "agent"})
    status, answer = board.act("AcceptControl", conversation, {}, auth=as_integration(bot["integrationId"]))
    assert (status, codes(answer)) == (403, ["forbidden"])
    assert board.act("AcceptControl", conversation, {}, auth=as_integration(agent["integrationId"])) == (200, {})
    assert board.control(conversation) == ("agent", None)
    status, answer = board.act("ReleaseControl", conversation, auth=as_integration(bot["integrationId"]))
    assert (status, codes(answer)) == (403, ["forbidden"])
    assert board.control(conversation) == ("agent", None)
    assert board.act("ReleaseControl", conversation, auth=as_integration(agent["integrationId"])) == (200, {})
    assert board.control(conversation) == (None, None)


def test_a_repeated_pass_to_next_from_an_integration_no_longer_in_control_is_disregarded(
    setup: tuple[Board, Any, Any, str],
) -> None:
    board, bot, _agent, conversation = setup
    as_bot = as_integration(bot["integrationId"])
    board.act("PassControl", conversation, {"switchboardIntegration": "next"}, auth=as_bot)
    board.act("PassControl", conversation, {"switchboardIntegration": "next"}, auth=as_bot)  # a retry
    assert board.control(conversation) == ("agent", None)
    assert _types(board.api.sandbox) == ["switchboard:passControl"]


def test_deleting_a_switchboard_integration_or_the_switchboard_clears_the_control_it_held(
    setup: tuple[Board, Any, Any, str],
) -> None:
    board, _bot, _agent, conversation = setup
    spare = board.member("spare", integrationType="zd:agentWorkspace")
    board.act("PassControl", conversation, {"switchboardIntegration": "spare"})
    board.act("OfferControl", conversation, {"switchboardIntegration": "agent"})
    board.update_member(spare["id"], name="renamed")
    assert board.control(conversation) == ("renamed", "agent")
    assert board.delete_member(spare["id"]) == (200, {})
    assert board.control(conversation) == (None, "agent")
    assert board.api.call("DeleteSwitchboard", switchboardId=board.id) == (200, {})
    assert board.control(conversation) == (None, None)


@pytest.mark.parametrize("operation_id", ACTIONS)
def test_an_unknown_conversation_is_404(api: Api, operation_id: str) -> None:
    body = {"switchboardIntegration": "next"} if operation_id in ("PassControl", "OfferControl") else {}
    status, answer = api.call(operation_id, body=body, conversationId=OTHER_ID)
    assert (status, codes(answer)) == (404, ["conversation_not_found"])


@pytest.mark.parametrize("operation_id", ACTIONS)
def test_metadata_must_be_flat_and_within_4_kb(setup: tuple[Board, Any, Any, str], operation_id: str) -> None:
    board, _bot, _agent, conversation = setup
    target = {"switchboardIntegration": "agent"} if operation_id in ("PassControl", "OfferControl") else {}
    for metadata in ({"nested": {"a": 1}}, {"text": "x" * 4096}, "flat?"):
        status, answer = board.act(operation_id, conversation, {**target, "metadata": metadata})
        assert (status, codes(answer)) == (400, ["bad_request"]), metadata
    assert board.control(conversation) == ("bot", None)
    assert events(board.api.sandbox) == []


def test_release_control_takes_no_body_where_pass_control_needs_one(setup: tuple[Board, Any, Any, str]) -> None:
    board, _bot, _agent, conversation = setup
    url = board.api.url("PassControl", conversationId=conversation)
    auth = (board.api.sandbox.key_id, board.api.sandbox.key_secret)
    refused = requests.post(url, auth=auth, timeout=10)
    assert (refused.status_code, codes(refused.json())) == (400, ["bad_request"])
    assert board.act("ReleaseControl", conversation) == (200, {})
    assert board.control(conversation) == (None, None)
