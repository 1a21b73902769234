"""A resource's records, driven through a test's session: parents first, bodies from the schemas.

Everything a flow creates is written in the session's ledger as it is created, and deleted at
teardown, newest first, even when the test fails; a flow that deletes a record itself strikes it
from the ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

from conformance import pointer as pointers
from conformance.contract.resources import Resource, chain, resource
from conformance.definitions import hints_for
from conformance.model import Exchange, Expect, Variant
from conformance.session import runs
from conformance.variants.strategies import Generator, Hints, branch_ref, safe_text

if TYPE_CHECKING:
    from conformance.session.session import ConformanceSession

OK = 200
CREATED = 201


def created_record(exchange: Exchange, item: Resource) -> dict[str, Any]:
    """The record an answer shows where the resource's answers hold it; empty when it shows none."""
    record = pointers.resolve(exchange.body, item.record_pointer)
    return record if isinstance(record, dict) else {}


def created_id(exchange: Exchange, item: Resource) -> str | None:
    record = created_record(exchange, item)
    return str(record["id"]) if exchange.status == CREATED and record.get("id") else None


def shape_of(item: Resource, body: Any) -> str:
    if item.discriminator and isinstance(body, dict) and isinstance(body.get(item.discriminator), str):
        return str(body[item.discriminator])
    return item.name


def update_schema(item: Resource, stored_shape: str | None) -> str:
    op = item.op("update")
    ref = op.request if op is not None else None
    assert ref is not None, f"{item.name} has no update body"
    return (branch_ref(ref, stored_shape, item.against) if stored_shape else None) or ref


def decided_by_stored(item: Resource) -> bool:
    """The update body's branch is decided by the stored record (an integration's type)."""
    op = item.op("update")
    return bool(op and op.request and "x-conformance-decidedBy" in item.against.resolve(op.request))


def valid_bodies(item: Resource, role: str = "create", hints: Hints | None = None) -> st.SearchStrategy[Any]:
    """Bodies the contract accepts for a resource's create (or update) operation."""
    op = item.op(role)
    ref = op.request if op is not None else None
    if ref is None and role == "create" and op is not None:
        return st.none()  # a create that takes no body (switchboards)
    assert ref is not None, f"{item.name} has no {role} body"
    validator = item.against.validator(ref, "request")
    chosen = hints or hints_for(item.name)
    if role == "create" and item.tag_field:
        # Every record a run creates carries its run's tag, so cleanup can find what a killed run left.
        tagged = Hints({item.tag_field: safe_text(1, 30).map(runs.tag)})
        chosen = tagged.merged(chosen).merged(Hints(always=frozenset({item.tag_field})))
    generator = Generator(chosen, contract=item.against)
    return generator.for_ref(ref).filter(validator.is_valid)


def distinct_bodies(item: Resource, count: int) -> st.SearchStrategy[list[Any]]:
    """``count`` different valid create bodies (or ``count`` times no body, for a create without one)."""
    op = item.op("create")
    unique = repr if op is not None and op.request is not None else None
    return st.lists(valid_bodies(item), min_size=count, max_size=count, unique_by=unique)


def bodies_per_shape(item: Resource, hints: Hints | None = None) -> st.SearchStrategy[list[Any]]:
    """One valid create body for each value of the resource's discriminator (every integration type)."""
    values = shapes(item)
    if not values or item.discriminator is None:
        return valid_bodies(item, hints=hints).map(lambda body: [body])
    return st.tuples(*(valid_bodies(item, hints=shape_hints(item, value)) for value in values)).map(list)


def shape_hints(item: Resource, value: str) -> Hints:
    """The resource's hints for one shape, with the discriminator fixed to it."""
    assert item.discriminator is not None
    return hints_for(item.name, value).merged(Hints({item.discriminator: st.just(value)}))


def shapes(item: Resource) -> list[str]:
    """The discriminator's values, from the create body's schema."""
    return list(item.shapes)


def update_bodies(item: Resource, stored_shape: str | None, hints: Hints | None = None) -> st.SearchStrategy[Any]:
    """Valid update bodies; a body decided by the stored record's shape uses that shape's branch."""
    ref = update_schema(item, stored_shape)
    validator = item.against.validator(ref, "request")
    generator = Generator(hints or hints_for(item.name, stored_shape, role="update"), contract=item.against)
    return generator.for_ref(ref).filter(lambda body: bool(body) and validator.is_valid(body))


