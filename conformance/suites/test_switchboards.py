"""Switchboards and switchboard integrations: the tests the resource table implies, and the rules it cannot say.

One switchboard per app, created disabled; enabling it needs a default switchboard integration of
its own. A switchboard integration links an integration of the app, by id (custom integrations)
or by type (Zendesk's built-in ones); a default, or another's next, cannot be deleted; deleting
the switchboard takes its switchboard integrations with it.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from conformance.definitions.switchboards import BUILT_IN_TYPE
from conformance.model import Expect, Variant
from conformance.session.session import ConformanceSession
from conformance.suites.generic.generated import Generated
from conformance.suites.switchboarding import MEMBER, SWITCHBOARD, Switchboarding, member_templates
from conformance.variants.strategies import hex_id

GENERATED = Generated("switchboard", "switchboardIntegration")

BAD = Expect(400, "bad_request")
OK = Expect(200)


def _record(exchange_body: Any, envelope: str) -> dict[str, Any]:
    record = exchange_body.get(envelope) if isinstance(exchange_body, dict) else None
    return record if isinstance(record, dict) else {}


def test_update_switchboard_enables_it_only_with_a_default_of_its_own(sunco: ConformanceSession) -> None:
    board = Switchboarding(sunco)
    template = sunco.variants("members", member_templates(), 2)[0]
    member = board.member(template, integrationType=BUILT_IN_TYPE)
    unknown = sunco.variants(
        "unknown-default",
        hex_id().map(
            lambda found: Variant(
                "a default nobody has", {"enabled": True, "defaultSwitchboardIntegrationId": found}, BAD
            )
        ),
        1,
    )[0]
    path = {SWITCHBOARD.id_param: board.switchboard_id}
    update = SWITCHBOARD.operations["update"]
    sunco.call(update, body={"enabled": True}, path_params=path, expect=BAD)
    sunco.call(update, variant=unknown, path_params=path)
    echo = (("/defaultSwitchboardIntegrationId", "/switchboard/defaultSwitchboardIntegrationId"),)
    sunco.call(
        update, body={"defaultSwitchboardIntegrationId": member.id}, path_params=path, expect=Expect(200, echo=echo)
    )
    sunco.call(
        update,
        body={"enabled": True},
        path_params=path,
        expect=Expect(200, echo=(("/enabled", "/switchboard/enabled"),)),
    )
    listed = sunco.call(SWITCHBOARD.operations["list"], expect=OK)
    found = [
        s
        for s in (listed.body or {}).get("switchboards") or []
        if isinstance(s, dict) and s.get("id") == board.switchboard_id
    ]
    shown = {k: found[0].get(k) for k in ("enabled", "defaultSwitchboardIntegrationId")} if found else None
    wanted = {"enabled": True, "defaultSwitchboardIntegrationId": member.id}
    sunco.expect_state(
        listed,
        shown == wanted,
        title="does not show the switchboard as enabled with its default.",
        pointer="/switchboards",
        rule="a listed switchboard shows the updates made to it",
        expected=wanted,
        actual=shown,
    )
    sunco.finish()


def _refusals() -> st.SearchStrategy[list[Variant]]:
    """Links that name nothing: an unknown integration or next, a custom integration by type."""
    return st.tuples(member_templates(), hex_id(), hex_id()).map(
        lambda found: [
            Variant("an integrationId nobody has", {"name": found[0][0].body["name"], "integrationId": found[1]}, BAD),
            Variant(
                "a custom integration linked by type",
                {"name": found[0][0].body["name"], "integrationType": "custom"},
                BAD,
            ),
            Variant(
                "a next nobody has",
                {
                    "name": found[0][1].body["name"],
                    "integrationType": BUILT_IN_TYPE,
                    "nextSwitchboardIntegrationId": found[2],
                },
                BAD,
            ),
        ]
    )


def test_create_switchboard_integration_links_an_integration_by_id_or_by_type(sunco: ConformanceSession) -> None:
    board = Switchboarding(sunco)
    [custom] = board.custom_integrations(1)
    by_id_template, by_type_template = sunco.variants("members", member_templates(), 2)
    by_id = board.member(by_id_template, integrationId=custom)
    by_type = board.member(by_type_template, integrationType=BUILT_IN_TYPE)
    listed = board.members.call("list", expect=OK)
    records = {r.get("id"): r for r in (listed.body or {}).get("switchboardIntegrations") or [] if isinstance(r, dict)}
    linked = {
        "by id": (records.get(by_id.id) or {}).get("integrationType"),
        "by type": bool((records.get(by_type.id) or {}).get("integrationId")),
    }
    sunco.expect_state(
        listed,
        linked == {"by id": "custom", "by type": True},
        title="does not show both halves of each switchboard integration's link.",
        pointer="/switchboardIntegrations",
        rule="a link by integrationId shows the integration's type; a link by type shows the integration's id",
        expected={"by id": "custom", "by type": True},
        actual=linked,
    )
    for variant in sunco.variants("refusals", _refusals(), 3):
        board.members.create(variant)
    # Relinking by type replaces the integration; a switchboard integration is not its own next.
    relink = Expect(200, echo=(("/integrationType", f"/{MEMBER.envelope}/integrationType"),))
    changed = board.members.call("update", by_id.id, body={"integrationType": BUILT_IN_TYPE}, expect=relink)
    after = _record(changed.body, MEMBER.envelope)
    sunco.expect_state(
        changed,
        after.get("integrationId") not in (None, custom),
        title="kept the old integrationId after a relink by type.",
        pointer=f"/{MEMBER.envelope}/integrationId",
        rule="a relink by integrationType links that type's integration",
        expected="the id of the integration of that type",
        actual=after.get("integrationId"),
    )
    board.members.call("update", by_id.id, body={"nextSwitchboardIntegrationId": by_id.id}, expect=BAD)
    sunco.finish()


def test_delete_switchboard_integration_refuses_the_default_and_a_next(sunco: ConformanceSession) -> None:
    board = Switchboarding(sunco)
    first_template, second_template = sunco.variants("members", member_templates(), 2)
    first = board.member(first_template, integrationType=BUILT_IN_TYPE)
    second = board.member(second_template, integrationType=BUILT_IN_TYPE, nextSwitchboardIntegrationId=first.id)
    board.enable(second)
    board.members.delete(first.id, expect=BAD)  # the second names it as its next
    board.members.delete(second.id, expect=BAD)  # the switchboard's default
    unlinked = Expect(200)
    board.members.call("update", second.id, body={"nextSwitchboardIntegrationId": None}, expect=unlinked)
    board.members.delete(first.id)
    board.delete_switchboard()
    board.members.call("list", expect=Expect(404, "switchboard_not_found"))
    sunco.finish()


def _anonymous(label: str, body: Any, **path: str) -> Variant:
    return Variant(label, body, Expect(401, "unauthorized"), params={"path": path})


def test_switchboard_operations_require_credentials(sunco: ConformanceSession) -> None:
    """Every switchboard operation answers 401 without credentials (the creates are in the generated tests)."""
    calls = st.tuples(hex_id(), hex_id()).map(
        lambda ids: [
            _anonymous("ListSwitchboards", None),
            _anonymous("UpdateSwitchboard", {"enabled": False}, switchboardId=ids[0]),
            _anonymous("DeleteSwitchboard", None, switchboardId=ids[0]),
            _anonymous("ListSwitchboardIntegrations", None, switchboardId=ids[0]),
            _anonymous(
                "UpdateSwitchboardIntegration",
                {"deliverStandbyEvents": True},
                switchboardId=ids[0],
                switchboardIntegrationId=ids[1],
            ),
            _anonymous("DeleteSwitchboardIntegration", None, switchboardId=ids[0], switchboardIntegrationId=ids[1]),
        ]
    )
    for variant in sunco.variants("no-credentials", calls, 6):
        sunco.call(
            variant.label,
            body=variant.body,
            path_params=dict(variant.params["path"]),
            authenticate=False,
            expect=variant.expect,
        )
    sunco.finish()


def test_switchboards_return_404_for_unknown_app_or_switchboard(sunco: ConformanceSession) -> None:
    sunco.require_account()  # another app than the configured one is the account key's to ask about
    ids = sunco.variants(
        "unknown",
        st.tuples(hex_id(), hex_id()).map(
            lambda found: [
                Variant("ListSwitchboards", None, Expect(404, "app_not_found"), params={"path": {"appId": found[0]}}),
                Variant("CreateSwitchboard", None, Expect(404, "app_not_found"), params={"path": {"appId": found[0]}}),
                Variant(
                    "ListSwitchboardIntegrations",
                    None,
                    Expect(404, "switchboard_not_found"),
                    params={"path": {"switchboardId": found[1]}},
                ),
            ]
        ),
        3,
    )
    for variant in ids:
        sunco.call(variant.label, variant=variant)
    sunco.finish()
