"""The vendor's own generated client drives switchboards and control hand-offs against the sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sunshine_conversations_client as vendor

from conformance.sandbox import Sandbox


@dataclass
class Client:
    url: str
    app_id: str
    switchboards: vendor.SwitchboardsApi
    members: vendor.SwitchboardIntegrationsApi
    actions: vendor.SwitchboardActionsApi
    integrations: vendor.IntegrationsApi
    users: vendor.UsersApi
    conversations: vendor.ConversationsApi
    keys: vendor.CustomIntegrationApiKeysApi

    def custom_integration(self) -> str:
        hook = vendor.Webhook(target="https://example.com/hook", triggers=["conversation:message"])
        return str(
            self.integrations.create_integration(
                self.app_id, vendor.Custom(type="custom", webhooks=[hook])
            ).integration.id
        )

    def conversation(self, external_id: str) -> str:
        user = self.users.create_user(self.app_id, vendor.UserCreateBody(external_id=external_id)).user
        participant = vendor.ParticipantSubSchema(vendor.ParticipantWithUserId(user_id=user.id))
        body = vendor.ConversationCreateBody(type="personal", participants=[participant])
        return str(self.conversations.create_conversation(self.app_id, body).conversation.id)

    def control(self, conversation_id: str) -> tuple[str | None, str | None]:
        found = self.conversations.get_conversation(self.app_id, conversation_id).conversation
        active, pending = found.active_switchboard_integration, found.pending_switchboard_integration
        return (active.name if active else None, pending.name if pending else None)

    def actions_as(self, integration_id: str) -> vendor.SwitchboardActionsApi:
        """The switchboard actions signed with a new key of the integration (integration scope)."""
        body = vendor.IntegrationApiKey(display_name="actions")
        key = self.keys.create_custom_integration_key(self.app_id, integration_id, body).key
        config = vendor.Configuration(host=self.url, username=key.id, password=key.secret)
        return vendor.SwitchboardActionsApi(vendor.ApiClient(config))

    def hand_off_board(self) -> tuple[str, str]:
        """A bot and an agent, each the other's next, the bot the default; their integration ids."""
        board = self.switchboards.create_switchboard(self.app_id).switchboard
        bot_integration, agent_integration = self.custom_integration(), self.custom_integration()
        bot = self.members.create_switchboard_integration(
            self.app_id, board.id, vendor.SwitchboardIntegrationCreateBody(name="bot", integration_id=bot_integration)
        ).switchboard_integration
        body = vendor.SwitchboardIntegrationCreateBody(
            name="agent", integration_id=agent_integration, next_switchboard_integration_id=bot.id
        )
        self.members.create_switchboard_integration(self.app_id, board.id, body)
        update = vendor.SwitchboardUpdateBody(enabled=True, default_switchboard_integration_id=bot.id)
        self.switchboards.update_switchboard(self.app_id, board.id, update)
        return bot_integration, agent_integration


@pytest.fixture
def client() -> Iterator[Client]:
    with Sandbox() as sandbox:
        config = vendor.Configuration(host=sandbox.url, username=sandbox.key_id, password=sandbox.key_secret)
        api = vendor.ApiClient(config)
        yield Client(
            sandbox.url,
            sandbox.app_id,
            vendor.SwitchboardsApi(api),
            vendor.SwitchboardIntegrationsApi(api),
            vendor.SwitchboardActionsApi(api),
            vendor.IntegrationsApi(api),
            vendor.UsersApi(api),
            vendor.ConversationsApi(api),
            vendor.CustomIntegrationApiKeysApi(api),
        )


def _codes(error: vendor.ApiException) -> list[str]:
    return [item["code"] for item in json.loads(error.body)["errors"]]


