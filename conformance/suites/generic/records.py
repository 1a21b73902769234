"""Generic templates on records that exist: updates, unknown ids, and a record's whole lifecycle."""

from __future__ import annotations

from functools import partial

from conformance.contract.resources import Resource, required_filters
from conformance.model import Expect, Variant
from conformance.session.session import ConformanceSession
from conformance.suites import flows
from conformance.suites.expectations import created, updated
from conformance.suites.flows import Records
from conformance.suites.generic.templates import Registry, start
from conformance.suites.paging import walk_pages
from conformance.variants import negative

TEMPLATES = Registry()
template = TEMPLATES.template


def one_per_shape(sunco: ConformanceSession, records: Records) -> dict[str, str]:
    """A record of each shape (or one record), to work on: shape -> id."""
    item = records.item
    if flows.shapes(item):
        setups = sunco.variants(
            "setup-each",
            flows.bodies_per_shape(item).map(
                lambda found: [Variant(f"setup {flows.shape_of(item, b)}", b, Expect(201)) for b in found]
            ),
            len(flows.shapes(item)),
        )
    else:
        setups = sunco.variants("setup", flows.setup_variants(item), 1)
    made = {flows.shape_of(item, v.body): records.create(v).id for v in setups}
    return {shape: sunco.require(found, f"a {shape} {item.name} to work on") for shape, found in made.items()}


def stored_shape(item: Resource, shape: str) -> str | None:
    """The shape an update body must follow: the stored record's, when it decides the update's schema."""
    return shape if flows.shapes(item) and flows.decided_by_stored(item) else None


@template("applies_valid_changes", on="update", calls=("create", "update"))
def applies_valid_changes(sunco: ConformanceSession, item: Resource) -> None:
    records = start(sunco, item)
    for shape, record_id in one_per_shape(sunco, records).items():
        strategy = flows.update_bodies(item, stored_shape(item, shape)).map(
            partial(updated, item, label=f"update of a {shape}")
        )
        for variant in sunco.variants(f"update-{shape}", strategy, 1 if flows.shapes(item) else 3):
            records.call("update", record_id, variant=variant)
    sunco.finish()


@template("rejects_wrong_json_types", on="update", calls=("create", "update"))
def update_rejects_wrong_json_types(sunco: ConformanceSession, item: Resource) -> None:
    records = start(sunco, item)
    for shape, record_id in one_per_shape(sunco, records).items():
        strategy = negative.wrong_types(
            flows.update_bodies(item, stored_shape(item, shape)).map(lambda b: [b]),
            flows.update_schema(item, stored_shape(item, shape)),
            negative.BAD_REQUEST,
            limit=2,
            discriminator=None,
            contract=item.against,
        )
        for variant in sunco.variants(f"wrong-types-{shape}", strategy, 2):
            records.call("update", record_id, variant=variant)
    sunco.finish()


@template("rejects_body_that_is_not_json", on="update", calls=("create", "update"))
def update_rejects_body_that_is_not_json(sunco: ConformanceSession, item: Resource) -> None:
    records = start(sunco, item)
    record_id = next(iter(one_per_shape(sunco, records).values()))
    for variant in sunco.variants("not-json", negative.not_json(), 2):
        records.call("update", record_id, variant=variant)
    sunco.finish()


@template("returns_404_for_unknown_id", on=("get", "update", "delete"))
def returns_404_for_unknown_id(sunco: ConformanceSession, item: Resource, role: str) -> None:
    records = start(sunco, item)
    body = None
    if role == "update":
        shapes = flows.shapes(item)
        body = sunco.variants(
            "body",
            flows.update_bodies(item, shapes[0] if shapes else None).map(
                lambda b: Variant("a valid change", b, Expect(200))
            ),
            1,
        )[0].body
    for variant in sunco.variants("unknown-id", negative.unknown_ids(item.id_param, item.not_found), 2):
        records.call(role, body=body, path_params=variant.params["path"], expect=variant.expect)
    sunco.finish()


def _can_be_found(item: Resource) -> bool:
    """A record made can be looked for: fetched, or listed."""
    return item.has("create") and (item.has("get") or item.has("list"))


@template("lifecycle", on=None, applies=_can_be_found, calls=lambda item: tuple(item.operations))
def lifecycle(sunco: ConformanceSession, item: Resource) -> None:
    """Create, find (fetch and list), update, find the change, delete, and find it gone."""
    records = start(sunco, item)
    create = sunco.variants("create", flows.valid_bodies(item).map(lambda b: created(item, b, "create")), 1)[0]
    record_id = sunco.require(records.create(create).id, f"the created {item.name}'s id", variant=create)
    if item.has("get"):
        fetched = records.call("get", record_id, expect=Expect(200))
        got = (fetched.body or {}).get(item.envelope) if isinstance(fetched.body, dict) else None
        sunco.expect_state(
            fetched,
            isinstance(got, dict) and got.get("id") == record_id,
            title=f"did not return the {item.name} just created.",
            pointer=f"/{item.envelope}/id",
            rule=f"a created {item.name} can be fetched by its id",
            expected=record_id,
            actual=(got or {}).get("id") if isinstance(got, dict) else got,
        )
    if item.has("list"):
        walk = walk_pages(
            sunco, item.operations["list"], records.parents(), item.collection, required_filters(item, create.body)
        )
        sunco.expect_state(
            walk.last,
            record_id in walk.ids,
            title=f"does not list the {item.name} just created.",
            pointer=f"/{item.collection}",
            rule=f"a created {item.name} appears in the list",
            expected=f"an item with id {record_id}",
            actual=walk.ids[-20:],
        )
    if item.has("update"):
        _update_and_fetch(sunco, records, record_id, flows.shape_of(item, create.body))
    if item.has("delete"):
        records.delete(record_id)
        if item.has("get"):
            records.call("get", record_id, expect=Expect(404, item.not_found))
    sunco.finish()


def _update_and_fetch(sunco: ConformanceSession, records: Records, record_id: str, shape: str) -> None:
    """An update, and (when the resource can be fetched) a fetch that shows each change."""
    item = records.item
    bodies = flows.update_bodies(item, stored_shape(item, shape))
    change = sunco.variants("change", bodies.map(lambda b: updated(item, b, "change")), 1)[0]
    records.call("update", record_id, variant=change)
    if not item.has("get"):
        return
    after = records.call("get", record_id, expect=Expect(200))
    record = (after.body or {}).get(item.envelope, {}) if isinstance(after.body, dict) else {}
    for sent_at, returned_at in change.expect.echo:
        name = sent_at.strip("/")
        sunco.expect_state(
            after,
            record.get(name) == change.body.get(name),
            title=f"does not show the update just made to {name}.",
            pointer=returned_at,
            rule="a fetch after an update shows the new value",
            expected=change.body.get(name),
            actual=record.get(name),
        )
