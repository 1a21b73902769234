"""Generated tests on existing records: updates, unknown ids, the lifecycle, lists, pages and filters."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from hypothesis import strategies as st

from conformance.contract.resources import Resource, dotted, needs_filter, required_filters
from conformance.contract.schemas import shipped
from conformance.definitions import hints_for
from conformance.model import Expect, Variant
from conformance.session.session import ConformanceSession
from conformance.suites import flows
from conformance.suites.flows import Records
from conformance.suites.paging import check_cover, paged_lists, pages, walk_pages
from conformance.variants import negative
from conformance.variants.strategies import Hints

Test = Callable[[ConformanceSession], None]
Add = Callable[..., None]  # (test name, test, roles of the operations it calls...)
Start = Callable[[ConformanceSession], Records]
PAGE_SIZE = 2
PAGED_RECORDS = 5


def _updated(item: Resource, body: Any, *, label: str) -> Variant:
    from conformance.suites.crud import echo_pairs

    return Variant(label, body, Expect(200, echo=echo_pairs(item, body)))


def more_tests(item: Resource, ops: dict[str, str], add: Add, start: Start) -> None:
    shapes = flows.shapes(item)

    def one_per_shape(sunco: ConformanceSession, records: Records) -> dict[str, str]:
        """A record of each shape (or one record), to work on."""
        if shapes:
            setups = sunco.variants(
                "setup-each",
                flows.bodies_per_shape(item).map(
                    lambda found: [Variant(f"setup {flows.shape_of(item, b)}", b, Expect(201)) for b in found]
                ),
                len(shapes),
            )
        else:
            setups = sunco.variants("setup", flows.setup_variants(item), 1)
        made = {flows.shape_of(item, v.body): records.create(v) for v in setups}
        return {shape: sunco.require(found, f"a {shape} {item.name} to work on") for shape, found in made.items()}

    if item.has("update"):
        update_op = item.operations["update"]
        decided = bool(shapes) and flows.decided_by_stored(item)

        def applies(sunco: ConformanceSession) -> None:
            records = start(sunco)
            made = one_per_shape(sunco, records)
            for shape, record_id in made.items():
                stored = shape if decided else None
                strategy = flows.update_bodies(item, stored).map(partial(_updated, item, label=f"update of a {shape}"))
                for variant in sunco.variants(f"update-{shape}", strategy, 1 if shapes else 3):
                    sunco.call(update_op, variant=variant, path_params=records.path(record_id))
            sunco.finish()

        add(f"test_{ops['update']}_applies_valid_changes", applies, "create", "update")

        def rejects_wrong_types(sunco: ConformanceSession) -> None:
            records = start(sunco)
            made = one_per_shape(sunco, records)
            bad = negative.BAD_REQUEST
            for shape, record_id in made.items():
                ref = flows.update_schema(item, shape if decided else None)
                strategy = negative.wrong_types(
                    flows.update_bodies(item, shape if decided else None).map(lambda b: [b]),
                    ref,
                    bad,
                    limit=2,
                    discriminator=None,
                )
                for variant in sunco.variants(f"wrong-types-{shape}", strategy, 2):
                    sunco.call(update_op, variant=variant, path_params=records.path(record_id))
            sunco.finish()

        add(f"test_{ops['update']}_rejects_wrong_json_types", rejects_wrong_types, "create", "update")

        def rejects_not_json(sunco: ConformanceSession) -> None:
            records = start(sunco)
            record_id = next(iter(one_per_shape(sunco, records).values()))
            for variant in sunco.variants("not-json", negative.not_json(), 2):
                sunco.call(update_op, variant=variant, path_params=records.path(record_id))
            sunco.finish()

        add(f"test_{ops['update']}_rejects_body_that_is_not_json", rejects_not_json, "create", "update")

    for role in ("get", "update", "delete"):
        if not item.has(role):
            continue

        def unknown(sunco: ConformanceSession, role: str = role) -> None:
            records = start(sunco)
            body = None
            if role == "update":
                body = sunco.variants(
                    "body",
                    flows.update_bodies(item, shapes[0] if shapes else None).map(
                        lambda b: Variant("a valid change", b, Expect(200))
                    ),
                    1,
                )[0].body
            for variant in sunco.variants("unknown-id", negative.unknown_ids(item.id_param, item.not_found), 2):
                sunco.call(
                    item.operations[role],
                    body=body,
                    path_params={**records.parents(), **variant.params["path"]},
                    expect=variant.expect,
                )
            sunco.finish()

        add(f"test_{ops[role]}_returns_404_for_unknown_id", unknown, role)

    if item.has("create") and (item.has("get") or item.has("list")):

        def lifecycle(sunco: ConformanceSession) -> None:
            from conformance.suites.crud import created

            records = start(sunco)
            create = sunco.variants("create", flows.valid_bodies(item).map(lambda b: created(item, b, "create")), 1)[0]
            record_id = sunco.require(records.create(create), f"the created {item.name}'s id", variant=create)
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
                seen = walk(sunco, records, required_filters(item, create.body))
                sunco.expect_state(
                    sunco.last_exchange,
                    record_id in seen,
                    title=f"does not list the {item.name} just created.",
                    pointer=f"/{item.collection}",
                    rule=f"a created {item.name} appears in the list",
                    expected=f"an item with id {record_id}",
                    actual=seen[-20:],
                )
            if item.has("update"):
                shape = flows.shape_of(item, create.body) if shapes else None
                change = sunco.variants(
                    "change",
                    flows.update_bodies(item, shape if flows.decided_by_stored(item) else None).map(
                        lambda b: _updated(item, b, label="change")
                    ),
                    1,
                )[0]
                sunco.call(item.operations["update"], variant=change, path_params=records.path(record_id))
                if item.has("get"):
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
            if item.has("delete"):
                records.delete(record_id)
                if item.has("get"):
                    records.call("get", record_id, expect=Expect(404, item.not_found))
            sunco.finish()

        add(f"test_{item_snake(item)}_lifecycle", lifecycle, *item.operations)

    paged = item.operations.get("list") in paged_lists() and item.has("create")
    if paged and item.sized_pages:
        list_op_id = item.operations["list"]

        def paginates(sunco: ConformanceSession) -> None:
            records = start(sunco)
            bodies = st.lists(flows.valid_bodies(item), min_size=PAGED_RECORDS, max_size=PAGED_RECORDS, unique_by=repr)
            setups = sunco.variants(
                "setup-many",
                bodies.map(lambda found: [Variant(f"record {n + 1}", b, Expect(201)) for n, b in enumerate(found)]),
                PAGED_RECORDS,
            )
            ours = [sunco.require(records.create(v), f"{item.name} {v.label}", variant=v) for v in setups]
            # A list that needs a filter (conversations: a participant) is walked with the first record's.
            query = {**required_filters(item, setups[0].body), "page[size]": str(PAGE_SIZE)}
            forwards = walk(sunco, records, query)
            mine = check_cover(sunco, forwards, ours, item.collection, "forwards with page[after]")
            backwards = walk(sunco, records, query, direction="before", start=forwards)
            mine_back = [i for i in backwards if i in ours]
            sunco.expect_state(
                sunco.last_exchange,
                mine_back == mine,
                title="paging backwards with page[before] did not return the same records in the same order.",
                pointer=f"/{item.collection}",
                rule="page[before] walks the same list back",
                expected=mine,
                actual=mine_back,
            )
            sunco.finish()

        add(f"test_{ops['list']}_paginates_forwards_and_backwards", pages(list_op_id)(paginates), "create", "list")

    if paged:

        def bad_sizes(sunco: ConformanceSession) -> None:
            records = start(sunco)
            query: dict[str, str] = {}
            if needs_filter(item):
                # Only the page parameters may be wrong: the filter names a record that exists.
                setup = sunco.variants("setup", flows.setup_variants(item), 1)[0]
                sunco.require(records.create(setup), f"a {item.name} to list", setup)
                query = required_filters(item, setup.body)
            for variant in sunco.variants("bad-size", negative.bad_page_sizes(), 3):
                sunco.call(item.operations["list"], variant=variant, path_params=records.parents(), query=query)
            for variant in sunco.variants("both-cursors", negative.both_cursors(), 1):
                sunco.call(item.operations["list"], variant=variant, path_params=records.parents(), query=query)
            sunco.finish()

        add(
            f"test_{ops['list']}_rejects_invalid_page_parameters",
            bad_sizes,
            "list",
            *(("create",) if needs_filter(item) else ()),
        )

    for query_key, field_name in generic_filters(item):

        def filters(sunco: ConformanceSession, query_key: str = query_key, field_name: str = field_name) -> None:
            records = start(sunco)
            setups = sunco.variants(
                "setup-two",
                filter_setups(item, field_name).map(
                    lambda found: [Variant(f"setup {n + 1}", b, Expect(201)) for n, b in enumerate(found)]
                ),
                2,
            )
            wanted, other = (filter_value(v.body, field_name) for v in setups)
            sunco.require(wanted if wanted and other and wanted != other else None, f"two {field_name} values")
            with_it, without = (sunco.require(records.create(v), f"the {v.label} {item.name}", v) for v in setups)
            query = {query_key: str(wanted)}
            if item.operations["list"] in paged_lists():
                query["page[size]"] = "100"
            listed = records.call("list", query=query, expect=Expect(200))
            body = listed.body if isinstance(listed.body, dict) else {}
            shown = [r for r in body.get(item.collection) or [] if isinstance(r, dict)]
            ids = [str(r.get("id")) for r in shown]
            values = sorted({str(dotted(r, field_name)) for r in shown})
            sunco.expect_state(
                listed,
                with_it in ids and without not in ids and values == [str(wanted)],
                title=f"did not keep exactly the records whose {field_name} {query_key} names.",
                pointer=f"/{item.collection}",
                rule=f"{query_key} lists the records with that {field_name}, and no other",
                expected={"listed": with_it, "not listed": without, f"{field_name} values": [str(wanted)]},
                actual={"ids": ids[-20:], f"{field_name} values": values},
            )
            sunco.finish()

        add(f"test_{ops['list']}_filters_by_{field_name.replace('.', '_')}", filters, "create", "list")


def generic_filters(item: Resource) -> list[tuple[str, str]]:
    """The filters the generated test checks: those on a field the record itself shows.

    A filter on what the record does not show (a conversation's participants) is the suite
    module's to test, by hand."""
    record = flows.record_schema(item)
    shown = shipped().declared_fields(record) if record else frozenset()
    return [(key, name) for key, name in item.filters.items() if name.split(".")[0] in shown]


def filter_value(body: Any, field_name: str) -> str | None:
    """The value a filter test sends for a record made from ``body``: None when it has none (or an empty one)."""
    value = dotted(body, field_name) if isinstance(body, dict) else None
    return str(value) if value not in (None, "", [], {}) else None


def filter_setups(item: Resource, field_name: str) -> st.SearchStrategy[list[Any]]:
    """Two create bodies that both have ``field_name``, with different values: one record the
    filter must list, one it must leave out."""
    if field_name == item.discriminator:
        pairs = flows.bodies_per_shape(item).map(lambda found: found[:2])
    else:
        hints = hints_for(item.name).merged(Hints(always=frozenset({field_name.split(".")[0]})))
        pairs = st.lists(flows.valid_bodies(item, hints=hints), min_size=2, max_size=2)

    def differ(found: list[Any]) -> bool:
        values = [filter_value(body, field_name) for body in found]
        return len(values) == 2 and None not in values and values[0] != values[1]

    return pairs.filter(differ)


def item_snake(item: Resource) -> str:
    from conformance.suites.crud import snake

    return snake(item.name)


def walk(
    sunco: ConformanceSession,
    records: Records,
    query: dict[str, str],
    *,
    direction: str = "after",
    start: list[str] | None = None,
) -> list[str]:
    """Every id a list shows, following its cursors (forwards, or backwards from the end of ``start``)."""
    item = records.item
    return walk_pages(
        sunco,
        item.operations["list"],
        records.parents(),
        item.collection,
        query,
        direction=direction,
        start=start[-1] if start else None,
    )
