"""spec-diff's classification rules, one case per rule: a small contract and a copy with one change.

Each case edits a copy of tests/fixtures/spec_diff/base.yaml and states every change spec-diff
must report, with its class, written out here (never read from the rule table), and every rule
of the table is exercised by a case.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance.contract.diff import Change, SpecDiff, compare, import_document, side_of_import
from conformance.contract.diff_rules import RULES
from conformance.contract.importer import build
from conformance.contract.openapi import Document, load
from conformance.contract.overlay import Action, Overlay

BASE = Path(__file__).resolve().parent / "fixtures" / "spec_diff" / "base.yaml"
Spec = dict[str, Any]
Row = tuple[str, str, str, str, str]  # subject, kind, where, pointer, class
PLANT = "schema plant"
REQ, RESP, HOOK = "schema plant (request)", "schema plant (response)", "schema plant (webhook)"


def base() -> Spec:
    return copy.deepcopy(load(BASE).data)


def diff(old: Spec, new: Spec) -> SpecDiff:
    sides = [side_of_import(build(Document(data, name, "0")), name) for data, name in ((old, "old"), (new, "new"))]
    return compare(*sides)


def rows(changes: list[Change]) -> set[Row]:
    return {(c.operation, c.kind, c.where, c.pointer, c.klass) for c in changes}


def schemas(spec: Spec) -> dict[str, Any]:
    found: dict[str, Any] = spec["components"]["schemas"]
    return found


def plant(spec: Spec) -> dict[str, Any]:
    found: dict[str, Any] = schemas(spec)["plant"]["properties"]
    return found


def on(path: str, method: str) -> Callable[[Spec], dict[str, Any]]:
    def get(spec: Spec) -> dict[str, Any]:
        found: dict[str, Any] = spec["paths"][path][method]
        return found

    return get


create, listing, water = on("/plants", "post"), on("/plants", "get"), on("/plants/{plantId}/water", "post")


def webhook(spec: Spec) -> dict[str, Any]:
    found: dict[str, Any] = spec["x-webhooks"]["Garden Event"]["post"]
    return found


def events(spec: Spec) -> list[Any]:
    found: list[Any] = webhook(spec)["requestBody"]["content"]["application/json"]["schema"]["properties"]["events"][
        "items"
    ]["anyOf"]
    return found


def three(kind: str, pointer: str, request: str, response: str, hook: str, subject: str = PLANT) -> set[Row]:
    """A change to a component used in a request, a response and a webhook payload: one row per scope."""
    name = subject.removeprefix("schema ")
    return {
        (subject, kind.format(scope="request"), f"schema {name} (request)", pointer, request),
        (subject, kind.format(scope="response"), f"schema {name} (response)", pointer, response),
        (subject, kind.format(scope="payload"), f"schema {name} (webhook)", pointer, hook),
    }


def rename_media(holder: dict[str, Any], media: str) -> None:
    holder["content"] = {media: holder["content"].pop("application/json")}


def edit(change: Callable[[Spec], Any]) -> Callable[[Spec], Spec]:
    def made(spec: Spec) -> Spec:
        change(spec)
        return spec

    return made


# (rule name, the change, every row spec-diff must report)
CASES: list[tuple[str, Callable[[Spec], Spec], set[Row]]] = [
    (
        "enum-value-added",
        edit(lambda s: plant(s)["kind"]["enum"].append("cactus")),
        three("enum-value-added", "/kind", "additive", "breaking", "breaking"),
    ),
    (
        "enum-value-removed",
        edit(lambda s: plant(s)["kind"]["enum"].remove("herb")),
        three("enum-value-removed", "/kind", "breaking", "cosmetic", "cosmetic"),
    ),
    (
        "enum-added",
        edit(lambda s: plant(s)["height"].update(enum=[1, 2])),
        three("enum-added", "/height", "breaking", "cosmetic", "cosmetic"),
    ),
    (
        "enum-removed",
        edit(lambda s: plant(s)["kind"].pop("enum")),
        three("enum-removed", "/kind", "additive", "breaking", "breaking"),
    ),
    (
        "type-widened",
        edit(lambda s: plant(s)["height"].update(nullable=True)),
        three("type-widened", "/height", "additive", "breaking", "breaking"),
    ),
    (
        "type-narrowed",
        edit(lambda s: plant(s)["height"].update(type="integer")),
        three("type-narrowed", "/height", "breaking", "cosmetic", "cosmetic"),
    ),
    (
        "type-changed",
        edit(lambda s: plant(s)["height"].update(type="string")),
        three("type-changed", "/height", "breaking", "breaking", "breaking"),
    ),
    (
        "constraint-tightened",
        edit(lambda s: plant(s)["name"].update(minLength=2)),
        three("constraint-tightened", "/name", "breaking", "cosmetic", "cosmetic"),
    ),
    (
        "constraint-tightened (format)",
        edit(lambda s: plant(s)["label"].update(format="hostname")),
        three("constraint-tightened", "/label", "breaking", "cosmetic", "cosmetic"),
    ),
    (
        "constraint-tightened (a parameter's minimum)",
        edit(lambda s: listing(s)["parameters"][0]["schema"].update(minimum=2)),
        {("ListPlants", "constraint-tightened", "query parameters", "/limit", "breaking")},
    ),
    (
        "constraint-loosened",
        edit(lambda s: plant(s)["tags"].pop("maxItems")),
        three("constraint-loosened", "/tags", "additive", "breaking", "breaking"),
    ),
    (
        "constraint-changed",
        edit(lambda s: plant(s)["label"].update(pattern="^[a-z0-9]+$")),
        three("constraint-changed", "/label", "breaking", "breaking", "breaking"),
    ),
    (
        "field-added",
        edit(lambda s: plant(s).update(colour={"type": "string"})),
        three("{scope}-field-added", "/colour", "additive", "additive", "additive"),
    ),
    (
        "field-removed",
        edit(lambda s: plant(s).pop("height")),
        three("{scope}-field-removed", "/height", "breaking", "breaking", "breaking"),
    ),
    (
        "field-required",
        edit(lambda s: schemas(s)["plant"]["required"].append("kind")),
        three("{scope}-field-required", "/kind", "breaking", "cosmetic", "cosmetic"),
    ),
    (
        "field-optional",
        edit(lambda s: schemas(s)["plant"].pop("required")),
        three("{scope}-field-optional", "/name", "additive", "breaking", "breaking"),
    ),
    (
        "branch-added",
        edit(
            lambda s: (
                schemas(s).update(potCare={"type": "object", "properties": {"type": {"type": "string"}}}),
                schemas(s)["care"]["oneOf"].append({"$ref": "#/components/schemas/potCare"}),
            )
        ),
        three("branch-added", "/", "additive", "breaking", "breaking", "schema care"),
    ),
    (
        "branch-removed",
        edit(lambda s: schemas(s)["care"]["oneOf"].pop()),
        three("branch-removed", "/", "breaking", "cosmetic", "cosmetic", "schema care"),
    ),
    (
        "discriminator-added",
        edit(
            lambda s: schemas(s)["care"].update(
                discriminator={
                    "propertyName": "type",
                    "mapping": {"sun": "#/components/schemas/sunCare", "shade": "#/components/schemas/shadeCare"},
                }
            )
        ),
        three("discriminator-added", "/", "cosmetic", "cosmetic", "cosmetic", "schema care"),
    ),
    (
        "event-added",
        edit(
            lambda s: (
                schemas(s).update(rainEvent={"type": "object", "properties": {"type": {"type": "string"}}}),
                events(s).append({"$ref": "#/components/schemas/rainEvent"}),
            )
        ),
        {("webhook GardenEvents", "event-added", "payload (application/json)", "/events/*", "additive")},
    ),
    (
        "event-removed",
        edit(lambda s: events(s).pop()),
        {("webhook GardenEvents", "event-removed", "payload (application/json)", "/events/*", "breaking")},
    ),
    (
        "webhook-added",
        edit(
            lambda s: s["x-webhooks"].update(
                {"Soil Event": {"post": copy.deepcopy(webhook(s)) | {"operationId": "SoilEvents"}}}
            )
        ),
        {("webhook SoilEvents", "webhook-added", "webhook", "", "additive")},
    ),
    (
        "webhook-removed",
        edit(lambda s: s["x-webhooks"].pop("Garden Event")),
        {("webhook GardenEvents", "webhook-removed", "webhook", "", "breaking")},
    ),
    (
        "media-type (request)",
        edit(lambda s: rename_media(create(s)["requestBody"], "application/merge-patch+json")),
        {
            ("CreatePlant", "media-type-removed", "request body", "", "breaking"),
            ("CreatePlant", "media-type-added", "request body", "", "additive"),
        },
    ),
    (
        "media-type (response)",
        edit(lambda s: rename_media(create(s)["responses"]["201"], "application/hal+json")),
        {
            ("CreatePlant", "media-type-removed", "response 201", "", "breaking"),
            ("CreatePlant", "media-type-added", "response 201", "", "additive"),
        },
    ),
    (
        "media-type (webhook)",
        edit(lambda s: rename_media(webhook(s)["requestBody"], "application/cloudevents+json")),
        {
            ("webhook GardenEvents", "media-type-removed", "payload", "", "cosmetic"),
            ("webhook GardenEvents", "media-type-added", "payload", "", "breaking"),
        },
    ),
    (
        "header-added",
        edit(lambda s: listing(s)["responses"]["200"].update(headers={"X-Total": {"schema": {"type": "integer"}}})),
        {("ListPlants", "header-added", "response 200 headers", "", "additive")},
    ),
    (
        "header-removed",
        edit(lambda s: create(s)["responses"]["201"].pop("headers")),
        {("CreatePlant", "header-removed", "response 201 headers", "", "breaking")},
    ),
    (
        "status (success)",
        edit(lambda s: create(s)["responses"].update({"202": {"description": "Later"}})),
        {("CreatePlant", "status-added", "responses", "", "breaking")},
    ),
    (
        "status-removed (success)",
        edit(
            lambda s: water(s)["responses"].update({"204": {"description": "Done"}}) or water(s)["responses"].pop("200")
        ),
        {
            ("WaterPlant", "status-removed", "responses", "", "breaking"),
            ("WaterPlant", "status-added", "responses", "", "breaking"),
        },
    ),
    (
        "status (error)",
        edit(lambda s: create(s)["responses"].update({"409": create(s)["responses"].pop("400")})),
        {
            ("CreatePlant", "status-removed", "responses", "", "cosmetic"),
            ("CreatePlant", "status-added", "responses", "", "additive"),
        },
    ),
    (
        "request-body-required",
        edit(lambda s: water(s)["requestBody"].update(required=True)),
        {("WaterPlant", "request-body-required", "request body", "", "breaking")},
    ),
    (
        "request-body-optional",
        edit(lambda s: create(s)["requestBody"].update(required=False)),
        {("CreatePlant", "request-body-optional", "request body", "", "additive")},
    ),
    (
        "operation-added",
        edit(
            lambda s: s["paths"].update({"/seeds": {"get": copy.deepcopy(listing(s)) | {"operationId": "ListSeeds"}}})
        ),
        {("ListSeeds", "operation-added", "operation", "", "additive")},
    ),
    (
        "operation-removed",
        edit(lambda s: s["paths"].pop("/plants/{plantId}/water")),
        {("WaterPlant", "operation-removed", "operation", "", "breaking")},
    ),
    (
        "operation-renamed",
        edit(lambda s: listing(s).update(operationId="GetPlants")),
        {("GetPlants", "operation-renamed", "operation", "", "cosmetic")},
    ),
    (
        "operation-moved",
        edit(lambda s: s["paths"].update({"/plants/{plantId}/watering": s["paths"].pop("/plants/{plantId}/water")})),
        {("WaterPlant", "operation-moved", "operation", "", "breaking")},
    ),
    (
        "tag-changed",
        edit(lambda s: listing(s).update(tags=["Garden"])),
        {("ListPlants", "tag-changed", "operation", "", "cosmetic")},
    ),
    (
        "security-widened",
        edit(lambda s: listing(s).update(security=[{"basicAuth": ["garden", "admin"]}])),
        {("ListPlants", "security-widened", "security", "", "additive")},
    ),
    (
        "security-changed",
        edit(lambda s: listing(s).update(security=[{"basicAuth": ["admin"]}])),
        {("ListPlants", "security-changed", "security", "", "breaking")},
    ),
]


def three_branches(spec: Spec) -> Spec:
    schemas(spec).update(potCare={"type": "object", "properties": {"type": {"type": "string"}}})
    schemas(spec)["care"]["oneOf"].append({"$ref": "#/components/schemas/potCare"})
    schemas(spec).update(rainEvent={"type": "object", "properties": {"type": {"type": "string"}}})
    events(spec).append({"$ref": "#/components/schemas/rainEvent"})
    return spec


# A union keeps two branches after one goes: one branch alone is not a union any more.
START = {"branch-removed": three_branches, "event-removed": three_branches}


def pair(name: str, change: Callable[[Spec], Spec]) -> tuple[Spec, Spec]:
    start = START.get(name, lambda spec: spec)
    return start(base()), change(start(base()))


@pytest.mark.parametrize(("name", "change", "expected"), CASES, ids=[case[0] for case in CASES])
def test_each_rule_classes_its_change(name, change, expected):
    found = rows(diff(*pair(name, change)).changes)
    assert found == expected, (sorted(expected - found), sorted(found - expected))


def test_every_rule_of_the_table_has_a_case():
    covered = {(c.kind, c.scope) for name, change, _ in CASES for c in diff(*pair(name, change)).changes}
    assert covered == set(RULES), (sorted(set(RULES) - covered), sorted(covered - set(RULES)))


def test_a_required_query_parameter_added_to_an_operation_without_query_parameters_is_breaking():
    new = base()
    water(new)["parameters"].append({"name": "dryRun", "in": "query", "required": True, "schema": {"type": "boolean"}})
    create(new)["parameters"] = [{"name": "X-Trace", "in": "header", "schema": {"type": "string"}}]
    result = diff(base(), new)
    assert rows(result.changes) == {
        ("WaterPlant", "request-field-required", "query parameters", "/dryRun", "breaking"),
        ("CreatePlant", "request-field-added", "header parameters", "/X-Trace", "additive"),
    }
    assert result.breaking


def test_a_change_to_a_recursive_schema_is_reported_once_with_the_operations_it_reaches():
    new = base()
    plant(new)["kind"]["enum"].append("cactus")  # plant holds its parent, a plant
    by_scope = {c.where: c for c in diff(base(), new).changes}
    assert len(by_scope) == 3
    assert by_scope[REQ].operations == ("CreatePlant",)
    assert by_scope[RESP].operations == ("CreatePlant", "ListPlants")
    assert by_scope[HOOK].operations == ("webhook GardenEvents",)
    assert "ListPlants response 200 (application/json) /plants/*/kind" in by_scope[RESP].shown_at


def test_a_discriminated_union_that_gains_a_branch_reports_the_branch_once():
    old = base()
    schemas(old)["care"]["discriminator"] = {
        "propertyName": "type",
        "mapping": {"sun": "#/components/schemas/sunCare", "shade": "#/components/schemas/shadeCare"},
    }
    new = copy.deepcopy(old)
    schemas(new)["potCare"] = {
        "type": "object",
        "required": ["type", "size"],
        "properties": {"type": {"type": "string", "enum": ["pot"]}, "size": {"type": "integer"}},
    }
    schemas(new)["care"]["oneOf"].append({"$ref": "#/components/schemas/potCare"})
    schemas(new)["care"]["discriminator"]["mapping"]["pot"] = "#/components/schemas/potCare"
    # A new content type under a required field of a request is more a client may send: additive.
    assert rows(diff(old, new).changes) == three("branch-added", "/", "additive", "breaking", "breaking", "schema care")


def test_a_difference_from_an_overlay_action_that_no_longer_applies_names_the_action_and_its_reason():
    action = Action(
        1,
        "$['x-webhooks']['Garden Event'].post.requestBody.content['application/json'].schema.properties.events.items",
        "events are told apart by their type",
        {"discriminator": {"propertyName": "type", "mapping": {"prune": "#/components/schemas/pruneEvent"}}},
    )
    overlay = Overlay("overlay.yaml", "0", "fixes", (action,))
    new = base()
    events(new).pop()
    del schemas(new)["pruneEvent"]  # an older release, without the schema the action names
    old_import, skipped_old = import_document(Document(base(), "old.yaml", "0"), overlay)
    new_import, skipped_new = import_document(Document(new, "new.yaml", "0"), overlay)
    assert skipped_old == []
    assert [s.action.number for s in skipped_new] == [1]
    assert "refers to #/components/schemas/pruneEvent, which the spec does not have" in skipped_new[0].message
    result = compare(side_of_import(old_import, "old"), side_of_import(new_import, "new"), skipped_new=skipped_new)
    webhook_changes = [c for c in result.changes if "webhook GardenEvents" in c.operations]
    assert webhook_changes
    assert all(c.overlay == ("overlay action 1: events are told apart by their type",) for c in webhook_changes)
    assert all(c.overlay == () for c in result.changes if c not in webhook_changes)
