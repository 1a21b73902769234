"""Switchboards and switchboard integrations, and the default control of a new conversation.

An app has at most one switchboard (the table's limit); it is created disabled and can be enabled
only with a default switchboard integration of its own. A switchboard integration links one
integration of the app: by ``integrationId`` (its type is filled in), or by ``integrationType``
(Zendesk's built-in types, which need no integration record, or the type of exactly one
integration; custom integrations are linked by id). Every reference a body makes (an integration,
a next or default switchboard integration) must name something that exists, else 400
``bad_request``. A switchboard integration that is the default, or another's next, cannot be
deleted. A conversation created while the switchboard is enabled starts under the default's
control; deleting a switchboard integration (or the switchboard) clears the control it held.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from conformance.contract.resources import resource
from conformance.sandbox.api import Request
from conformance.sandbox.crud import Behaviour, resolve_parents
from conformance.sandbox.errors import bad_request
from conformance.sandbox.store import Record

SWITCHBOARD = resource("switchboard")
MEMBER = resource("switchboardIntegration")
CONVERSATION = resource("conversation")
# Integrations Zendesk builds into an app: linked by type, with no integration record of their own.
BUILT_IN_TYPES = ("zd:agentWorkspace", "zd:answerBot", "zd:sideConversations")
ACTIVE = "activeSwitchboardIntegration"
PENDING = "pendingSwitchboardIntegration"
SUMMARY_FIELDS = ("id", "name", "integrationId", "integrationType")


def app_of(request: Request) -> str:
    return str(request.params["appId"])


def switchboard_of(request: Request) -> Record | None:
    """The app's switchboard (there is at most one)."""
    found = request.store.records((SWITCHBOARD.name, app_of(request)))
    return found[0] if found else None


def members(request: Request, switchboard_id: str) -> list[Record]:
    return request.store.records((MEMBER.name, app_of(request), switchboard_id))


def summary(member: Record) -> dict[str, Any]:
    """A switchboard integration as a conversation shows it (the documented webhook shape)."""
    return {name: member[name] for name in SUMMARY_FIELDS if member.get(name) is not None}


def conversation_key(request: Request) -> tuple[str, ...]:
    return (CONVERSATION.name, app_of(request))


# -- switchboards ------------------------------------------------------------------------------


def _switchboard_created(record: Record, body: dict[str, Any], request: Request) -> None:
    record["enabled"] = False  # created disabled, so nothing is misrouted while it is set up


def _switchboard_updated(found: Record, body: dict[str, Any], request: Request) -> None:
    default = body.get("defaultSwitchboardIntegrationId", found.get("defaultSwitchboardIntegrationId"))
    if "defaultSwitchboardIntegrationId" in body:
        ids = {str(m["id"]) for m in members(request, str(found["id"]))}
        if default not in ids:
            raise bad_request("defaultSwitchboardIntegrationId names no switchboard integration of this switchboard")
    if body.get("enabled", found.get("enabled")) and not default:
        raise bad_request("An enabled switchboard needs a defaultSwitchboardIntegrationId")


def _switchboard_deleted(found: Record, body: dict[str, Any], request: Request) -> None:
    forget_control(request, {str(m["id"]) for m in members(request, str(found["id"]))})


# -- switchboard integrations ------------------------------------------------------------------


def _built_in_id(request: Request, kind: str) -> str:
    """A built-in integration's id, the same every time its type is linked in this app."""
    key = ("builtInIntegration", app_of(request))
    known = next((r for r in request.store.records(key) if r.get("type") == kind), None)
    if known is None:
        known = request.store.insert(key, {"id": request.store.tokens.new_id(), "type": kind})
    return str(known["id"])


def linked(request: Request, body: dict[str, Any]) -> dict[str, str]:
    """The integrationId and integrationType a body's link resolves to; 400 when it names nothing."""
    integrations = request.store.records(("integration", app_of(request)))
    if body.get("integrationId") is not None:
        found = next((i for i in integrations if i.get("id") == body["integrationId"]), None)
        if found is None:
            raise bad_request("integrationId names no integration of this app")
        return {"integrationId": str(found["id"]), "integrationType": str(found.get("type"))}
    kind = str(body["integrationType"])
    if kind in BUILT_IN_TYPES:
        return {"integrationId": _built_in_id(request, kind), "integrationType": kind}
    matching = [i for i in integrations if i.get("type") == kind and kind != "custom"]
    if len(matching) != 1:
        raise bad_request(f"integrationType {kind!r} names no single integration of this app; link it by integrationId")
    return {"integrationId": str(matching[0]["id"]), "integrationType": kind}


