"""Generic templates on a resource's create: the bodies it accepts, each way its schema lets a body
be broken, credentials, an unknown parent, duplicates and the per-parent limit."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from hypothesis import strategies as st

from conformance.contract.resources import Resource, parent_of
from conformance.contract.schemas import Contract, schema_uri
from conformance.model import Expect, Variant
from conformance.session.session import ConformanceSession
from conformance.suites import flows
from conformance.suites.expectations import created
from conformance.suites.generic.templates import Registry, snake, start
from conformance.variants import negative
from conformance.variants.strategies import hex_id, types_of

TEMPLATES = Registry()
template = TEMPLATES.template
MAX_NEGATIVE = 24


def features(item: Resource) -> frozenset[str]:
    """Which ways to break a create body the resource's schema offers (at the top level of each shape)."""
    return _features(item.against, item)


@cache  # several templates ask, per resource and the contract it is read against
def _features(of: Contract, item: Resource) -> frozenset[str]:
    op = item.op("create", of)
    if op is None or op.request is None:
        return frozenset()
    base = schema_uri(op.request).split("#")[0]
    found: set[str] = set()
    for instance in [{item.discriminator: s} for s in flows.shapes(item)] or [{}]:
        props, required = of.applicable(of.resolve(op.request), base, instance)
        if required:
            found.add("required")
        for schema in props.values():
            if schema.get("readOnly") or schema.get("deprecated"):
                continue
            if types_of(schema):
                found.add("types")
            if (
                any(k in schema for k in ("maxLength", "maximum", "minimum", "maxItems"))
                or schema.get("minLength", 0) > 0
            ):
                found.add("bounds")
            if any(isinstance(v, str) for v in schema.get("enum") or []):
                found.add("enum")
            if "pattern" in schema or "pattern" in (schema.get("items") or {}):
                found.add("pattern")
    return frozenset(found)


def offers(feature: str) -> Callable[[Resource], bool]:
    """Applies to a resource whose create body can be broken that way."""
    return lambda item: feature in features(item)


def bad_request(item: Resource) -> str:
    """The code a broken create body gets: the operation's only documented 400 code, else bad_request."""
    op = item.op("create")
    codes = op.error_codes(400) if op else ()
    return codes[0] if len(codes) == 1 else negative.BAD_REQUEST


@template("accepts_valid_bodies", on="create")
def accepts_valid_bodies(sunco: ConformanceSession, item: Resource) -> None:
    records = start(sunco, item)
    # Three records, or as many as a parent may hold (one switchboard per app).
    count = max(len(flows.shapes(item)), 3 if item.limit is None else min(3, item.limit))
    strategy = flows.bodies_per_shape(item)
    if not flows.shapes(item):
        strategy = flows.distinct_bodies(item, count)
    bodies = strategy.map(lambda found: [created(item, b, f"valid {flows.shape_of(item, b)}") for b in found])
    for variant in sunco.variants("create-valid", bodies, count):
        records.create(variant)
    sunco.finish()


def _rejects_broken(sunco: ConformanceSession, item: Resource, breaker: negative.Breaker) -> None:
    """Bodies broken one way, each refused with the create's 400 code."""
    records = start(sunco, item)
    ref = str(item.op("create").request)  # type: ignore[union-attr]
    code = bad_request(item)
    strategy = flows.bodies_per_shape(item).map(
        lambda bases: negative.invalid(
            ref, bases, breaker, code, limit=MAX_NEGATIVE, discriminator=item.discriminator, contract=item.against
        )
    )
    for variant in sunco.variants("invalid", strategy, MAX_NEGATIVE):
        records.create(variant)
    sunco.finish()


@template("rejects_missing_required_fields", on="create", applies=offers("required"))
def rejects_missing_required_fields(sunco: ConformanceSession, item: Resource) -> None:
    _rejects_broken(sunco, item, negative.missing_required)


@template("rejects_out_of_bound_values", on="create", applies=offers("bounds"))
def rejects_out_of_bound_values(sunco: ConformanceSession, item: Resource) -> None:
    _rejects_broken(sunco, item, negative.out_of_bounds)


@template("rejects_values_outside_enums", on="create", applies=offers("enum"))
def rejects_values_outside_enums(sunco: ConformanceSession, item: Resource) -> None:
    _rejects_broken(sunco, item, negative.outside_enum)


