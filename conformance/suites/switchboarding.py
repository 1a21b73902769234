"""A switchboard set up for control hand-offs, driven through a test's session.

Two custom integrations, a bot and an agent, each linked by a switchboard integration that names
the other as its next; the switchboard enabled with the bot as its default; a user, and a
personal conversation that starts under the bot's control. Ids the API hands out are filled into
pinned body templates at call time: replay gets the same ids back from the cassette.

Linked switchboard integrations cannot be deleted one by one (a default, or another's next,
cannot go), so they are struck from the ledger as they are made: the switchboard's own delete
takes them, at the end of a flow or at teardown. A member's custom integration can be given a
key (integration scope) to act as that integration; the ledger deletes the key at teardown.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import strategies as st

from conformance.contract.resources import resource
from conformance.definitions.switchboards import names
from conformance.model import Exchange, Expect, Variant
from conformance.session.session import ConformanceSession
from conformance.suites.expectations import created
from conformance.suites.flows import Records, setup_variants, shape_hints, valid_bodies
from conformance.variants.strategies import safe_text

SWITCHBOARD = resource("switchboard")
MEMBER = resource("switchboardIntegration")
INTEGRATION = resource("integration")
KEY = resource("integrationKey")
USER = resource("user")
CONVERSATION = resource("conversation")
ACTIVE = "activeSwitchboardIntegration"
PENDING = "pendingSwitchboardIntegration"
OK = Expect(200)
KEY_ALPHABET = string.ascii_letters + string.digits + "_"


def metadata() -> st.SearchStrategy[dict[str, Any]]:
    """Flat metadata: strings, numbers and booleans, as the actions take it."""
    values = st.one_of(safe_text(1, 12), st.integers(-1000, 1000), st.booleans())
    return st.dictionaries(st.text(alphabet=KEY_ALPHABET, min_size=1, max_size=8), values, min_size=1, max_size=3)


def with_fields(variant: Variant, **fields: Any) -> Variant:
    """The variant with fields only known at run time (ids) added to its body."""
    return replace(variant, body={**(variant.body or {}), **fields})


def member_templates() -> st.SearchStrategy[list[Variant]]:
    """A bot and an agent: two different names, each with its standby setting."""
    pairs = st.tuples(names(), names(), st.booleans(), st.booleans()).filter(lambda found: found[0] != found[1])
    return pairs.map(
        lambda found: [
            Variant("bot", {"name": found[0], "deliverStandbyEvents": found[2]}, Expect(201)),
            Variant("agent", {"name": found[1], "deliverStandbyEvents": found[3]}, Expect(201)),
        ]
    )


@dataclass
class Member:
    id: str
    name: str
    # the custom integration it links (None for one linked by type)
    integration_id: str | None = None


class Switchboarding:
    """The switchboard of a test, its members, and conversations under its control."""

    def __init__(self, sunco: ConformanceSession) -> None:
        self.sunco = sunco
        self.members = Records(sunco, MEMBER)
        self.integrations = Records(sunco, INTEGRATION)
        self.conversations = Records(sunco, CONVERSATION)
        self.labels: dict[str, str] = {}

    @property
    def switchboard_id(self) -> str:
        """The switchboard, created the first time it is needed (a test needs at most one)."""
        return self.members.parents()[SWITCHBOARD.id_param]

    # -- records -------------------------------------------------------------------------------

    def custom_integrations(self, count: int) -> list[str]:
        bodies = valid_bodies(INTEGRATION, hints=shape_hints(INTEGRATION, "custom"))
        strategy = st.lists(bodies, min_size=count, max_size=count, unique_by=repr).map(
            lambda found: [Variant(f"custom integration {n + 1}", b, Expect(201)) for n, b in enumerate(found)]
        )
        made = [self.integrations.create(v).id for v in self.sunco.variants("integrations", strategy, count)]
        return [self.sunco.require(found, "a custom integration to link") for found in made]

    def member(self, template: Variant, **links: Any) -> Member:
        body = {**template.body, **links}
        record_id = self.members.create(created(MEMBER, body, template.label)).id
        found = self.sunco.require(record_id, f"the {template.label} switchboard integration", template)
        self.sunco.ledger.forget(MEMBER, self.members.path(found))
        self.labels[found] = template.label
        linked = body.get("integrationId")
        return Member(found, str(body["name"]), str(linked) if linked else None)

    def integration_key(self, member: Member) -> tuple[str, str, str]:
        """A key of integration scope for ``member``'s custom integration, to sign its calls (deleted at teardown)."""
        label = self.labels.get(member.id, "member")
        assert member.integration_id is not None, f"the {label} is linked by type: it has no custom integration"
        keys = Records(self.sunco, KEY, parents={INTEGRATION.id_param: member.integration_id})
        variant = self.sunco.variants(f"key-{label}", setup_variants(KEY), 1)[0]
        key = keys.create(variant)
        key_id = self.sunco.require(key.id, f"an integration key of the {label}", variant)
        found = self.sunco.require(
            key.record.get("secret"), f"the secret of the {label}'s key", variant, pointer=f"/{KEY.envelope}/secret"
        )
        return key_id, str(found), "integration"

    def link_next(self, member: Member, following: Member) -> Exchange:
        body = {"nextSwitchboardIntegrationId": following.id}
        echo = (("/nextSwitchboardIntegrationId", f"/{MEMBER.envelope}/nextSwitchboardIntegrationId"),)
        return self.members.call("update", member.id, body=body, expect=Expect(200, echo=echo))

    def enable(self, default: Member) -> Exchange:
        body = {"enabled": True, "defaultSwitchboardIntegrationId": default.id}
        echo = tuple((f"/{name}", f"/{SWITCHBOARD.envelope}/{name}") for name in body)
        return self.sunco.call(
            SWITCHBOARD.operations["update"],
            body=body,
            path_params={SWITCHBOARD.id_param: self.switchboard_id},
            expect=Expect(200, echo=echo),
        )

    def conversation(self) -> str:
        user = Records(self.sunco, USER)
        setup = self.sunco.variants("user", setup_variants(USER), 1)[0]
        user_id = self.sunco.require(user.create(setup).id, "a user to talk to", setup)
        template = Variant("personal conversation", {"type": "personal"}, Expect(201))
        variant = with_fields(template, participants=[{"userId": user_id}])
        found = self.conversations.create(created(CONVERSATION, variant.body, variant.label)).id
        conversation_id = self.sunco.require(found, "a conversation to hand control over", variant)
        # A user's first personal conversation is its default, which only goes with the user: leave it to that.
        self.sunco.ledger.forget(CONVERSATION, self.conversations.path(conversation_id))
        return conversation_id

    def delete_switchboard(self) -> Exchange:
        return Records(self.sunco, SWITCHBOARD).delete(self.switchboard_id)

    # -- control ----------------------------------------------------------------------------------

    def act(
        self, operation_id: str, conversation_id: str, variant: Variant, key: tuple[str, str, str] | None = None
    ) -> Exchange:
        """One action on the conversation, signed with ``key`` (id, secret, scope) when given."""
        path = {CONVERSATION.id_param: conversation_id}
        return self.sunco.call(operation_id, variant=variant, path_params=path, key=key)

    def expect_control(self, conversation_id: str, after: str, *, active: str | None, pending: str | None) -> None:
        """GetConversation shows ``active`` in control and ``pending`` offered it (None: nobody)."""
        exchange = self.conversations.call("get", conversation_id, expect=OK)
        record = (exchange.body or {}).get(CONVERSATION.envelope) if isinstance(exchange.body, dict) else None
        record = record if isinstance(record, dict) else {}
        for field_name, wanted in ((ACTIVE, active), (PENDING, pending)):
            held = record.get(field_name)
            got = held.get("id") if isinstance(held, dict) else None
            self.sunco.expect_state(
                exchange,
                got == wanted,
                title=f"shows the wrong {field_name} after {after}.",
                pointer=f"/{CONVERSATION.envelope}/{field_name}/id",
                rule=f"after {after}, {self._who(wanted)} is the {field_name}",
                expected=f"{wanted} ({self._who(wanted)})" if wanted else "(absent)",
                actual=f"{got} ({self._who(got)})" if got else "(absent)",
            )

    def _who(self, member_id: str | None) -> str:
        return self.labels.get(member_id or "", "another switchboard integration") if member_id else "nobody"


def hand_off_setup(sunco: ConformanceSession) -> tuple[Switchboarding, Member, Member, str]:
    """Bot and agent, each the other's next; enabled with the bot as default; a conversation under the bot."""
    board = Switchboarding(sunco)
    bot_integration, agent_integration = board.custom_integrations(2)
    bot_template, agent_template = sunco.variants("members", member_templates(), 2)
    bot = board.member(bot_template, integrationId=bot_integration)
    agent = board.member(agent_template, integrationId=agent_integration, nextSwitchboardIntegrationId=bot.id)
    board.link_next(bot, agent)
    board.enable(bot)
    conversation_id = board.conversation()
    board.expect_control(conversation_id, "a conversation begins", active=bot.id, pending=None)
    return board, bot, agent, conversation_id
