"""Switchboard actions: who holds control of a conversation after each hand-off.

Every step is followed by GetConversation, which must show the ``activeSwitchboardIntegration``
and ``pendingSwitchboardIntegration`` the documented state machine leads to. An action that
cannot apply (offering control to the one that holds it, accepting when nothing is pending, a
target nobody or several have) answers 200, changes nothing and is reported by its ``:failure``
event: the contract documents the events and no error status for these. A caller of integration
scope (a custom integration's key) may accept control only when its integration is pending and
release it only when active; anyone else is refused with 403 ``forbidden``, and nothing changes.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from hypothesis import strategies as st

from conformance.contract.schemas import Contract
from conformance.model import Expect, RawBody, Variant
from conformance.session.session import ConformanceSession
from conformance.suites.switchboarding import (
    CONVERSATION,
    KEY,
    Switchboarding,
    hand_off_setup,
    metadata,
    with_fields,
)
from conformance.variants import negative
from conformance.variants.strategies import hex_id

ACTIONS = ("PassControl", "OfferControl", "AcceptControl", "ReleaseControl")
TARGETED = ("PassControl", "OfferControl")
OK = Expect(200)
BAD = "bad_request"
FORBIDDEN = Expect(403, "forbidden")
METADATA_LIMIT = 4096


def _step(label: str, body: dict[str, Any] | None = None, expect: Expect = OK) -> st.SearchStrategy[Variant]:
    """A control body with drawn metadata (run-time ids are added when it is sent)."""
    return metadata().map(lambda found: Variant(label, {**(body or {}), "metadata": found}, expect))


def test_control_hand_offs_move_control_between_switchboard_integrations(sunco: ConformanceSession) -> None:
    board, bot, agent, conversation_id = hand_off_setup(sunco)
    steps = st.tuples(
        _step("pass control to next", {"switchboardIntegration": "next"}),
        _step("offer control to the bot by name"),
        _step("accept control"),
        _step("pass control to the agent by id"),
        _step("offer control to next"),
        _step("pass control to the offered bot by id"),
        _step("release control"),
    ).map(list)
    to_next, offer_bot, accept, pass_agent, offer_next, pass_again, release = sunco.variants("hand-offs", steps, 7)

    board.act("PassControl", conversation_id, to_next)
    board.expect_control(conversation_id, "passControl to next", active=agent.id, pending=None)

    board.act("OfferControl", conversation_id, with_fields(offer_bot, switchboardIntegration=bot.name))
    board.expect_control(conversation_id, "offerControl to the bot", active=agent.id, pending=bot.id)

    board.act("AcceptControl", conversation_id, accept)
    board.expect_control(conversation_id, "acceptControl", active=bot.id, pending=None)

    board.act("PassControl", conversation_id, with_fields(pass_agent, switchboardIntegration=agent.id))
    board.expect_control(conversation_id, "passControl to the agent", active=agent.id, pending=None)

    board.act("OfferControl", conversation_id, with_fields(offer_next, switchboardIntegration="next"))
    board.expect_control(conversation_id, "offerControl to next", active=agent.id, pending=bot.id)

    # Passing control ends any offer: the one offered goes back to standby unless it is the target.
    board.act("PassControl", conversation_id, with_fields(pass_again, switchboardIntegration=bot.id))
    board.expect_control(conversation_id, "passControl to the offered bot", active=bot.id, pending=None)

    board.act("ReleaseControl", conversation_id, release)
    board.expect_control(conversation_id, "releaseControl", active=None, pending=None)

    # Deleting the switchboard takes its switchboard integrations with it.
    board.delete_switchboard()
    board.members.call("list", expect=Expect(404, "switchboard_not_found"))
    sunco.finish()


def test_control_actions_that_cannot_apply_change_nothing(sunco: ConformanceSession) -> None:
    board, bot, _agent, conversation_id = hand_off_setup(sunco)
    steps = st.tuples(
        _step("offer control to the one in control"),
        _step("accept control with nothing pending"),
        _step("pass control to a name nobody has", {"switchboardIntegration": "nobody-by-this-name"}),
        _step("pass control to a type both have", {"switchboardIntegration": "custom"}),
        _step("pass control to the one in control again"),
        _step("release control without a body"),
        _step("pass control to next with nobody in control", {"switchboardIntegration": "next"}),
    ).map(list)
    offer_active, accept, unknown, ambiguous, again, release, orphan = sunco.variants("no-ops", steps, 7)

    board.act("OfferControl", conversation_id, with_fields(offer_active, switchboardIntegration=bot.name))
    board.expect_control(conversation_id, "offerControl to the active one", active=bot.id, pending=None)

    board.act("AcceptControl", conversation_id, accept)
    board.expect_control(conversation_id, "acceptControl with nothing pending", active=bot.id, pending=None)

    board.act("PassControl", conversation_id, unknown)
    board.expect_control(conversation_id, "passControl to an unknown name", active=bot.id, pending=None)

    board.act("PassControl", conversation_id, ambiguous)
    board.expect_control(conversation_id, "passControl to a shared type", active=bot.id, pending=None)

    board.act("PassControl", conversation_id, with_fields(again, switchboardIntegration=bot.id))
    board.expect_control(conversation_id, "passControl to the one in control", active=bot.id, pending=None)

    # The body of Release Control is optional.
    board.act("ReleaseControl", conversation_id, Variant(release.label, None, OK))
    board.expect_control(conversation_id, "releaseControl without a body", active=None, pending=None)

    board.act("PassControl", conversation_id, orphan)
    board.expect_control(conversation_id, "passControl to next with nobody in control", active=None, pending=None)
    board.delete_switchboard()
    sunco.finish()


def test_accept_control_refuses_an_integration_that_is_not_pending(sunco: ConformanceSession) -> None:
    sunco.require_scope(*KEY.operations.values())
    board, bot, agent, conversation_id = hand_off_setup(sunco)
    as_bot = board.integration_key(bot)
    steps = st.tuples(
        _step("offer control to the agent by id"),
        _step("accept control with the key of the bot, which is not pending", expect=FORBIDDEN),
        _step("pass control to the agent by id"),
        _step("offer control to the bot by id"),
        _step("accept control with the key of the bot, now pending"),
    ).map(list)
    offer_agent, refused, pass_agent, offer_bot, accept = sunco.variants("accept-as-integration", steps, 5)

    board.act("OfferControl", conversation_id, with_fields(offer_agent, switchboardIntegration=agent.id))
    board.expect_control(conversation_id, "offerControl to the agent", active=bot.id, pending=agent.id)

    board.act("AcceptControl", conversation_id, refused, key=as_bot)
    board.expect_control(conversation_id, "a refused acceptControl", active=bot.id, pending=agent.id)

    # The same key may accept once its integration is the pending one: the refusal was about who asked.
    board.act("PassControl", conversation_id, with_fields(pass_agent, switchboardIntegration=agent.id))
    board.act("OfferControl", conversation_id, with_fields(offer_bot, switchboardIntegration=bot.id))
    board.expect_control(conversation_id, "offerControl to the bot", active=agent.id, pending=bot.id)
    board.act("AcceptControl", conversation_id, accept, key=as_bot)
    board.expect_control(conversation_id, "acceptControl by the pending bot", active=bot.id, pending=None)
    sunco.finish()


def test_release_control_refuses_an_integration_that_is_not_active(sunco: ConformanceSession) -> None:
    sunco.require_scope(*KEY.operations.values())
    board, bot, agent, conversation_id = hand_off_setup(sunco)
    as_agent = board.integration_key(agent)
    steps = st.tuples(
        _step("release control with the key of the agent, which is not active", expect=FORBIDDEN),
        _step("pass control to the agent by id"),
        _step("release control with the key of the agent, now active"),
    ).map(list)
    refused, pass_agent, release = sunco.variants("release-as-integration", steps, 3)

    board.act("ReleaseControl", conversation_id, refused, key=as_agent)
    board.expect_control(conversation_id, "a refused releaseControl", active=bot.id, pending=None)

    # The same key may release once its integration holds control.
    board.act("PassControl", conversation_id, with_fields(pass_agent, switchboardIntegration=agent.id))
    board.expect_control(conversation_id, "passControl to the agent", active=agent.id, pending=None)
    board.act("ReleaseControl", conversation_id, release, key=as_agent)
    board.expect_control(conversation_id, "releaseControl by the active agent", active=None, pending=None)
    sunco.finish()


def _target(operation_id: str) -> dict[str, Any]:
    """The smallest valid body of an action: pass and offer name their target."""
    return {"switchboardIntegration": "next"} if operation_id in TARGETED else {}


def _ref(contract: Contract, operation_id: str) -> str:
    return str(contract.operation(operation_id).request)


def _bases(operation_id: str) -> st.SearchStrategy[list[Any]]:
    return metadata().map(lambda found: [{**_target(operation_id), "metadata": found}])


def _invalid_bodies(contract: Contract, operation_id: str) -> st.SearchStrategy[list[Variant]]:
    """Bodies an action must refuse with 400: a required field left out, metadata nested or over 4 KB, not JSON."""
    target = _target(operation_id)
    crafted = [
        Variant("metadata with a nested object", {**target, "metadata": {"nested": {"a": 1}}}, Expect(400, BAD)),
        Variant("metadata with a list", {**target, "metadata": {"list": [1, 2]}}, Expect(400, BAD)),
        Variant("metadata that is not an object", {**target, "metadata": "lang=en-ca"}, Expect(400, BAD)),
        Variant("metadata over 4 KB", {**target, "metadata": {"text": "x" * METADATA_LIMIT}}, Expect(400, BAD)),
        Variant("a body that is not JSON", RawBody("switchboardIntegration=next"), Expect(400, BAD)),
    ]
    missing = _bases(operation_id).map(
        lambda bases: negative.invalid(
            _ref(contract, operation_id),
            bases,
            negative.missing_required,
            BAD,
            limit=2,
            discriminator=None,
            contract=contract,
        )
    )
    return missing.map(lambda found: [*found, *crafted])


def test_control_actions_reject_invalid_bodies(sunco: ConformanceSession) -> None:
    board = Switchboarding(sunco)
    conversation_id = board.conversation()
    for operation_id in ACTIONS:
        count = 6 if operation_id in TARGETED else 5
        for variant in sunco.variants(f"invalid-{operation_id}", _invalid_bodies(sunco.contract, operation_id), count):
            board.act(operation_id, conversation_id, variant)
        ref = _ref(sunco.contract, operation_id)
        wrong = negative.wrong_types(
            _bases(operation_id), ref, BAD, limit=2, discriminator=None, contract=sunco.contract
        )
        for variant in sunco.variants(f"wrong-types-{operation_id}", wrong, 2):
            board.act(operation_id, conversation_id, variant)
    sunco.finish()


def test_control_actions_return_404_for_unknown_conversation(sunco: ConformanceSession) -> None:
    for operation_id in ACTIONS:
        unknown = negative.unknown_ids(CONVERSATION.id_param, CONVERSATION.not_found)
        for variant in sunco.variants(f"unknown-{operation_id}", unknown, 1):
            sunco.call(operation_id, variant=with_fields(variant, **_target(operation_id)))
    sunco.finish()


def _anonymous(operation_id: str, conversation_id: str) -> Variant:
    path = {"path": {CONVERSATION.id_param: conversation_id}}
    return Variant("no credentials", _target(operation_id), Expect(401, "unauthorized"), params=path)


def test_control_actions_require_credentials(sunco: ConformanceSession) -> None:
    for operation_id in ACTIONS:
        named = hex_id().map(partial(_anonymous, operation_id))
        variant = sunco.variants(f"no-credentials-{operation_id}", named, 1)[0]
        sunco.call(
            operation_id,
            body=variant.body,
            path_params=dict(variant.params["path"]),
            authenticate=False,
            expect=variant.expect,
        )
    sunco.finish()
