"""The sandbox's switchboards and switchboard integrations, over a real socket."""

from __future__ import annotations

import pytest
from sandbox_support import HEX24, OTHER_ID, Api, codes
from switchboard_support import Board

from conformance.sandbox.behaviours import combine
from conformance.sandbox.crud import Behaviour


@pytest.fixture
def board(api: Api) -> Board:
    return Board(api)


def test_a_switchboard_is_created_disabled_and_an_app_has_one_at_most(api: Api, board: Board) -> None:
    status, answer = api.call("ListSwitchboards")
    assert (status, answer) == (200, {"switchboards": [{"id": board.id, "enabled": False}]})
    assert HEX24.match(board.id)
    status, answer = api.call("CreateSwitchboard")
    assert (status, codes(answer)) == (400, ["bad_request"])
    assert api.call("DeleteSwitchboard", switchboardId=board.id) == (200, {})
    assert api.call("CreateSwitchboard")[0] == 201


def test_enabling_needs_a_default_switchboard_integration_of_its_own(board: Board) -> None:
    status, answer = board.update(enabled=True)
    assert (status, codes(answer)) == (400, ["bad_request"])
    status, answer = board.update(enabled=True, defaultSwitchboardIntegrationId=OTHER_ID)
    assert (status, codes(answer)) == (400, ["bad_request"])
    bot = board.member("bot")
    status, answer = board.update(defaultSwitchboardIntegrationId=bot["id"])
    assert answer["switchboard"] == {"id": board.id, "enabled": False, "defaultSwitchboardIntegrationId": bot["id"]}
    status, answer = board.update(enabled=True)
    assert (status, answer["switchboard"]["enabled"]) == (200, True)


def test_a_switchboard_integration_links_an_integration_by_id_or_by_type(board: Board) -> None:
    custom = board.integration()
    by_id = board.member("bot", integrationId=custom)
    assert (by_id["integrationId"], by_id["integrationType"]) == (custom, "custom")
    assert by_id["deliverStandbyEvents"] is True  # the documented default
    agent = board.member("agent", integrationType="zd:agentWorkspace", deliverStandbyEvents=False)
    again = board.member("agent_2", integrationType="zd:agentWorkspace")
    assert HEX24.match(agent["integrationId"])
    assert agent["integrationId"] == again["integrationId"]
    web = board.integration({"type": "web"})
    assert board.member("web", integrationType="web")["integrationId"] == web
    board.integration({"type": "web"})
    refused = [
        board.try_member("x", integrationType="web"),  # two web integrations: which one?
        board.try_member("x", integrationType="custom"),  # custom integrations are linked by id
        board.try_member("x", integrationType="telegram"),  # no such integration
        board.try_member("x", integrationId=OTHER_ID),
        board.try_member("x", integrationId=custom, integrationType="custom"),  # both
        board.try_member("two words", integrationId=custom),  # the name's pattern
    ]
    assert [(status, codes(answer)) for status, answer in refused] == [(400, ["bad_request"])] * len(refused)


def test_an_update_relinks_and_keeps_both_halves_of_the_link(board: Board) -> None:
    bot = board.member("bot")
    status, answer = board.update_member(bot["id"], integrationType="zd:answerBot", name="answer_bot")
    updated = answer["switchboardIntegration"]
    assert (status, updated["name"], updated["integrationType"]) == (200, "answer_bot", "zd:answerBot")
    assert updated["integrationId"] != bot["integrationId"]
    status, answer = board.update_member(bot["id"], integrationId=OTHER_ID)
    assert (status, codes(answer)) == (400, ["bad_request"])


def test_a_switchboard_holds_ten_switchboard_integrations_at_most(board: Board) -> None:
    for number in range(10):
        board.member(f"member-{number}", integrationType="zd:agentWorkspace")
    status, answer = board.try_member("one-too-many", integrationType="zd:agentWorkspace")
    assert (status, codes(answer)) == (400, ["too_many_switchboard_integrations"])


