"""The tests a resource's record implies, generated once per resource.

A suite module asks for its resources' tests (``globals().update(tests_for("integration"))``) and
adds hand-written flows only for what the contract cannot express. Test names follow the
operations: ``test_create_integration_rejects_missing_required_fields``; cassettes take their
names from the tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from conformance import pointer as pointers
from conformance.contract import needs
from conformance.contract.resources import Resource, chain, resource
from conformance.contract.schemas import annotated_pointers, shipped
from conformance.model import Expect, RawBody, Variant
from conformance.session.session import ConformanceSession
from conformance.suites import flows
from conformance.suites.flows import Records
from conformance.variants import negative
from conformance.variants.strategies import hex_id, types_of

Test = Callable[[ConformanceSession], None]
MAX_NEGATIVE = 24
PAGE_SIZE = 2
PAGED_RECORDS = 5


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def echo_pairs(item: Resource, body: Any) -> tuple[tuple[str, str], ...]:
    """Request fields a response must reflect: sent, kept by the record, and not rewritten by the server."""
    if not isinstance(body, dict):
        return ()
    record = flows.record_schema(item)
    declared = shipped().applicable_properties(record, body, "response") if record else {}
    pairs = []
    for name, value in body.items():
        schema = declared.get(name)
        if schema is None or schema.get("writeOnly") or name in item.server_fields or value is None:
            continue
        if isinstance(value, list) and any(isinstance(v, dict) for v in value):
            continue  # items the server completes (ids, secrets) are not echoes
        if name in item.completed and isinstance(value, dict) and record:
            hidden = set(annotated_pointers(record, {name: value}, "writeOnly"))
            pairs.extend(_member_pairs(f"/{name}", value, item.record_pointer, hidden))
            continue
        pairs.append((f"/{name}", f"{item.record_pointer}/{name}"))
    return tuple(pairs)


def _member_pairs(at: str, value: dict[str, Any], record_at: str, hidden: set[str]) -> list[tuple[str, str]]:
    """An object the server completes is echoed member by member; write-only members are not echoes."""
    pairs: list[tuple[str, str]] = []
    for name, member in value.items():
        here = pointers.child(at, name)
        if here in hidden or member is None or (isinstance(member, list) and any(isinstance(v, dict) for v in member)):
            continue
        if isinstance(member, dict) and member:
            pairs.extend(_member_pairs(here, member, record_at, hidden))
        else:
            pairs.append((here, record_at + here))
    return pairs


def created(item: Resource, body: Any, label: str) -> Variant:
    return Variant(label, body, Expect(201, echo=echo_pairs(item, body), defaults_at=item.record_pointer))


def _features(item: Resource, role: str) -> set[str]:
    """Which ways to break a body this resource's schema offers (at the top level of each shape)."""
    op = item.op(role)
    if op is None or op.request is None:
        return set()
    shapes = flows.shapes(item) if role == "create" else []
    found: set[str] = set()
    for instance in [{item.discriminator: s} for s in shapes] or [{}]:
        props, required = shipped().applicable(shipped().resolve(op.request), _base(op.request), instance)
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
    return found


def _base(ref: str) -> str:
    from conformance.contract.schemas import schema_uri

    return schema_uri(ref).split("#")[0]


def _code(item: Resource, role: str, status: int, fallback: str) -> str:
    op = item.op(role)
    codes = op.error_codes(status) if op else ()
    return codes[0] if len(codes) == 1 else fallback


def used_operations(item: Resource, roles: tuple[str, ...]) -> list[str]:
    """The operations a generated test of ``item`` calls in these roles, its parents' creates, and the delete
    that cleans up after a create."""
    cleanup = ("delete",) if "create" in roles else ()
    own = [item.operations[role] for role in (*roles, *cleanup) if role in item.operations]
    parents = [parent.operations["create"] for parent in chain(item)[:-1] if "create" in parent.operations]
    return list(dict.fromkeys([*parents, *own]))