def test_vendor_client_sets_up_a_switchboard_and_deletes_it(client: Client) -> None:
    app = client.app_id
    board = client.switchboards.create_switchboard(app).switchboard
    assert board.enabled is False
    bot = client.members.create_switchboard_integration(
        app, board.id, vendor.SwitchboardIntegrationCreateBody(name="bot", integration_id=client.custom_integration())
    ).switchboard_integration
    agent = client.members.create_switchboard_integration(
        app,
        board.id,
        vendor.SwitchboardIntegrationCreateBody(
            name="agent", integration_type="zd:agentWorkspace", next_switchboard_integration_id=bot.id
        ),
    ).switchboard_integration
    assert (bot.integration_type, agent.next_switchboard_integration_id) == ("custom", bot.id)
    update = vendor.SwitchboardUpdateBody(enabled=True, default_switchboard_integration_id=bot.id)
    assert client.switchboards.update_switchboard(app, board.id, update).switchboard.enabled is True
    [listed] = client.switchboards.list_switchboards(app).switchboards
    assert listed.default_switchboard_integration_id == bot.id
    with pytest.raises(vendor.ApiException) as refused:
        client.members.delete_switchboard_integration(app, board.id, bot.id)
    assert (refused.value.status, _codes(refused.value)) == (400, ["bad_request"])
    # The client sends null for a nullable field it was given None for: that unsets the next.
    unset = vendor.SwitchboardIntegrationUpdateBody(next_switchboard_integration_id=None)
    changed = client.members.update_switchboard_integration(app, board.id, agent.id, unset).switchboard_integration
    assert changed.next_switchboard_integration_id is None
    client.members.delete_switchboard_integration(app, board.id, agent.id)
    names = [m.name for m in client.members.list_switchboard_integrations(app, board.id).switchboard_integrations]
    assert names == ["bot"]
    client.switchboards.delete_switchboard(app, board.id)
    assert client.switchboards.list_switchboards(app).switchboards == []


def test_vendor_client_hands_control_over(client: Client) -> None:
    app = client.app_id
    client.hand_off_board()
    conversation = client.conversation("vendor-user")
    assert client.control(conversation) == ("bot", None)
    client.actions.pass_control(
        app, conversation, vendor.PassControlBody(switchboard_integration="agent", metadata={"lang": "fr"})
    )
    assert client.control(conversation) == ("agent", None)
    client.actions.offer_control(app, conversation, vendor.OfferControlBody(switchboard_integration="bot"))
    assert client.control(conversation) == ("agent", "bot")
    client.actions.accept_control(app, conversation, vendor.AcceptControlBody(metadata={"reason": "back to the bot"}))
    assert client.control(conversation) == ("bot", None)
    client.actions.release_control(app, conversation)  # the body is optional, and the client sends none
    assert client.control(conversation) == (None, None)


def test_vendor_client_with_an_integration_key_accepts_only_when_pending_and_releases_only_when_active(
    client: Client,
) -> None:
    app = client.app_id
    bot_integration, agent_integration = client.hand_off_board()
    conversation = client.conversation("vendor-user")
    as_bot, as_agent = client.actions_as(bot_integration), client.actions_as(agent_integration)
    with pytest.raises(vendor.ApiException) as refused:
        as_agent.release_control(app, conversation)
    assert (refused.value.status, _codes(refused.value)) == (403, ["forbidden"])
    client.actions.offer_control(app, conversation, vendor.OfferControlBody(switchboard_integration="agent"))
    with pytest.raises(vendor.ApiException) as refused:
        as_bot.accept_control(app, conversation, vendor.AcceptControlBody())
    assert (refused.value.status, _codes(refused.value)) == (403, ["forbidden"])
    assert client.control(conversation) == ("bot", "agent")
    as_agent.accept_control(app, conversation, vendor.AcceptControlBody())
    assert client.control(conversation) == ("agent", None)
    as_agent.release_control(app, conversation)
    assert client.control(conversation) == (None, None)


def test_vendor_client_meets_the_limit_of_ten_switchboard_integrations(client: Client) -> None:
    app = client.app_id
    board = client.switchboards.create_switchboard(app).switchboard
    for number in range(10):
        body = vendor.SwitchboardIntegrationCreateBody(name=f"member-{number}", integration_type="zd:agentWorkspace")
        client.members.create_switchboard_integration(app, board.id, body)
    body = vendor.SwitchboardIntegrationCreateBody(name="eleventh", integration_type="zd:agentWorkspace")
    with pytest.raises(vendor.ApiException) as refused:
        client.members.create_switchboard_integration(app, board.id, body)
    assert (refused.value.status, _codes(refused.value)) == (400, ["too_many_switchboard_integrations"])