def test_next_names_another_switchboard_integration_of_the_switchboard(board: Board) -> None:
    bot = board.member("bot")
    status, answer = board.try_member("agent", nextSwitchboardIntegrationId=OTHER_ID)
    assert (status, codes(answer)) == (400, ["bad_request"])
    agent = board.member("agent", nextSwitchboardIntegrationId=bot["id"])
    assert agent["nextSwitchboardIntegrationId"] == bot["id"]
    status, answer = board.update_member(bot["id"], nextSwitchboardIntegrationId=bot["id"])
    assert (status, codes(answer)) == (400, ["bad_request"])
    status, answer = board.update_member(agent["id"], nextSwitchboardIntegrationId=None)
    assert status == 200
    assert "nextSwitchboardIntegrationId" not in answer["switchboardIntegration"]


def test_the_default_and_a_next_cannot_be_deleted_and_the_switchboard_takes_the_rest(api: Api, board: Board) -> None:
    bot = board.member("bot")
    agent = board.member("agent", nextSwitchboardIntegrationId=bot["id"])
    board.enable(agent)
    assert codes(board.delete_member(bot["id"])[1]) == ["bad_request"]
    assert codes(board.delete_member(agent["id"])[1]) == ["bad_request"]
    board.update_member(agent["id"], nextSwitchboardIntegrationId=None)
    assert board.delete_member(bot["id"]) == (200, {})
    status, answer = board.delete_member(bot["id"])
    assert (status, codes(answer)) == (404, ["switchboard_integration_not_found"])
    assert api.call("DeleteSwitchboard", switchboardId=board.id) == (200, {})
    status, answer = api.call("ListSwitchboardIntegrations", switchboardId=board.id)
    assert (status, codes(answer)) == (404, ["switchboard_not_found"])


@pytest.mark.parametrize(
    ("operation_id", "body"),
    [
        ("UpdateSwitchboard", {"enabled": False}),
        ("DeleteSwitchboard", None),
        ("ListSwitchboardIntegrations", None),
        ("CreateSwitchboardIntegration", {"name": "bot", "integrationType": "zd:agentWorkspace"}),
    ],
)
def test_an_unknown_switchboard_is_404(api: Api, operation_id: str, body: object) -> None:
    extra = {} if body is None else {"body": body}
    status, answer = api.call(operation_id, switchboardId=OTHER_ID, **extra)
    assert (status, codes(answer)) == (404, ["switchboard_not_found"])


@pytest.mark.parametrize("operation_id", ["UpdateSwitchboardIntegration", "DeleteSwitchboardIntegration"])
def test_an_unknown_switchboard_integration_is_404(board: Board, operation_id: str) -> None:
    extra = {"body": {"deliverStandbyEvents": True}} if operation_id.startswith("Update") else {}
    status, answer = board.api.call(operation_id, switchboardId=board.id, switchboardIntegrationId=OTHER_ID, **extra)
    assert (status, codes(answer)) == (404, ["switchboard_integration_not_found"])


def test_switchboard_operations_refuse_missing_credentials(board: Board) -> None:
    status, answer = board.api.call("ListSwitchboards", auth=None)
    assert (status, codes(answer)) == (401, ["unauthorized"])


# -- behaviours of several modules on one resource -------------------------------------------------


def test_two_modules_hooks_on_one_resource_both_run_in_order() -> None:
    seen: list[str] = []
    first = Behaviour(on_create=lambda r, b, q: seen.append("first"), titles={"Op": {"/a": "A"}})
    second = Behaviour(on_create=lambda r, b, q: seen.append("second"), titles={"Op": {"/b": "B"}})
    both = combine(first, second)
    assert both.on_create is not None
    both.on_create({}, {}, None)  # type: ignore[arg-type]
    assert seen == ["first", "second"]
    assert both.titles == {"Op": {"/a": "A", "/b": "B"}}
    with pytest.raises(ValueError, match="new_id"):
        combine(Behaviour(new_id=lambda q: "a"), Behaviour(new_id=lambda q: "b"))