def generate_tests(name: str) -> dict[str, Test]:
    item = resource(name)
    tests: dict[str, Test] = {}
    ops = {role: snake(op_id) for role, op_id in item.operations.items()}

    def add(test_name: str, body: Test, *roles: str) -> None:
        """``roles``: the resource's operations the test calls (with its parents' creates and, when it
        creates, the delete that cleans up), so a contract without one skips it at collection."""
        body.__name__ = body.__qualname__ = test_name
        body.__doc__ = (
            f"{test_name.removeprefix('test_').replace('_', ' ')} ({item.name}, generated from the resource table)"
        )
        tests[test_name] = needs.uses(*used_operations(item, roles))(body)

    def start(sunco: ConformanceSession) -> Records:
        if item.scope == "account":
            sunco.require_account()
        sunco.require_scope(*item.operations.values())
        return Records(sunco, item)

    if item.has("create"):
        create_op = item.operations["create"]
        bad = _code(item, "create", 400, negative.BAD_REQUEST)

        def accepts(sunco: ConformanceSession) -> None:
            records = start(sunco)
            # Three records, or as many as a parent may hold (one switchboard per app).
            count = max(len(flows.shapes(item)), 3 if item.limit is None else min(3, item.limit))
            strategy = flows.bodies_per_shape(item)
            if not flows.shapes(item):
                strategy = flows.distinct_bodies(item, count)
            bodies = strategy.map(lambda found: [created(item, b, f"valid {flows.shape_of(item, b)}") for b in found])
            for variant in sunco.variants("create-valid", bodies, count):
                records.create(variant)
            sunco.finish()

        add(f"test_{ops['create']}_accepts_valid_bodies", accepts, "create")

        def rejecting(breaker: negative.Breaker) -> Test:
            def test(sunco: ConformanceSession) -> None:
                records = start(sunco)
                ref = str(item.op("create").request)  # type: ignore[union-attr]
                strategy = flows.bodies_per_shape(item).map(
                    lambda bases: negative.invalid(
                        ref, bases, breaker, bad, limit=MAX_NEGATIVE, discriminator=item.discriminator
                    )
                )
                for variant in sunco.variants("invalid", strategy, MAX_NEGATIVE):
                    records.create(variant)
                sunco.finish()

            return test

        features = _features(item, "create")
        breakers = {
            "required": ("missing_required_fields", negative.missing_required),
            "bounds": ("out_of_bound_values", negative.out_of_bounds),
            "enum": ("values_outside_enums", negative.outside_enum),
            "pattern": ("broken_patterns", negative.broken_pattern),
        }
        for feature, (label, breaker) in breakers.items():
            if feature in features:
                add(f"test_{ops['create']}_rejects_{label}", rejecting(breaker), "create")

        if "types" in features:

            def wrong_types(sunco: ConformanceSession) -> None:
                records = start(sunco)
                ref = str(item.op("create").request)  # type: ignore[union-attr]
                strategy = negative.wrong_types(
                    flows.bodies_per_shape(item), ref, bad, limit=MAX_NEGATIVE, discriminator=item.discriminator
                )
                for variant in sunco.variants("wrong-types", strategy, MAX_NEGATIVE):
                    records.create(variant)
                sunco.finish()

            add(f"test_{ops['create']}_rejects_wrong_json_types", wrong_types, "create")

        def not_json(sunco: ConformanceSession) -> None:
            records = start(sunco)
            for variant in sunco.variants("not-json", negative.not_json(bad), 3):
                records.create(variant)
            sunco.finish()

        create = item.op("create")
        if create is None or create.request is not None:
            add(f"test_{ops['create']}_rejects_body_that_is_not_json", not_json, "create")

        if "required" in features:

            def empty(sunco: ConformanceSession) -> None:
                records = start(sunco)
                variant = sunco.variants("empty", st.just(Variant("empty object", {}, Expect(400, bad))), 1)[0]
                records.create(variant)
                sunco.finish()

            add(f"test_{ops['create']}_rejects_empty_object", empty, "create")

        def requires_credentials(sunco: ConformanceSession) -> None:
            records = start(sunco)
            setup = sunco.variants("body", flows.setup_variants(item), 1)[0]
            exchange = sunco.call(
                create_op,
                body=setup.body,
                path_params=records.parents(),
                authenticate=False,
                expect=Expect(401, "unauthorized"),
            )
            found = flows.created_id(exchange, item)
            if found:
                sunco.ledger.add(item, records.path(found))
            sunco.finish()

        add(f"test_{ops['create']}_requires_credentials", requires_credentials, "create")

        if item.parent and item.parent != "app":
            parent = resource(item.parent)

            def unknown_parent(sunco: ConformanceSession) -> None:
                start(sunco)
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
                        create_op,
                        body=setup.body,
                        path_params=dict(variant.params["path"]),
                        expect=variant.expect,
                    )
                sunco.finish()

            add(f"test_{ops['create']}_returns_404_for_unknown_{snake(parent.name)}", unknown_parent, "create")

        for unique in item.unique:

            def duplicate(sunco: ConformanceSession, unique: str = unique) -> None:
                records = start(sunco)
                first = sunco.variants("first", flows.setup_variants(item), 1)[0]
                records.create(first)
                again = Variant(f"same {unique} again", first.body, Expect(409, "conflict"))
                records.create(again)
                sunco.finish()

            add(f"test_{ops['create']}_rejects_duplicate_{snake(unique)}", duplicate, "create")

        if item.limit is not None:
            limit = item.limit

            def refuses_beyond_limit(sunco: ConformanceSession) -> None:
                records = start(sunco)
                status, code = item.limit_error
                bodies = flows.distinct_bodies(item, limit + 1)
                variants = bodies.map(
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

            add(f"test_{ops['create']}_refuses_more_than_{limit}", refuses_beyond_limit, "create")

    from conformance.suites.crud_more import more_tests

    more_tests(item, ops, add, start)
    return tests


__all__ = ["RawBody", "generate_tests"]
