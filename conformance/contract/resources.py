"""The resource table: each API resource as one declarative record.

From a record come the generic suite (lifecycle, unknown ids, pagination, filters, credentials),
the sandbox's generic handlers (a store nested under parents) and the cleanup of what a test
created. Paths, methods and schemas are not repeated here: they come from the operation index,
and ``tests/test_resources.py`` holds every record to it.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar
from urllib.parse import urljoin

from conformance.contract.schemas import Contract, Operation, shipped

ROLES = ("create", "list", "get", "update", "delete")
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
T = TypeVar("T")
# What a record's facts come to under each contract, worked out once per contract and resource.
_facts: weakref.WeakKeyDictionary[Contract, dict[tuple[str, str], Any]] = weakref.WeakKeyDictionary()


def _fact(contract: Contract, item: Resource, name: str, work: Callable[[], T]) -> T:
    known = _facts.setdefault(contract, {})
    key = (item.name, name)
    if key not in known:
        known[key] = work()
    found: T = known[key]
    return found


@dataclass(frozen=True, eq=False)
class Resource:
    """One resource of the API, as the contract cannot say it on its own."""

    name: str
    # role (create, list, get, update, delete) -> operationId
    operations: Mapping[str, str]
    # the path parameter that names one record, and the envelopes a response wraps records in
    id_param: str
    envelope: str
    collection: str
    parent: str | None = "app"
    # the field whose value selects the record's shape (its schema's discriminator)
    discriminator: str | None = None
    # the error code a 404 for an unknown record carries
    not_found: str = ""
    # fields the server sets, never the client
    server_fields: tuple[str, ...] = ("id",)
    # fields whose values are unique within the parent (a second create answers 409 conflict)
    unique: tuple[str, ...] = ()
    # other fields that name a record in its id path parameter (users: id or externalId)
    alternate_ids: tuple[str, ...] = ()
    # most records one parent may hold, and the error a create beyond that gets
    limit: int | None = None
    limit_error: tuple[int, str] = (400, "bad_request")
    # list filters: query key (deepObject form, as sent) -> record field (a dotted path into the
    # record); a comma list matches any of its values
    filters: Mapping[str, str] = field(default_factory=dict)
    # the key scope an operation of this resource needs: app, or account (apps, app keys)
    scope: str = "app"
    # a text field every record a run creates fills with its run tag (session/runs.py), so cleanup finds leftovers
    tag_field: str | None = None
    # create answers the new record as the one item of a list under the envelope (PostMessage)
    created_in_list: bool = False
    # objects the server completes with read-only members (a message's content): echoed member by member
    completed: tuple[str, ...] = ()
    # False when the list ignores page[size] (messages: fixed pages, newest first)
    sized_pages: bool = True
    # path parameters the run names itself, not a parent it creates (another API's shop); the app's
    # id is the client's to fill
    given: Mapping[str, str] = field(default_factory=dict)
    # the contract the record is read against (``bound``); None: the shipped one
    contract: Contract | None = None
    # the table the record's parents are named in (another API's); None: the project's
    table: tuple[Resource, ...] | None = field(default=None, repr=False)

    @property
    def against(self) -> Contract:
        """The contract this record is read against: the one it is bound to, else the shipped one."""
        return self.contract or shipped()

    def bound(self, contract: Contract) -> Resource:
        """The same record, read against ``contract`` (a test's run checks against it)."""
        return self if self.contract is contract else replace(self, contract=contract)

    def op(self, role: str, contract: Contract | None = None) -> Operation | None:
        """The operation of ``role`` in ``contract`` (else the one the record is bound to); None when the table
        names none, or the contract (another release's) lacks it, so deriving tests never stops there."""
        operation_id = self.operations.get(role)
        return (contract or self.against).operations.get(operation_id) if operation_id else None

    def has(self, role: str) -> bool:
        return role in self.operations

    # The facts below are the table read against a contract: ``*_in(contract)`` for a given one, the
    # plain properties for the one the record is bound to.

    @property
    def item_path(self) -> str:
        return self.item_path_in(self.against)

    def item_path_in(self, contract: Contract) -> str:
        """The path template that names one record (from get, update or delete)."""
        return _fact(contract, self, "item_path", lambda: self._item_path(contract))

    def _item_path(self, contract: Contract) -> str:
        for role in ("get", "update", "delete"):
            op = self.op(role, contract)
            if op is not None and "{" + self.id_param + "}" in op.path:
                return op.path
        raise ValueError(f"resource {self.name} has no operation on one record")

    @property
    def parent_params(self) -> tuple[str, ...]:
        return self.parent_params_in(self.against)

    def parent_params_in(self, contract: Contract) -> tuple[str, ...]:
        """Path parameters that name the parents (all but the record's own id)."""
        return tuple(name for name in _PARAM.findall(self.item_path_in(contract)) if name != self.id_param)

    @property
    def record_pointer(self) -> str:
        """Where a create response holds the new record: ``/integration``, or ``/messages/0``."""
        return f"/{self.envelope}/0" if self.created_in_list else f"/{self.envelope}"

    @property
    def shapes(self) -> tuple[str, ...]:
        return self.shapes_in(self.against)

    def shapes_in(self, contract: Contract) -> tuple[str, ...]:
        """The discriminator's values a create body may take (every integration type)."""
        return _fact(contract, self, "shapes", lambda: self._shapes(contract))

    def _shapes(self, contract: Contract) -> tuple[str, ...]:
        op = self.op("create", contract)
        if self.discriminator is None or op is None or op.request is None:
            return ()
        properties = contract.resolve(op.request).get("properties") or {}
        return tuple(str(value) for value in (properties.get(self.discriminator) or {}).get("enum") or ())

    @property
    def record_schema(self) -> str | None:
        return self.record_schema_in(self.against)

    def record_schema_in(self, contract: Contract) -> str | None:
        """The schema of one record: the envelope property of the resource's single-record response."""
        return _fact(contract, self, "record_schema", lambda: self._record_schema(contract))

    def _record_schema(self, contract: Contract) -> str | None:
        for role, status in (("get", 200), ("create", 201), ("update", 200)):
            op = self.op(role, contract)
            ref = op.response_schema(status) if op else None
            if ref is None:
                continue
            for name, sub, base in contract.top_properties(ref):
                if name != self.envelope or not isinstance(sub, dict):
                    continue
                if self.created_in_list and isinstance(sub.get("items"), dict):
                    sub = sub["items"]
                members = sub.get("allOf") or []
                if isinstance(sub.get("$ref"), str):
                    return urljoin(base, str(sub["$ref"]))
                if len(members) == 1 and isinstance(members[0], dict) and "$ref" in members[0]:
                    return urljoin(base, str(members[0]["$ref"]))
        return None


def crud(noun: str, plural: str | None = None, *, roles: tuple[str, ...] = ROLES) -> dict[str, str]:
    """Operation ids named the vendor's usual way: CreateX, ListXs, GetX, UpdateX, DeleteX."""
    names = {
        "create": f"Create{noun}",
        "list": f"List{plural or noun + 's'}",
        "get": f"Get{noun}",
        "update": f"Update{noun}",
        "delete": f"Delete{noun}",
    }
    return {role: names[role] for role in roles}


RESOURCES: tuple[Resource, ...] = (
    # -- apps and app keys ------------------------------------------------------------------------
    Resource(
        name="app",
        operations=crud("App"),
        id_param="appId",
        envelope="app",
        collection="apps",
        parent=None,
        not_found="app_not_found",
        scope="account",
        tag_field="displayName",
    ),
    Resource(
        name="appKey",
        operations=crud("AppKey", roles=("create", "list", "get", "delete")),
        id_param="keyId",
        envelope="key",
        collection="keys",
        not_found="not_found",
        server_fields=("id", "secret"),
        limit=10,
        scope="account",
        tag_field="displayName",
    ),
    # -- integrations ------------------------------------------------------------------------------
    Resource(
        name="integration",
        operations=crud("Integration"),
        id_param="integrationId",
        envelope="integration",
        collection="integrations",
        discriminator="type",
        not_found="integration_not_found",
        server_fields=("id", "status"),
        filters={"filter[types]": "type"},
        tag_field="displayName",
    ),
    # -- webhooks and custom integration API keys ----------------------------------------------------
    # Both live under a custom integration. The 10-webhook limit is per app, across integrations,
    # so the sandbox's behaviour enforces it, not the table's per-parent limit.
    Resource(
        name="webhook",
        operations=crud("Webhook"),
        id_param="webhookId",
        envelope="webhook",
        collection="webhooks",
        parent="integration",
        not_found="not_found",
        server_fields=("id", "version", "secret"),
    ),
    Resource(
        name="integrationKey",
        operations=crud("CustomIntegrationKey", roles=("create", "list", "get", "delete")),
        id_param="keyId",
        envelope="key",
        collection="keys",
        parent="integration",
        not_found="not_found",
        server_fields=("id", "secret"),
        limit=10,
        tag_field="displayName",
    ),
    # -- users, clients and devices ------------------------------------------------------------------
    Resource(
        name="user",
        operations=crud("User"),
        id_param="userIdOrExternalId",
        envelope="user",
        collection="users",
        not_found="user_not_found",
        server_fields=("id", "identities"),
        unique=("externalId",),
        alternate_ids=("externalId",),
        filters={"filter[identities.email]": "profile.email"},
        tag_field="externalId",
    ),
    Resource(
        name="client",
        operations={"create": "CreateClient", "list": "ListClients", "delete": "RemoveClient"},
        id_param="clientId",
        envelope="client",
        collection="clients",
        parent="user",
        not_found="client_not_found",
        server_fields=("id", "status", "type", "integrationId", "externalId", "lastSeen", "linkedAt"),
    ),
    # Devices come from SDK logins, never from the API: no create, so tests find them on a user
    # who has signed in through an SDK (SUNCO_SDK_USER_ID; the sandbox seeds one).
    Resource(
        name="device",
        operations={"list": "ListDevices", "get": "GetDevice"},
        id_param="deviceId",
        envelope="device",
        collection="devices",
        parent="user",
        not_found="device_not_found",
        server_fields=("id", "guid", "clientId", "integrationId", "status", "type", "lastSeen"),
    ),
    # -- conversations and participants ---------------------------------------------------------------
    Resource(
        name="conversation",
        operations=crud("Conversation"),
        id_param="conversationId",
        envelope="conversation",
        collection="conversations",
        not_found="conversation_not_found",
        server_fields=(
            "id",
            "activeSwitchboardIntegration",
            "pendingSwitchboardIntegration",
            "isDefault",
            "businessLastRead",
            "lastUpdatedAt",
            "createdAt",
        ),
        # Conversations are listed for one participant. The create body names participants; the
        # record does not show them (the sandbox keeps them as participant records).
        filters={"filter[userId]": "participants.userId", "filter[userExternalId]": "participants.userExternalId"},
        tag_field="displayName",
    ),
    # -- messages and attachments ----------------------------------------------------------------------
    Resource(
        name="message",
        operations={"create": "PostMessage", "list": "ListMessages", "delete": "DeleteMessage"},
        id_param="messageId",
        envelope="messages",
        collection="messages",
        parent="conversation",
        not_found="not_found",
        server_fields=("id", "received", "source", "deleted", "quotedMessage", "references", "activity"),
        created_in_list=True,
        completed=("author", "content", "metadata"),
        sized_pages=False,
    ),
    # -- switchboards and switchboard integrations -----------------------------------------------------
    Resource(
        name="switchboard",
        # No Get: a switchboard is read through its list.
        operations=crud("Switchboard", roles=("create", "list", "update", "delete")),
        id_param="switchboardId",
        envelope="switchboard",
        collection="switchboards",
        not_found="switchboard_not_found",
        # One switchboard per app.
        limit=1,
        limit_error=(400, "bad_request"),
    ),
    Resource(
        name="switchboardIntegration",
        operations=crud("SwitchboardIntegration", roles=("create", "list", "update", "delete")),
        id_param="switchboardIntegrationId",
        envelope="switchboardIntegration",
        collection="switchboardIntegrations",
        parent="switchboard",
        not_found="switchboard_integration_not_found",
        limit=10,
        limit_error=(400, "too_many_switchboard_integrations"),
    ),
)


BY_NAME: dict[str, Resource] = {resource.name: resource for resource in RESOURCES}


def resource(name: str) -> Resource:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown resource {name!r}; known resources: {', '.join(sorted(BY_NAME))}") from None


def by_operation() -> dict[str, tuple[Resource, str]]:
    """operationId -> (resource, role)."""
    return {op_id: (r, role) for r in RESOURCES for role, op_id in r.operations.items()}


def dotted(record: Mapping[str, object], path: str) -> object:
    """The value at a dotted path (``profile.email``), or None."""
    value: object = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def dotted_all(record: object, path: str) -> list[object]:
    """Every value at a dotted path, through lists too (``participants.userId``: each participant's)."""
    values: list[object] = [record]
    for part in path.split("."):
        found: list[object] = []
        for value in values:
            items = value if isinstance(value, list) else [value]
            found += [item[part] for item in items if isinstance(item, Mapping) and item.get(part) is not None]
        values = found
    return values


def _required_query(item: Resource, contract: Contract | None = None) -> set[str]:
    op = item.op("list", contract)
    return {p.name for p in op.parameters if p.location == "query" and p.required} if op else set()


def needs_filter(item: Resource, contract: Contract | None = None) -> bool:
    """The list answers only with a filter (users by email, conversations by participant)."""
    return any(key.partition("[")[0] in _required_query(item, contract) for key in item.filters)


def required_filters(item: Resource, body: Any, contract: Contract | None = None) -> dict[str, str]:
    """Query a list needs to answer at all (users are listed by email only), from a created body.

    A path through a list (a conversation's participants) takes its first value, and is left out
    when the body has none: a participant is named by userId or by userExternalId."""
    if not isinstance(body, dict):
        return {}
    needed = _required_query(item, contract)
    found: dict[str, str] = {}
    for key, path in item.filters.items():
        if key.partition("[")[0] not in needed:
            continue
        values = dotted_all(body, path)
        if values:
            found[key] = str(values[0])
        elif not _through_list(item, path, contract) and dotted(body, path) is not None:
            found[key] = str(dotted(body, path))
    # A value the body lacks is left out, never sent as "None": the list then refuses the query (a
    # failure that names it) instead of matching every record.
    return found


def _through_list(item: Resource, path: str, contract: Contract | None = None) -> bool:
    """The path's first field is a list in the create body (a conversation's participants)."""
    chosen = contract or item.against
    op = item.op("create", chosen)
    schema = chosen.property_schema(op.request, path.split(".")[0]) if op and op.request else {}
    kind = schema.get("type")
    return kind == "array" or (isinstance(kind, list) and "array" in kind)


def parent_of(item: Resource) -> Resource:
    """The record ``item.parent`` names, in the item's table, read against the item's contract."""
    assert item.parent, f"{item.name} has no parent"
    if item.table is None:
        parent = resource(item.parent)
    else:
        found = [other for other in item.table if other.name == item.parent]
        if not found:
            raise KeyError(f"{item.name}'s parent {item.parent!r} is not in its table")
        parent = replace(found[0], table=item.table)
    return parent if item.contract is None else parent.bound(item.contract)


def chain(item: Resource) -> list[Resource]:
    """The resource's ancestors, outermost first, then the resource itself (the app is not included)."""
    out = [item]
    while out[0].parent and out[0].parent != "app":
        out.insert(0, parent_of(out[0]))
    return out