def _check_next(request: Request, switchboard_id: str, next_id: Any, own_id: str | None = None) -> None:
    if next_id is None:
        return
    ids = {str(m["id"]) for m in members(request, switchboard_id)} - {own_id}
    if next_id not in ids:
        raise bad_request("nextSwitchboardIntegrationId names no other switchboard integration of this switchboard")


def _member_created(record: Record, body: dict[str, Any], request: Request) -> None:
    switchboard_id = resolve_parents(MEMBER, request)["switchboardId"]
    record.update(linked(request, body))
    _check_next(request, switchboard_id, body.get("nextSwitchboardIntegrationId"))


def _member_updated(found: Record, body: dict[str, Any], request: Request) -> None:
    switchboard_id = resolve_parents(MEMBER, request)["switchboardId"]
    if body.get("integrationId") is not None or body.get("integrationType") is not None:
        # The generic update applies the body: the resolved other half of the link rides along.
        body.update(linked(request, body))
    _check_next(request, switchboard_id, body.get("nextSwitchboardIntegrationId"), str(found["id"]))
    after = {**found, **{k: v for k, v in body.items() if v is not None}}
    refresh_control(request, after)


def _member_deleted(found: Record, body: dict[str, Any], request: Request) -> None:
    switchboard_id = resolve_parents(MEMBER, request)["switchboardId"]
    switchboard = request.store.get((SWITCHBOARD.name, app_of(request)), switchboard_id) or {}
    if switchboard.get("defaultSwitchboardIntegrationId") == found["id"]:
        raise bad_request("The switchboard's default switchboard integration cannot be deleted; choose another first")
    if any(m.get("nextSwitchboardIntegrationId") == found["id"] for m in members(request, switchboard_id)):
        raise bad_request("Another switchboard integration names this one as its next; change that first")
    forget_control(request, {str(found["id"])})


# -- conversations under control ---------------------------------------------------------------


def _conversation_created(record: Record, body: dict[str, Any], request: Request) -> None:
    switchboard = switchboard_of(request)
    if not switchboard or not switchboard.get("enabled"):
        return
    default = request.store.get(
        (MEMBER.name, app_of(request), str(switchboard["id"])), str(switchboard.get("defaultSwitchboardIntegrationId"))
    )
    if default is not None:
        record[ACTIVE] = summary(default)


def _conversations_holding(request: Request, ids: Iterable[str]) -> list[Record]:
    wanted = set(ids)
    return [
        c
        for c in request.store.records(conversation_key(request))
        if any(isinstance(c.get(f), dict) and c[f].get("id") in wanted for f in (ACTIVE, PENDING))
    ]


def forget_control(request: Request, ids: set[str]) -> None:
    """Conversations lose the control (active or pending) of switchboard integrations that are gone."""

    def clear(conversation: Record) -> Record:
        for field_name in (ACTIVE, PENDING):
            if isinstance(conversation.get(field_name), dict) and conversation[field_name].get("id") in ids:
                del conversation[field_name]
        return conversation

    for conversation in _conversations_holding(request, ids):
        request.store.update(conversation_key(request), str(conversation["id"]), clear)


def refresh_control(request: Request, member: Record) -> None:
    """Conversations show a renamed or relinked switchboard integration as it now is."""

    def renew(conversation: Record) -> Record:
        for field_name in (ACTIVE, PENDING):
            if isinstance(conversation.get(field_name), dict) and conversation[field_name].get("id") == member["id"]:
                conversation[field_name] = summary(member)
        return conversation

    for conversation in _conversations_holding(request, {str(member["id"])}):
        request.store.update(conversation_key(request), str(conversation["id"]), renew)


BEHAVIOURS: dict[str, Behaviour] = {
    "switchboard": Behaviour(
        on_create=_switchboard_created, on_update=_switchboard_updated, on_delete=_switchboard_deleted
    ),
    "switchboardIntegration": Behaviour(
        on_create=_member_created, on_update=_member_updated, on_delete=_member_deleted
    ),
    "conversation": Behaviour(on_create=_conversation_created),
}