@template("rejects_broken_patterns", on="create", applies=offers("pattern"))
def rejects_broken_patterns(sunco: ConformanceSession, item: Resource) -> None:
    _rejects_broken(sunco, item, negative.broken_pattern)


@template("rejects_wrong_json_types", on="create", applies=offers("types"))
def rejects_wrong_json_types(sunco: ConformanceSession, item: Resource) -> None:
    records = start(sunco, item)
    ref = str(item.op("create").request)  # type: ignore[union-attr]
    strategy = negative.wrong_types(
        flows.bodies_per_shape(item),
        ref,
        bad_request(item),
        limit=MAX_NEGATIVE,
        discriminator=item.discriminator,
        contract=item.against,
    )
    for variant in sunco.variants("wrong-types", strategy, MAX_NEGATIVE):
        records.create(variant)
    sunco.finish()


def _takes_a_body(item: Resource) -> bool:
    """The create takes a body (or the contract lacks it, and the test is skipped as such)."""
    op = item.op("create")
    return op is None or op.request is not None


@template("rejects_body_that_is_not_json", on="create", applies=_takes_a_body)
def rejects_body_that_is_not_json(sunco: ConformanceSession, item: Resource) -> None:
    records = start(sunco, item)
    for variant in sunco.variants("not-json", negative.not_json(bad_request(item)), 3):
        records.create(variant)
    sunco.finish()


@template("rejects_empty_object", on="create", applies=offers("required"))
def rejects_empty_object(sunco: ConformanceSession, item: Resource) -> None:
    records = start(sunco, item)
    empty = Variant("empty object", {}, Expect(400, bad_request(item)))
    records.create(sunco.variants("empty", st.just(empty), 1)[0])
    sunco.finish()


@template("requires_credentials", on="create")
def requires_credentials(sunco: ConformanceSession, item: Resource) -> None:
    records = start(sunco, item)
    setup = sunco.variants("body", flows.setup_variants(item), 1)[0]
    exchange = sunco.call(
        item.operations["create"],
        body=setup.body,
        path_params=records.parents(),
        authenticate=False,
        expect=Expect(401, "unauthorized"),
    )
    found = flows.created_id(exchange, item)
    if found:
        sunco.ledger.add(item, records.path(found))
    sunco.finish()


def _parent(item: Resource) -> list[tuple[str, Resource]]:
    """The parent a create names in its path, unless it is the app (which the configuration names)."""
    if item.parent and item.parent != "app":
        parent = parent_of(item)
        return [(snake(parent.name), parent)]
    return []


@template("returns_404_for_unknown", on="create", each=_parent)
def returns_404_for_unknown_parent(sunco: ConformanceSession, item: Resource, parent: Resource) -> None:
    start(sunco, item)
    setup = sunco.variants("body", flows.setup_variants(item), 1)[0]
    ids = sunco.variants(
        "unknown-parent",
        hex_id().map(
            lambda v: Variant(
                f"unknown {parent.id_param}",
                None,
                Expect(404, parent.not_found),
                params={"path": {parent.id_param: v}},
            )
        ),
        1,
    )
    for variant in ids:
        sunco.call(
            item.operations["create"],
            body=setup.body,
            path_params=dict(variant.params["path"]),
            expect=variant.expect,
        )
    sunco.finish()


@template("rejects_duplicate", on="create", each=lambda item: [(snake(unique), unique) for unique in item.unique])
def rejects_duplicate(sunco: ConformanceSession, item: Resource, unique: str) -> None:
    records = start(sunco, item)
    first = sunco.variants("first", flows.setup_variants(item), 1)[0]
    records.create(first)
    records.create(Variant(f"same {unique} again", first.body, Expect(409, "conflict")))
    sunco.finish()


@template(
    "refuses_more_than", on="create", each=lambda item: [] if item.limit is None else [(str(item.limit), item.limit)]
)
def refuses_more_than(sunco: ConformanceSession, item: Resource, limit: int) -> None:
    records = start(sunco, item)
    status, code = item.limit_error
    variants = flows.distinct_bodies(item, limit + 1).map(
        lambda found: [
            created(item, b, f"{item.name} {n + 1} of {limit}")
            if n < limit
            else Variant(f"{item.name} {limit + 1}, one too many", b, Expect(status, code))
            for n, b in enumerate(found)
        ]
    )
    for variant in sunco.variants("up-to-the-limit", variants, limit + 1):
        records.create(variant)
    sunco.finish()
