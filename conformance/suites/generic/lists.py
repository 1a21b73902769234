"""Generic templates on a resource's list: pages forwards and backwards, page parameters it must
refuse, and the filters on fields the record shows."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from conformance.contract.resources import Resource, dotted, needs_filter, required_filters
from conformance.definitions import hints_for
from conformance.model import Expect, Variant
from conformance.session.session import ConformanceSession
from conformance.suites import flows
from conformance.suites.generic.templates import Registry, start
from conformance.suites.paging import PAGE_SIZE, check_cover, paged_lists, walk_pages
from conformance.variants import negative
from conformance.variants.strategies import Hints

TEMPLATES = Registry()
template = TEMPLATES.template
PAGED_RECORDS = 5


def paged(item: Resource) -> bool:
    """The contract pages the resource's list, and the resource can be created to fill it."""
    return item.operations.get("list") in paged_lists(item.against) and item.has("create")


@template(
    "paginates_forwards_and_backwards",
    on="list",
    applies=lambda item: paged(item) and item.sized_pages,
    calls=("create", "list"),
    pages=True,
)
def paginates_forwards_and_backwards(sunco: ConformanceSession, item: Resource) -> None:
    records = start(sunco, item)
    bodies = st.lists(flows.valid_bodies(item), min_size=PAGED_RECORDS, max_size=PAGED_RECORDS, unique_by=repr)
    setups = sunco.variants(
        "setup-many",
        bodies.map(lambda found: [Variant(f"record {n + 1}", b, Expect(201)) for n, b in enumerate(found)]),
        PAGED_RECORDS,
    )
    ours = [sunco.require(records.create(v).id, f"{item.name} {v.label}", variant=v) for v in setups]
    # A list that needs a filter (conversations: a participant) is walked with the first record's.
    query = {**required_filters(item, setups[0].body), "page[size]": str(PAGE_SIZE)}
    list_op, parents = item.operations["list"], records.parents()
    forwards = walk_pages(sunco, list_op, parents, item.collection, query)
    mine = check_cover(sunco, forwards, ours, item.collection, "forwards with page[after]")
    start_at = forwards.ids[-1] if forwards.ids else None
    backwards = walk_pages(sunco, list_op, parents, item.collection, query, direction="before", start=start_at)
    mine_back = [i for i in backwards.ids if i in ours]
    sunco.expect_state(
        backwards.last,
        mine_back == mine,
        title="paging backwards with page[before] did not return the same records in the same order.",
        pointer=f"/{item.collection}",
        rule="page[before] walks the same list back",
        expected=mine,
        actual=mine_back,
    )
    sunco.finish()


@template(
    "rejects_invalid_page_parameters",
    on="list",
    applies=paged,
    calls=lambda item: ("list", *(("create",) if needs_filter(item) else ())),
)
def rejects_invalid_page_parameters(sunco: ConformanceSession, item: Resource) -> None:
    records = start(sunco, item)
    query: dict[str, str] = {}
    if needs_filter(item):
        # Only the page parameters may be wrong: the filter names a record that exists.
        setup = sunco.variants("setup", flows.setup_variants(item), 1)[0]
        sunco.require(records.create(setup).id, f"a {item.name} to list", setup)
        query = required_filters(item, setup.body)
    for variant in sunco.variants("bad-size", negative.bad_page_sizes(), 3):
        records.call("list", variant=variant, query=query)
    for variant in sunco.variants("both-cursors", negative.both_cursors(), 1):
        records.call("list", variant=variant, query=query)
    sunco.finish()


def generic_filters(item: Resource) -> list[tuple[str, str]]:
    """The filters the generated test checks: those on a field the record itself shows.

    A filter on what the record does not show (a conversation's participants) is the suite
    module's to test, by hand."""
    record = item.record_schema
    shown = item.against.declared_fields(record) if record else frozenset()
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


@template(
    "filters_by",
    on="list",
    each=lambda item: [(name.replace(".", "_"), (key, name)) for key, name in generic_filters(item)],
    calls=("create", "list"),
)
def filters_by(sunco: ConformanceSession, item: Resource, the_filter: tuple[str, str]) -> None:
    """Two records that differ in the filtered field: the filter lists the one it names, not the other."""
    query_key, field_name = the_filter
    records = start(sunco, item)
    setups = sunco.variants(
        "setup-two",
        filter_setups(item, field_name).map(
            lambda found: [Variant(f"setup {n + 1}", b, Expect(201)) for n, b in enumerate(found)]
        ),
        2,
    )
    wanted, other = (filter_value(v.body, field_name) for v in setups)
    sunco.require(wanted if wanted and other and wanted != other else None, f"two {field_name} values")
    with_it, without = (sunco.require(records.create(v).id, f"the {v.label} {item.name}", v) for v in setups)
    query = {query_key: str(wanted)}
    if item.operations["list"] in paged_lists(item.against):
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
