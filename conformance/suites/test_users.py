"""Users, their clients and devices: the tests the resource table implies, and the flows it cannot say.

Devices and ``sdk`` clients exist only for a user who has signed in through an SDK, and a
``zendeskId`` only for one who signed in through the help center; no operation makes either. So
those tests work on a user the run names (``SUNCO_SDK_USER_ID``, ``SUNCO_ZENDESK_ID``; the
sandbox seeds both), and only read or sync it. Everything a test creates, it deletes.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from hypothesis import strategies as st

from conformance.contract.resources import resource
from conformance.contract.schemas import Contract
from conformance.definitions import hints_for
from conformance.model import Exchange, Expect, RawBody, Variant
from conformance.session.session import ConformanceSession
from conformance.suites.conversation_support import group_body, make_conversation
from conformance.suites.expectations import created
from conformance.suites.flows import Records, created_id, valid_bodies
from conformance.suites.generic.generated import Generated
from conformance.variants import negative
from conformance.variants.strategies import Hints, hex_id, safe_text

GENERATED = Generated("user", "client", "device")

USER, CLIENT, DEVICE, MESSAGE = resource("user"), resource("client"), resource("device"), resource("message")
# What deleting personal information clears (as documented), on the user and on each client.
PERSONAL_PROFILE = ("givenName", "surname", "email", "avatarUrl")
PERSONAL_CLIENT = ("displayName", "avatarUrl", "info", "raw")
SDK_USER = "SUNCO_SDK_USER_ID (a user who has signed in through an SDK)"
ZENDESK_USER = "SUNCO_ZENDESK_ID (the Zendesk Support id of a messaging user linked to it)"
MAX_DEVICES = 3


def _record(exchange: Exchange, envelope: str) -> dict[str, Any]:
    body = exchange.body if isinstance(exchange.body, dict) else {}
    found = body.get(envelope)
    return found if isinstance(found, dict) else {}


def _listed(exchange: Exchange, collection: str) -> list[dict[str, Any]]:
    body = exchange.body if isinstance(exchange.body, dict) else {}
    return [item for item in body.get(collection) or [] if isinstance(item, dict)]


def _kept_personal(record: dict[str, Any], names: tuple[str, ...]) -> list[str]:
    return [name for name in names if record.get(name) not in (None, {}, [])]


def _link(sunco: ConformanceSession, user_id: str, variant: Variant) -> str | None:
    """A client linked to the user, written in the ledger so teardown removes it."""
    exchange = sunco.call("CreateClient", variant=variant, path_params={USER.id_param: user_id})
    found = created_id(exchange, CLIENT)
    if found is not None:
        sunco.ledger.add(CLIENT, {USER.id_param: user_id, CLIENT.id_param: found})
    return found


def _named(user_id: str | None, label: str) -> st.SearchStrategy[Variant]:
    """A variant that only names an existing user (pinned, so replay needs no setting)."""
    params = {"path": {"userIdOrExternalId": str(user_id)}}
    return st.just(Variant(label, None, Expect(200), params=params))


def personal_bodies() -> st.SearchStrategy[Any]:
    """A user with everything the deletion clears: the four profile fields and custom properties."""
    profile = st.fixed_dictionaries(
        {
            "givenName": safe_text(1, 20),
            "surname": safe_text(1, 20),
            "email": hex_id().map(lambda h: f"conformance-{h[:12]}@example.com"),
            "avatarUrl": safe_text(1, 12).map(lambda slug: f"https://example.com/avatars/{slug}.png"),
            "locale": st.sampled_from(["en-US", "fr-CA", "de-DE"]),
        }
    )
    metadata = st.dictionaries(safe_text(1, 12), safe_text(1, 20), min_size=1, max_size=3)
    hints = hints_for("user").merged(
        Hints({"profile": profile, "metadata": metadata}, always=frozenset({"externalId", "profile", "metadata"}))
    )
    return valid_bodies(USER, hints=hints)


def _kept_from(sent: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """The sent personal values the record does not show as sent."""
    profile = record.get("profile") or {}
    wrong = {name: profile.get(name) for name in PERSONAL_PROFILE if profile.get(name) != sent["profile"][name]}
    if record.get("metadata") != sent["metadata"]:
        wrong["metadata"] = record.get("metadata")
    return wrong


def _from_user(user_id: str) -> dict[str, Any]:
    return {
        "author": {"type": "user", "userId": user_id},
        "content": {"type": "text", "text": "conformance: a message that outlives personal information"},
    }


def test_user_with_clients_loses_personal_information_but_stays(sunco: ConformanceSession) -> None:
    """Create a user with a full profile, custom properties, linked clients and a message; delete the
    user's personal information (by externalId); see the profile names, email, avatar and custom
    properties go while the user, its locale, its clients and its conversation history stay."""
    users = Records(sunco, USER)
    made = sunco.variants("user", personal_bodies().map(lambda b: Variant("a user with a profile", b, Expect(201))), 1)
    sent = made[0].body
    user_id = sunco.require(users.create(made[0]).id, "the created user's id", made[0])
    before = users.call("get", user_id, expect=Expect(200))
    sunco.expect_state(
        before,
        not _kept_from(sent, _record(before, "user")),
        title="does not show the profile and custom properties the user was created with.",
        pointer="/user",
        rule="a created user reads back with the givenName, surname, email, avatarUrl and metadata it was given",
        expected={"profile": {n: sent["profile"][n] for n in PERSONAL_PROFILE}, "metadata": sent["metadata"]},
        actual=_kept_from(sent, _record(before, "user")),
    )
    bodies = st.lists(valid_bodies(CLIENT), min_size=2, max_size=2, unique_by=repr)
    linked = sunco.variants(
        "clients",
        bodies.map(lambda found: [Variant(f"client {n + 1}", b, Expect(201)) for n, b in enumerate(found)]),
        2,
    )
    client_ids = [c for c in (_link(sunco, user_id, variant) for variant in linked) if c]
    before_clients = sunco.call("ListClients", path_params={USER.id_param: user_id}, expect=Expect(200))
    listed_before = _listed(before_clients, "clients")
    sunco.expect_state(
        before_clients,
        set(client_ids) <= {str(c.get("id")) for c in listed_before},
        title="does not list the clients just linked to the user.",
        pointer="/clients",
        rule="a linked client is listed among its user's clients",
        expected=client_ids,
        actual=[c.get("id") for c in listed_before],
    )
    conversation_id = make_conversation(sunco, "history", group_body({"id": user_id}))
    said = sunco.variants(
        "history-message", st.just(created(MESSAGE, _from_user(user_id), "a message from the user")), 1
    )
    message_id = Records(sunco, MESSAGE, {"conversationId": conversation_id}).create(said[0]).id
    cleared = sunco.call(
        "DeleteUserPersonalInformation", path_params={USER.id_param: sent["externalId"]}, expect=Expect(200)
    )
    fetched = users.call("get", user_id, expect=Expect(200))
    for exchange, where in ((cleared, "answered"), (fetched, "read back")):
        after = _record(exchange, "user")
        profile = after.get("profile") or {}
        sunco.expect_state(
            exchange,
            after.get("id") == user_id and not _kept_personal(profile, PERSONAL_PROFILE) and not after.get("metadata"),
            title=f"{where} the user with personal information the deletion clears, or another user.",
            pointer="/user",
            rule="the profile's givenName, surname, email, avatarUrl and every custom property are cleared",
            expected={"id": user_id, "profile without": list(PERSONAL_PROFILE), "metadata": "empty"},
            actual={
                "id": after.get("id"),
                "kept": {name: profile.get(name) for name in _kept_personal(profile, PERSONAL_PROFILE)},
                "metadata": after.get("metadata"),
            },
        )
        sunco.expect_state(
            exchange,
            profile.get("locale") == sent["profile"]["locale"] and after.get("externalId") == sent["externalId"],
            title=f"{where} the user without its locale or externalId, which are not personal information.",
            pointer="/user/profile/locale",
            rule="only givenName, surname, email and avatarUrl leave the profile; the user keeps its externalId",
            expected={"locale": sent["profile"]["locale"], "externalId": sent["externalId"]},
            actual={"locale": profile.get("locale"), "externalId": after.get("externalId")},
        )
    listed = sunco.call("ListClients", path_params={USER.id_param: user_id}, expect=Expect(200))
    remaining = _listed(listed, "clients")
    leaking = {
        str(c.get("id")): _kept_personal(c, PERSONAL_CLIENT) for c in remaining if _kept_personal(c, PERSONAL_CLIENT)
    }
    sunco.expect_state(
        listed,
        set(client_ids) <= {str(c.get("id")) for c in remaining} and not leaking,
        title="lost the user's clients, or kept their personal details.",
        pointer="/clients",
        rule="clients stay, without displayName, avatarUrl, info and raw",
        expected={"clients": client_ids, "personal fields": "none"},
        actual={"clients": [c.get("id") for c in remaining], "personal fields": leaking},
    )
    if message_id is not None:
        history = sunco.call("ListMessages", path_params={"conversationId": conversation_id}, expect=Expect(200))
        shown = [str(m.get("id")) for m in _listed(history, "messages")]
        sunco.expect_state(
            history,
            message_id in shown,
            title="lost the user's conversation history with its personal information.",
            pointer="/messages",
            rule="deleting personal information leaves the user's conversations and messages",
            expected=f"a message with id {message_id}",
            actual=shown[-20:],
        )
    sunco.finish()


def test_delete_user_personal_information_returns_404_for_unknown_user(sunco: ConformanceSession) -> None:
    for variant in sunco.variants("unknown-user", negative.unknown_ids(USER.id_param, USER.not_found), 2):
        sunco.call("DeleteUserPersonalInformation", variant=variant)
    sunco.finish()


def test_sdk_user_has_devices_and_an_sdk_client_the_api_cannot_remove(sunco: ConformanceSession) -> None:
    """List a signed-in user's devices (in last-seen order), fetch each, find the sdk client they
    belong to, and see the API refuse to remove that client."""
    user = sunco.variants("sdk-user", _named(sunco.live_setting("sdk_user_id", SDK_USER), "the SDK user"), 1)[0]
    path = dict(user.params["path"])
    listed = sunco.call("ListDevices", path_params=path, expect=Expect(200))
    devices = _listed(listed, "devices")
    sunco.require(devices or None, "a device of the SDK user (it has signed in, so it has one)")
    seen = [str(d.get("lastSeen") or "") for d in devices]
    sunco.expect_state(
        listed,
        seen in (sorted(seen), sorted(seen, reverse=True)),
        title="did not list the devices in last-seen order.",
        pointer="/devices",
        rule="devices are sorted by their last seen time",
        expected="lastSeen in order",
        actual=seen,
    )
    for device in devices[:MAX_DEVICES]:
        fetched = sunco.call("GetDevice", path_params={**path, "deviceId": str(device.get("id"))}, expect=Expect(200))
        got = _record(fetched, "device")
        sunco.expect_state(
            fetched,
            got.get("id") == device.get("id") and got.get("clientId") == device.get("clientId"),
            title="returned another device than the one listed.",
            pointer="/device/id",
            rule="a listed device can be fetched by its id",
            expected=device.get("id"),
            actual=got.get("id"),
        )
    for variant in sunco.variants("unknown-device", negative.unknown_ids("deviceId", DEVICE.not_found), 1):
        sunco.call("GetDevice", path_params={**path, **variant.params["path"]}, expect=variant.expect)
    listed_clients = sunco.call("ListClients", path_params=path, expect=Expect(200))
    clients = _listed(listed_clients, "clients")
    sdk = [c for c in clients if c.get("type") == "sdk"]
    owners = {str(c.get("id")) for c in clients}
    sunco.expect_state(
        listed_clients,
        bool(sdk) and all(str(d.get("clientId")) in owners for d in devices),
        title="does not list the sdk client the user's devices belong to.",
        pointer="/clients",
        rule="a device belongs to one of its user's clients, an sdk one",
        expected=sorted({str(d.get("clientId")) for d in devices}),
        actual=sorted(owners),
    )
    for client in sdk[:1]:
        sunco.call(
            "RemoveClient",
            path_params={**path, "clientId": str(client.get("id"))},
            expect=Expect(400, "bad_request"),
        )
    sunco.finish()


def _sync_variants(zendesk_id: str | None) -> st.SearchStrategy[list[Variant]]:
    def at(variant: Variant, where: str) -> Variant:
        return Variant(variant.label, variant.body, variant.expect, params={"path": {"zendeskId": where}})

    ref = "components/syncUserBody.json"
    wrong = negative.wrong_types(
        st.just([{"survivingZendeskId": "0"}]), ref, "bad_request", limit=1, discriminator=None
    )
    fixed = st.tuples(wrong, hex_id().map(lambda h: str(int(h[:12], 16))))
    return fixed.map(
        lambda found: [
            at(Variant("no body", None, Expect(200)), str(zendesk_id)),
            at(Variant("an empty body", {}, Expect(200)), str(zendesk_id)),
            *(at(v, str(zendesk_id)) for v in found[0]),
            at(
                Variant("body that is not JSON", RawBody("{survivingZendeskId"), Expect(400, "bad_request")),
                str(zendesk_id),
            ),
            at(Variant("a zendeskId no messaging user has", None, Expect(404, USER.not_found)), found[1]),
        ]
    )


def test_sync_user_takes_its_zendesk_counterparts_data(sunco: ConformanceSession) -> None:
    """Synchronize a Zendesk-linked user (with no body and an empty one), see the stored user match
    the answer, and see bad bodies and unknown Zendesk ids refused."""
    zendesk_id = sunco.live_setting("zendesk_id", ZENDESK_USER)
    synced: dict[str, Any] = {}
    for variant in sunco.variants("sync", _sync_variants(zendesk_id), 5):
        exchange = sunco.call("SyncUser", variant=variant)
        if exchange.status == 200:
            synced = _record(exchange, "user")
            sunco.expect_state(
                exchange,
                synced.get("zendeskId") == variant.params["path"]["zendeskId"],
                title="answered with a user that is not linked to the Zendesk user synchronized.",
                pointer="/user/zendeskId",
                rule="the synchronized user is the one linked to the zendeskId in the path",
                expected=variant.params["path"]["zendeskId"],
                actual=synced.get("zendeskId"),
            )
    user_id = sunco.require(synced.get("id"), "the synchronized user's id")
    fetched = sunco.call("GetUser", path_params={USER.id_param: str(user_id)}, expect=Expect(200))
    stored = _record(fetched, "user")
    fields = ("externalId", "zendeskId", "profile", "identities")
    sunco.expect_state(
        fetched,
        all(stored.get(name) == synced.get(name) for name in fields),
        title="does not show what the synchronization answered.",
        pointer="/user",
        rule="a synchronization is stored: the user reads back as it answered",
        expected={name: synced.get(name) for name in fields},
        actual={name: stored.get(name) for name in fields},
    )
    sunco.finish()


# Operations the generated tests do not already call without credentials (they cover the creates).
WITHOUT_CREDENTIALS = (
    "ListUsers",
    "GetUser",
    "UpdateUser",
    "DeleteUser",
    "DeleteUserPersonalInformation",
    "SyncUser",
    "ListClients",
    "RemoveClient",
    "ListDevices",
    "GetDevice",
)


def _unauthenticated(contract: Contract, ids: list[str]) -> list[Variant]:
    path = {USER.id_param: ids[0], "zendeskId": str(int(ids[1][:12], 16)), "clientId": ids[1], "deviceId": ids[2]}
    # Users are listed by email only: the filter is required.
    query = {"ListUsers": {"filter[identities.email]": f"conformance-{ids[0][:12]}@example.com"}}
    return [
        Variant(
            op_id,
            {} if op_id == "UpdateUser" else None,
            Expect(401, "unauthorized"),
            params={
                "path": {k: v for k, v in path.items() if "{" + k + "}" in contract.operation(op_id).path},
                **({"query": query[op_id]} if op_id in query else {}),
            },
        )
        for op_id in WITHOUT_CREDENTIALS
    ]


def test_user_client_and_device_operations_require_credentials(sunco: ConformanceSession) -> None:
    """Every operation on users, clients and devices answers 401 unauthorized without credentials."""
    strategy = st.lists(hex_id(), min_size=3, max_size=3).map(partial(_unauthenticated, sunco.contract))
    for variant in sunco.variants("without-credentials", strategy, len(WITHOUT_CREDENTIALS)):
        sunco.call(variant.label, variant=variant, authenticate=False)
    sunco.finish()
