"""Switchboard actions: who controls a conversation (pass, offer, accept, release control).

A conversation's ``activeSwitchboardIntegration`` holds control and its
``pendingSwitchboardIntegration`` has been offered it. Pass makes its target active and clears
any offer; offer makes its target pending (replacing an earlier offer, never the active one);
accept makes the pending one active; release clears both. A target is named by id, then name,
then integrationType (a name or type that several share names none), or ``next``: the active
one's next.

The contract documents no error status for an action that cannot apply, and documents failure
events for them, so such an action answers 200, changes nothing and emits its ``:failure`` event
(``switchboard_invalid_target`` or ``switchboard_invalid_action``). A repeated pass is idempotent:
to the one already active it changes nothing, and with ``next`` from an integration-scope caller
that no longer holds control it is disregarded. With integration scope, accept is for the
pending integration and release for the active one; anyone else gets 403 ``forbidden``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from conformance.sandbox.api import Handler, Request, Response
from conformance.sandbox.auth import forbidden
from conformance.sandbox.behaviours.switchboards import (
    ACTIVE,
    CONVERSATION,
    PENDING,
    conversation_key,
    members,
    summary,
    switchboard_of,
)
from conformance.sandbox.crud import find, not_found, resolve_parents
from conformance.sandbox.errors import bad_request
from conformance.sandbox.events import emit
from conformance.sandbox.store import Record

METADATA_LIMIT = 4096  # bytes of JSON: the documented 4KB
NEXT = "next"
INVALID_TARGET = "switchboard_invalid_target"
INVALID_ACTION = "switchboard_invalid_action"
TRUNCATED_FIELDS = ("id", "type", "metadata", ACTIVE, PENDING)


class _Failed(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _conversation(request: Request) -> Record:
    found = find(request.store, CONVERSATION, resolve_parents(CONVERSATION, request), request.params["conversationId"])
    if found is None:
        raise not_found(CONVERSATION)
    return found


def _metadata(request: Request) -> Any:
    body = request.body if isinstance(request.body, dict) else {}
    metadata = body.get("metadata")
    if metadata is not None and len(json.dumps(metadata, separators=(",", ":")).encode()) > METADATA_LIMIT:
        raise bad_request(f"metadata is larger than {METADATA_LIMIT} bytes")
    return metadata


def _truncated(conversation: Record) -> dict[str, Any]:
    return {name: conversation[name] for name in TRUNCATED_FIELDS if conversation.get(name) is not None}


def _payload(conversation: Record, metadata: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"conversation": _truncated(conversation)}
    if metadata is not None:
        payload["metadata"] = metadata
    return payload


def _members(request: Request) -> list[Record]:
    switchboard = switchboard_of(request)
    if switchboard is None or not switchboard.get("enabled"):
        raise _Failed(INVALID_ACTION, "The app has no enabled switchboard")
    return members(request, str(switchboard["id"]))


def _current(conversation: Record, field_name: str, candidates: list[Record]) -> Record | None:
    held = conversation.get(field_name)
    wanted = held.get("id") if isinstance(held, dict) else None
    return next((m for m in candidates if m["id"] == wanted), None)


def _target(named: str, candidates: list[Record], active: Record | None) -> Record:
    """The switchboard integration ``named`` names: next, or by id, name, then type; exactly one."""
    if named == NEXT:
        following = active.get("nextSwitchboardIntegrationId") if active else None
        found = next((m for m in candidates if m["id"] == following), None)
        if found is None:
            raise _Failed(INVALID_TARGET, "No next switchboard integration follows the active one")
        return found
    for field_name in ("id", "name", "integrationType"):
        matching = [m for m in candidates if m.get(field_name) == named]
        if len(matching) == 1:
            return matching[0]
        if matching:
            raise _Failed(INVALID_TARGET, f"{len(matching)} switchboard integrations have the {field_name} {named!r}")
    raise _Failed(INVALID_TARGET, f"No switchboard integration is named {named!r}")


def _set(request: Request, conversation: Record, **control: Record | None) -> Record:
    """Store the conversation's new control (a field given None is cleared)."""

    def change(record: Record) -> Record:
        for field_name, member in control.items():
            if member is None:
                record.pop(field_name, None)
            else:
                record[field_name] = summary(member)
        return record

    updated = request.store.update(conversation_key(request), str(conversation["id"]), change)
    if updated is None:
        raise not_found(CONVERSATION)
    return updated


def _integration_scope(request: Request) -> str | None:
    """The integration a caller of integration scope is (None for app and account keys)."""
    credential = request.credential
    if credential is None or credential.scope != "integration":
        return None
    return credential.integration_id or ""


def _action(trigger: str, step: Callable[[Request, Record], Record | None], *, fails: bool = True) -> Handler:
    """A handler: find the conversation, run the step, emit the event (or its failure), answer 200."""

    def handle(request: Request) -> Response:
        conversation = _conversation(request)
        metadata = _metadata(request)
        try:
            changed = step(request, conversation)
        except _Failed as failure:
            if fails:
                payload = {
                    **_payload(conversation, metadata),
                    "error": {"code": failure.code, "message": failure.message},
                }
                emit(request, f"{trigger}:failure", payload)
            return Response(200, {})
        if changed is not None:
            emit(request, trigger, _payload(changed, metadata))
        return Response(200, {})

    return handle


def _pass(request: Request, conversation: Record) -> Record | None:
    candidates = _members(request)
    active = _current(conversation, ACTIVE, candidates)
    named = str(request.body["switchboardIntegration"])
    caller = _integration_scope(request)
    if named == NEXT and caller is not None and (active is None or active.get("integrationId") != caller):
        return None  # a duplicate pass to next, from an integration that no longer holds control
    target = _target(named, candidates, active)
    if active is not None and target["id"] == active["id"] and not conversation.get(PENDING):
        return None  # already in control: nothing changes
    return _set(request, conversation, **{ACTIVE: target, PENDING: None})


def _offer(request: Request, conversation: Record) -> Record | None:
    candidates = _members(request)
    active = _current(conversation, ACTIVE, candidates)
    target = _target(str(request.body["switchboardIntegration"]), candidates, active)
    if active is not None and target["id"] == active["id"]:
        raise _Failed(INVALID_TARGET, "The active switchboard integration cannot be offered control")
    return _set(request, conversation, **{PENDING: target})


def _accept(request: Request, conversation: Record) -> Record | None:
    pending = conversation.get(PENDING)
    caller = _integration_scope(request)
    if caller is not None and (not isinstance(pending, dict) or pending.get("integrationId") != caller):
        raise forbidden("Only the pending switchboard integration may accept control")
    candidates = _members(request)
    offered = _current(conversation, PENDING, candidates)
    if offered is None:
        raise _Failed(INVALID_ACTION, "No switchboard integration is pending")
    return _set(request, conversation, **{ACTIVE: offered, PENDING: None})


def _release(request: Request, conversation: Record) -> Record | None:
    active = conversation.get(ACTIVE)
    caller = _integration_scope(request)
    if caller is not None and (not isinstance(active, dict) or active.get("integrationId") != caller):
        raise forbidden("Only the active switchboard integration may release control")
    return _set(request, conversation, **{ACTIVE: None, PENDING: None})


HANDLERS: dict[str, Handler] = {
    "PassControl": _action("switchboard:passControl", _pass),
    "OfferControl": _action("switchboard:offerControl", _offer),
    "AcceptControl": _action("switchboard:acceptControl", _accept),
    # Release has no failure event: releasing what nobody holds still leaves nobody in control.
    "ReleaseControl": _action("switchboard:releaseControl", _release, fails=False),
}
