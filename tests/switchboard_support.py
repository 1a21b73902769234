"""Helpers for the switchboard sandbox tests: records made through the API, events held to their schemas."""

from __future__ import annotations

import itertools
from typing import Any

from sandbox_support import Api, codes

from conformance.contract.schemas import shipped
from conformance.sandbox import Sandbox
from conformance.sandbox.auth import Credential

CUSTOM = {"type": "custom", "webhooks": [{"target": "https://example.com/hook", "triggers": ["conversation:message"]}]}
INTEGRATION_KEY_PREFIX = "int_"
INTEGRATION_KEY_SECRET = "integration-secret"


class IntegrationKeySandbox(Sandbox):
    """A sandbox that also accepts integration-scope keys: ``int_<integrationId>`` for each integration."""

    def credential(self, key_id: str) -> Credential | None:
        if key_id.startswith(INTEGRATION_KEY_PREFIX):
            integration_id = key_id.removeprefix(INTEGRATION_KEY_PREFIX)
            return Credential(key_id, INTEGRATION_KEY_SECRET, "integration", self.app_id, integration_id)
        return super().credential(key_id)


def as_integration(integration_id: str) -> tuple[str, str]:
    return (INTEGRATION_KEY_PREFIX + integration_id, INTEGRATION_KEY_SECRET)


class Board:
    """A switchboard and its switchboard integrations in one sandbox, made through the API."""

    def __init__(self, api: Api) -> None:
        self.api = api
        status, answer = api.call("CreateSwitchboard")
        assert status == 201, answer
        self.id = answer["switchboard"]["id"]
        self._users = itertools.count(1)

    def integration(self, body: dict[str, Any] | None = None) -> str:
        status, answer = self.api.call("CreateIntegration", body=body or CUSTOM)
        assert status == 201, answer
        return str(answer["integration"]["id"])

    def member(self, name: str, **fields: Any) -> dict[str, Any]:
        status, answer = self.try_member(name, **fields)
        assert status == 201, answer
        return dict(answer["switchboardIntegration"])

    def try_member(self, name: str, **fields: Any) -> tuple[int, Any]:
        if "integrationId" not in fields and "integrationType" not in fields:
            fields["integrationId"] = self.integration()
        return self.api.call("CreateSwitchboardIntegration", body={"name": name, **fields}, switchboardId=self.id)

    def update_member(self, member_id: str, **fields: Any) -> tuple[int, Any]:
        return self.api.call(
            "UpdateSwitchboardIntegration", body=fields, switchboardId=self.id, switchboardIntegrationId=member_id
        )

    def delete_member(self, member_id: str) -> tuple[int, Any]:
        return self.api.call("DeleteSwitchboardIntegration", switchboardId=self.id, switchboardIntegrationId=member_id)

    def update(self, **fields: Any) -> tuple[int, Any]:
        return self.api.call("UpdateSwitchboard", body=fields, switchboardId=self.id)

    def enable(self, default: dict[str, Any]) -> None:
        status, answer = self.update(enabled=True, defaultSwitchboardIntegrationId=default["id"])
        assert status == 200, answer

    def conversation(self) -> str:
        status, user = self.api.call("CreateUser", body={"externalId": f"user-{next(self._users)}"})
        assert status == 201, user
        body = {"type": "personal", "participants": [{"userId": user["user"]["id"]}]}
        status, answer = self.api.call("CreateConversation", body=body)
        assert status == 201, answer
        return str(answer["conversation"]["id"])

    def act(self, operation_id: str, conversation_id: str, body: Any = None, auth: Any = None) -> tuple[int, Any]:
        extra: dict[str, Any] = {} if body is None else {"body": body}
        if auth is not None:
            extra["auth"] = auth
        return self.api.call(operation_id, conversationId=conversation_id, **extra)

    def control(self, conversation_id: str) -> tuple[str | None, str | None]:
        """Names of the active and the pending switchboard integration, as GetConversation shows them."""
        status, answer = self.api.call("GetConversation", conversationId=conversation_id)
        assert status == 200, answer
        record = answer["conversation"]
        held = [record.get(f) for f in ("activeSwitchboardIntegration", "pendingSwitchboardIntegration")]
        return (held[0] or {}).get("name"), (held[1] or {}).get("name")


def events(sandbox: Sandbox, prefix: str = "switchboard:") -> list[dict[str, Any]]:
    """The switchboard events so far, each checked against the documented event's schema."""
    found = [e for e in sandbox.store.events if str(e["type"]).startswith(prefix)]
    for event in found:
        name, _, failure = str(event["type"]).removeprefix("switchboard:").partition(":")
        component = f"components/switchboard{name[0].upper()}{name[1:]}{'Failure' if failure else ''}.json"
        instance = {"type": event["type"], "payload": event["payload"]}
        errors = [error.message for error in shipped().validator(component, "response").iter_errors(instance)]
        assert errors == [], f"{event['type']} breaks {component}: {errors}"
    return found


def error_codes(answer: Any) -> list[str]:
    return codes(answer)
