"""Integrations: Create, List, Get, Update and Delete.

Each test sends pinned variants through the ``sunco`` session; every exchange is checked against
the schemas, and the stateful tests also check what the API remembers.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from conformance.core.model import Exchange, Expect, Variant
from conformance.core.session import ConformanceSession
from conformance.definitions import integrations as defs

CREATED = Expect(201)
OK = Expect(200)
GONE = Expect(404)


def _setup_variant(sunco: ConformanceSession, kind: str = "web") -> Variant:
    strategy = defs.create_body(kind).map(lambda body: Variant(f"setup {kind}", body, CREATED))
    return sunco.variants("setup", strategy, 1)[0]


def _created_id(exchange: Exchange) -> str | None:
    if exchange.status == 201 and isinstance(exchange.body, dict):
        found = exchange.body.get("integration", {}).get("id")
        return str(found) if found else None
    return None


def _create(sunco: ConformanceSession, variant: Variant) -> str | None:
    exchange = sunco.call("CreateIntegration", variant=variant)
    integration_id = _created_id(exchange)
    sunco.expect_state(
        exchange,
        exchange.status != 201 or integration_id is not None,
        title="created an integration but returned no id for it.",
        pointer="/integration/id",
        rule="a created integration has an id",
        expected="an id",
        actual=exchange.body,
    )
    return integration_id


def _create_required(sunco: ConformanceSession, variant: Variant) -> str:
    """The id of a new integration, or a failure: the rest of the test needs it."""
    exchange = sunco.call("CreateIntegration", variant=variant)
    return sunco.require(
        _created_id(exchange), exchange, needed="the id of the integration it created", pointer="/integration/id"
    )


def _delete(sunco: ConformanceSession, integration_id: str | None) -> None:
    if integration_id:
        sunco.call("DeleteIntegration", path_params={"integrationId": integration_id}, expect=OK)


def _send_all(sunco: ConformanceSession, operation: str, variants: list[Variant], **params: Any) -> None:
    for variant in variants:
        exchange = sunco.call(operation, variant=variant, **params)
        # A body the API should have rejected may have created something: clean it up.
        if operation == "CreateIntegration" and variant.expect.status != 201:
            _delete(sunco, _created_id(exchange))
    sunco.finish()


# -- Create ---------------------------------------------------------------------------------------


def test_create_integration_accepts_every_type(sunco: ConformanceSession) -> None:
    variants = sunco.variants("create-valid", defs.create_valid(), len(defs.TYPES))
    created = [_create(sunco, variant) for variant in variants]
    for integration_id in created:
        _delete(sunco, integration_id)
    sunco.finish()


def test_create_integration_rejects_missing_type(sunco: ConformanceSession) -> None:
    _send_all(sunco, "CreateIntegration", sunco.variants("missing-type", defs.create_missing_type(), 3))


def test_create_integration_rejects_unknown_type(sunco: ConformanceSession) -> None:
    _send_all(sunco, "CreateIntegration", sunco.variants("unknown-type", defs.create_unknown_type(), 3))


def test_create_integration_rejects_wrong_json_types(sunco: ConformanceSession) -> None:
    _send_all(sunco, "CreateIntegration", sunco.variants("wrong-types", defs.create_wrong_json_types(), 5))


def test_create_integration_rejects_long_display_name(sunco: ConformanceSession) -> None:
    _send_all(sunco, "CreateIntegration", sunco.variants("long-name", defs.create_long_display_name(), 3))


def test_create_integration_rejects_missing_type_specific_field(sunco: ConformanceSession) -> None:
    variants = sunco.variants("missing-required", defs.create_missing_required_field(), 8)
    _send_all(sunco, "CreateIntegration", variants)


def test_create_integration_rejects_empty_object(sunco: ConformanceSession) -> None:
    _send_all(sunco, "CreateIntegration", sunco.variants("empty", defs.create_empty_object(), 1))


def test_create_integration_rejects_body_that_is_not_json(sunco: ConformanceSession) -> None:
    _send_all(sunco, "CreateIntegration", sunco.variants("not-json", defs.not_json(), 3))


def test_create_integration_requires_credentials(sunco: ConformanceSession) -> None:
    variant = _setup_variant(sunco)
    exchange = sunco.call("CreateIntegration", body=variant.body, authenticate=False, expect=Expect(401))
    _delete(sunco, _created_id(exchange))
    sunco.finish()


# -- Update ---------------------------------------------------------------------------------------


def test_update_integration_applies_valid_changes(sunco: ConformanceSession) -> None:
    integration_id = _create_required(sunco, _setup_variant(sunco))
    for variant in sunco.variants("update-valid", defs.update_valid(), 6):
        sunco.call("UpdateIntegration", variant=variant, path_params={"integrationId": integration_id})
    _delete(sunco, integration_id)
    sunco.finish()


def test_update_integration_rejects_invalid_bodies(sunco: ConformanceSession) -> None:
    integration_id = _create_required(sunco, _setup_variant(sunco))
    for variant in sunco.variants("update-invalid", defs.update_invalid(), 8):
        sunco.call("UpdateIntegration", variant=variant, path_params={"integrationId": integration_id})
    _delete(sunco, integration_id)
    sunco.finish()


def _update_each_type(sunco: ConformanceSession, group: str, strategy: st.SearchStrategy[list[Variant]]) -> None:
    setups = sunco.variants("setup-every-type", defs.create_valid(), len(defs.TYPES))
    created = {variant.body["type"]: _create(sunco, variant) for variant in setups}
    for kind, variant in zip(defs.TYPES, sunco.variants(group, strategy, len(defs.TYPES)), strict=True):
        integration_id = created.get(kind)
        if integration_id:
            sunco.call("UpdateIntegration", variant=variant, path_params={"integrationId": integration_id})
    for integration_id in created.values():
        _delete(sunco, integration_id)
    sunco.finish()


def test_update_integration_applies_changes_to_every_type(sunco: ConformanceSession) -> None:
    _update_each_type(sunco, "update-every-type", defs.update_every_type())


def test_update_integration_rejects_wrong_json_types_for_every_type(sunco: ConformanceSession) -> None:
    _update_each_type(sunco, "wrong-types-every-type", defs.update_wrong_type_for_every_type())


# -- Unknown ids ----------------------------------------------------------------------------------


def test_get_integration_returns_404_for_unknown_id(sunco: ConformanceSession) -> None:
    _send_all(sunco, "GetIntegration", sunco.variants("unknown-id", defs.unknown_ids(), 2))


def test_update_integration_returns_404_for_unknown_id(sunco: ConformanceSession) -> None:
    variants = sunco.variants(
        "unknown-id",
        defs.unknown_ids().map(lambda v: Variant(v.label, {"displayName": "renamed"}, GONE, params=v.params)),
        2,
    )
    _send_all(sunco, "UpdateIntegration", variants)


def test_delete_integration_returns_404_for_unknown_id(sunco: ConformanceSession) -> None:
    _send_all(sunco, "DeleteIntegration", sunco.variants("unknown-id", defs.unknown_ids(), 2))


# -- Stateful flows -------------------------------------------------------------------------------


def test_integration_lifecycle_create_get_list_update_delete(sunco: ConformanceSession) -> None:
    create = sunco.variants(
        "create",
        defs.any_create_body().map(
            lambda body: Variant(f"valid {body['type']} body", body, Expect(201, echo=defs.ECHO_CREATE))
        ),
        1,
    )[0]
    rename = sunco.variants(
        "rename",
        defs.display_names().map(
            lambda name: Variant("rename", {"displayName": name}, Expect(200, echo=defs.ECHO_UPDATE))
        ),
        1,
    )[0]
    integration_id = _create_required(sunco, create)
    target = {"integrationId": integration_id}

    fetched = sunco.call("GetIntegration", path_params=target, expect=OK)
    got = (fetched.body or {}).get("integration", {})
    sunco.expect_state(
        fetched,
        got.get("id") == integration_id and got.get("type") == create.body["type"],
        title="did not return the integration just created.",
        pointer="/integration",
        rule="a created integration can be fetched by its id",
        expected={"id": integration_id, "type": create.body["type"]},
        actual=got,
    )

    listed = sunco.call("ListIntegrations", query={"page[size]": "100"}, expect=OK)
    ids = [item.get("id") for item in (listed.body or {}).get("integrations", [])]
    sunco.expect_state(
        listed,
        integration_id in ids,
        title="does not list the integration just created.",
        pointer="/integrations",
        rule="a created integration appears in the list",
        expected=f"an item with id {integration_id}",
        actual=ids,
    )

    sunco.call("UpdateIntegration", variant=rename, path_params=target)
    after = sunco.call("GetIntegration", path_params=target, expect=OK)
    name = (after.body or {}).get("integration", {}).get("displayName")
    sunco.expect_state(
        after,
        name == rename.body["displayName"],
        title="does not show the update just made.",
        pointer="/integration/displayName",
        rule="a fetch after an update shows the new value",
        expected=rename.body["displayName"],
        actual=name,
    )

    sunco.call("DeleteIntegration", path_params=target, expect=OK)
    sunco.call("GetIntegration", path_params=target, expect=GONE)
    sunco.finish()


def test_list_integrations_paginates_with_cursors(sunco: ConformanceSession) -> None:
    setups = sunco.variants(
        "setup-many",
        st.tuples(*[defs.create_body("web")] * 3).map(
            lambda bodies: [Variant("setup web", body, CREATED) for body in bodies]
        ),
        3,
    )
    created = [i for i in (_create(sunco, variant) for variant in setups) if i]
    seen: list[str] = []
    query = {"page[size]": "2"}
    for _ in range(50):  # bounded: a live app may hold many integrations
        page = sunco.call("ListIntegrations", query=query, expect=OK)
        body = page.body or {}
        seen += [item.get("id") for item in body.get("integrations", [])]
        meta = body.get("meta", {})
        sunco.expect_state(
            page,
            len(body.get("integrations", [])) <= 2,
            title="returned more than page[size] items.",
            pointer="/integrations",
            rule="page[size] bounds the page",
            expected="at most 2",
            actual=len(body.get("integrations", [])),
        )
        if not meta.get("hasMore"):
            break
        sunco.expect_state(
            page,
            bool(meta.get("afterCursor")),
            title="says hasMore but gives no afterCursor.",
            pointer="/meta/afterCursor",
            rule="hasMore comes with a cursor to the next page",
            expected="a record id",
            actual=meta,
        )
        if not meta.get("afterCursor"):
            break
        query = {"page[size]": "2", "page[after]": meta["afterCursor"]}
    missing = [i for i in created if i not in seen]
    sunco.expect_state(
        page,
        not missing and len(seen) == len(set(seen)),
        title="paging through with page[after] missed or repeated integrations.",
        pointer="/integrations",
        rule="cursor pages cover every record exactly once",
        expected=f"each of {created} exactly once",
        actual=seen,
    )
    for integration_id in created:
        _delete(sunco, integration_id)
    sunco.finish()


def test_list_integrations_filters_by_type(sunco: ConformanceSession) -> None:
    setups = sunco.variants(
        "setup-two",
        st.tuples(defs.create_body("web"), defs.create_body("custom")).map(
            lambda bodies: [Variant(f"setup {b['type']}", b, CREATED) for b in bodies]
        ),
        2,
    )
    created = [_create(sunco, variant) for variant in setups]
    listed = sunco.call("ListIntegrations", query={"filter[types]": "custom", "page[size]": "100"}, expect=OK)
    types = sorted({item.get("type") for item in (listed.body or {}).get("integrations", [])})
    sunco.expect_state(
        listed,
        types == ["custom"],
        title="returned other types than filter[types] asked for.",
        pointer="/integrations",
        rule="filter[types] keeps only the listed types",
        expected=["custom"],
        actual=types,
    )
    for integration_id in created:
        _delete(sunco, integration_id)
    sunco.finish()


def test_list_integrations_rejects_invalid_page_size(sunco: ConformanceSession) -> None:
    sizes = st.one_of(st.integers(-5, 0), st.integers(101, 1000)).map(str) | st.just("many")
    variants = sunco.variants(
        "bad-size",
        sizes.map(
            lambda size: Variant(
                f"page[size]={size}", None, Expect(400, defs.BAD_REQUEST), params={"query": {"page[size]": size}}
            )
        ),
        3,
    )
    _send_all(sunco, "ListIntegrations", variants)