@dataclass(frozen=True)
class Created:
    """What a create answered: the new record's id (None when it made none), the record as the
    answer showed it (empty when it showed none), and the exchange itself."""

    id: str | None
    record: dict[str, Any]
    exchange: Exchange


class Records:
    """Create, find and delete one resource's records through a session."""

    def __init__(self, sunco: ConformanceSession, item: Resource, parents: Mapping[str, str] | None = None) -> None:
        """``parents`` names existing parents (a custom integration a flow made itself); else they are created."""
        self.sunco = sunco
        self.item = item
        self._parents: dict[str, str] | None = dict(parents) if parents is not None else None

    @classmethod
    def of(cls, sunco: ConformanceSession, name: str) -> Records:
        return cls(sunco, resource(name).bound(sunco.contract))

    def parents(self) -> dict[str, str]:
        """Path parameters naming a parent chain, created once per test (the app is the configured one,
        and the record's ``given`` parameters the run's own)."""
        if self._parents is None:
            params: dict[str, str] = dict(self.item.given)
            for ancestor in chain(self.item)[:-1]:
                records = Records(self.sunco, ancestor)
                records._parents = dict(params)
                variant = self.sunco.variants(f"setup-{ancestor.name}", setup_variants(ancestor, self.item.name), 1)[0]
                found = records.create(variant).id
                self.sunco.require(found, f"a {ancestor.name} to hold {self.item.collection}", variant=variant)
                params[ancestor.id_param] = str(found)
            self._parents = params
        return dict(self._parents)

    def path(self, record_id: str | None = None, **extra: str) -> dict[str, str]:
        params = {**self.parents(), **extra}
        if record_id is not None:
            params[self.item.id_param] = record_id
        return params

    def room_for_one(self) -> None:
        """Skip a live run when the parent already holds the one record it may (a switchboard per app).

        The record may be the user's own, which a test must never delete, or one a fault left
        behind (a create that took effect but whose answer was cut off).
        """
        if self.item.limit != 1 or not self.item.has("list"):
            return
        key = ("room", self.item.name, tuple(sorted(self.parents().items())))
        if key in self.sunco.checked:
            return
        self.sunco.checked.add(key)
        exchange = self.call("list", expect=Expect(OK))
        held = (exchange.body or {}).get(self.item.collection) if isinstance(exchange.body, dict) else None
        if not self.sunco.recording:
            self.sunco.replay_not_run()
        elif held:
            first = held[0].get("id") if isinstance(held[0], dict) else None
            self.sunco.not_run(
                f"not run live: needs an app without a {self.item.name} (an app holds at most 1; this one "
                f"has {first}): delete it, or record against another app"
            )

    def create(self, variant: Variant, **query: Any) -> Created:
        """Create a record from ``variant`` (written in the ledger when made); what the create answered."""
        self.room_for_one()
        op_id = self.item.operations["create"]
        exchange = self.sunco.call(op_id, variant=variant, path_params=self.parents(), query=query or None)
        found = created_id(exchange, self.item)
        if found is not None:
            self.sunco.ledger.add(self.item, self.path(found))
        elif 200 <= exchange.status < 300:
            # Made, but the answer did not say its id (not JSON, say): teardown finds it by its tag.
            self.sunco.ledger.maybe_created(op_id, self.parents(), variant.body)
        self.sunco.expect_state(
            exchange,
            exchange.status != CREATED or found is not None,
            title=f"created a {self.item.name} but returned no id for it.",
            pointer=f"/{self.item.envelope}/id",
            rule=f"a created {self.item.name} has an id",
            expected="an id",
            actual=exchange.body,
        )
        return Created(found, created_record(exchange, self.item), exchange)

    def call(self, role: str, record_id: str | None = None, **kwargs: Any) -> Exchange:
        path = {**self.path(record_id), **kwargs.pop("path_params", {})}
        return self.sunco.call(self.item.operations[role], path_params=path, **kwargs)

    def delete(self, record_id: str, expect: Expect | None = None) -> Exchange:
        exchange = self.call("delete", record_id, expect=expect or Expect(OK))
        if exchange.status == OK:
            self.sunco.ledger.forget(self.item, self.path(record_id))
        return exchange


def setup_variants(item: Resource, for_child: str | None = None) -> st.SearchStrategy[Variant]:
    """A valid create body for a record another test needs to exist."""
    hints = hints_for(item.name, for_child=for_child)
    return valid_bodies(item, hints=hints).map(
        lambda body: Variant(f"setup {item.name}", body, Expect(CREATED, defaults_at=item.record_pointer))
    )
