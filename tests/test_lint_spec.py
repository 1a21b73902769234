"""lint-spec's checks, driven by the fixture specs in fixtures/lint: each states the findings it must produce."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conformance import pointer as pointers
from conformance.contract.convert import Converter, component_name, polymorphic_bases
from conformance.contract.importer import BASE_URI, build, component_file
from conformance.contract.instances import Builder
from conformance.contract.lint import KINDS, lint
from conformance.contract.openapi import Document, load
from conformance.pointer import MISSING

FIXTURES = Path(__file__).parent / "fixtures" / "lint"
CASES = sorted(FIXTURES.glob("*.yaml"))


def expected(document: Document) -> list[tuple[str, str]]:
    return sorted((entry["kind"], entry["location"]) for entry in document.data["x-lint-expected"])


class Schemas:
    """The fixture's converted schemas, as import-spec would write them, to check evidence independently."""

    def __init__(self, document: Document) -> None:
        resources = []
        for text in build(document).files.values():
            contents = json.loads(text)
            if "$id" not in contents:
                continue  # index.json
            contents.pop("$schema", None)  # else jsonschema picks the validator class from it
            resources.append((contents["$id"], Resource.from_contents(contents, default_specification=DRAFT202012)))
        self.registry: Registry[Any] = Registry().with_resources(resources)
        components = document.data.get("components", {}).get("schemas", {})
        self.converter = Converter(
            lambda ref: BASE_URI + component_file(str(component_name(ref))), polymorphic_bases(components)
        )

    def validator(self, raw: Any) -> Draft202012Validator:
        return Draft202012Validator(self.converter.schema(raw), registry=self.registry)


@pytest.mark.parametrize("fixture", CASES, ids=lambda path: path.stem)
def test_fixture_produces_exactly_the_findings_it_states(fixture: Path) -> None:
    document = load(fixture)
    found = sorted((defect.kind, defect.location) for defect in lint(document))
    assert found == expected(document)


def test_every_kind_has_a_fixture_and_one_fixture_is_clean() -> None:
    stated = {path.stem: {kind for kind, _ in expected(load(path))} for path in CASES}
    assert stated.pop("clean") == set()
    assert stated == {kind: {kind} for kind in KINDS}


def test_ambiguous_oneof_bodies_really_match_two_branches_and_fail_the_oneof() -> None:
    document = load(FIXTURES / "ambiguous-oneof.yaml")
    schemas = Schemas(document)
    defects = [defect for defect in lint(document) if defect.kind == "ambiguous-oneof"]
    assert len(defects) == 4
    for defect in defects:
        body = defect.evidence["body"]
        branches = pointers.resolve(document.data, defect.location)
        accepting = [index for index, branch in enumerate(branches) if schemas.validator(branch).is_valid(body)]
        assert len(accepting) >= 2, defect.location
        assert len(accepting) == len(defect.evidence["validAgainst"]), defect.location
        whole = pointers.resolve(document.data, defect.location.removesuffix("/oneOf"))
        errors = list(schemas.validator(whole).iter_errors(body))
        assert [error.validator for error in errors] == ["oneOf"], defect.location
        assert "is valid under each of" in errors[0].message


def test_ambiguous_oneof_names_component_branches_by_name() -> None:
    document = load(FIXTURES / "ambiguous-oneof.yaml")
    (notify,) = [d for d in lint(document) if d.location == "/components/schemas/notify/oneOf"]
    assert notify.evidence["validAgainst"] == ["email", "sms"]
    assert notify.evidence["body"] == {"address": "user@example.com"}  # the email branch's own field, format honoured


def test_required_nullable_evidence_points_at_both_keywords() -> None:
    document = load(FIXTURES / "required-nullable.yaml")
    by_location = {d.location: d.evidence for d in lint(document)}
    sender = by_location["/components/schemas/parcel/properties/sender"]
    assert sender["required"] == ["/components/schemas/parcel/required"]
    assert sender["nullable"] == ["/components/schemas/contact/nullable"]  # through the $ref
    stamped = by_location["/components/schemas/stamped/properties/stampedAt"]
    assert stamped["required"] == ["/components/schemas/letter/allOf/1/required"]  # across allOf members
    for evidence in by_location.values():
        for place in [*evidence["required"], *evidence["nullable"]]:
            assert pointers.resolve(document.data, place) is not MISSING


def test_write_only_mismatch_evidence_names_both_sides_and_the_relation() -> None:
    document = load(FIXTURES / "writeonly-mismatch.yaml")
    by_field = {d.evidence["field"]: d for d in lint(document)}
    bike = by_field["apiSecret"]
    assert bike.evidence["notWriteOnlyIn"] == ["bike"]
    assert bike.evidence["writeOnlyIn"] == {"van": "/components/schemas/van/allOf/1/properties/apiSecret/writeOnly"}
    assert "discriminator mapping of /components/schemas/courier" in bike.evidence["siblingsBy"]
    assert by_field["pin"].evidence["siblingsBy"] == ["oneOf at /components/schemas/payment/oneOf"]
    assert by_field["webhookKey"].evidence["siblingsBy"] == ["allOf extending /components/schemas/tracked"]
    assert bike.title == "apiSecret is writeOnly in van but not in bike"


def test_no_error_status_and_server_variable_evidence() -> None:
    statuses = {d.evidence["operation"]: d.evidence["statuses"] for d in lint(load(FIXTURES / "no-error-status.yaml"))}
    assert statuses == {"listParcels": ["200"], "login": ["302"]}
    servers = lint(load(FIXTURES / "undefined-server-variable.yaml"))
    assert [(d.evidence["undefined"], d.evidence["variables"]) for d in servers] == [
        (["tenant"], ["version"]),
        (["host", "port"], []),
        (["zone"], []),
    ]


def test_required_not_a_list_shows_the_value_and_the_enclosing_list() -> None:
    defects = lint(load(FIXTURES / "required-not-a-list.yaml"))
    carrier, page_size, weight = defects
    assert carrier.evidence == {"value": True, "field": "carrier", "enclosingRequired": []}
    assert page_size.evidence == {"value": True}
    assert weight.evidence == {"value": True, "field": "weight", "enclosingRequired": ["id"]}
    assert weight.title == "parcel.weight has required: true, not a list of field names, so it requires nothing"


@pytest.mark.parametrize("fixture", CASES, ids=lambda path: path.stem)
def test_built_instances_are_valid_against_their_converted_schema(fixture: Path) -> None:
    document = load(fixture)
    schemas = Schemas(document)
    builder = Builder(document)
    built = 0
    components = document.data.get("components", {}).get("schemas", {})
    for name in components:
        value = builder.value({"$ref": f"#/components/schemas/{name}"})
        if value is not MISSING:
            built += 1
            errors = [e.message for e in schemas.validator({"$ref": f"#/components/schemas/{name}"}).iter_errors(value)]
            oneof_ambiguity = all("is valid under each of" in message for message in errors)
            assert not errors or oneof_ambiguity, (name, value, errors)
    assert built == len(components)


def test_builder_fills_a_subtype_discriminator_with_its_own_value() -> None:
    document = load(FIXTURES / "writeonly-mismatch.yaml")
    assert Builder(document).value({"$ref": "#/components/schemas/bike"}) == {"kind": "bike"}
    assert Builder(document).value({"$ref": "#/components/schemas/courier"}) == {"kind": "van"}


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ({"type": "string", "minLength": 3}, "xxx"),
        ({"type": "string", "format": "date-time"}, "2024-01-01T00:00:00Z"),
        ({"type": "string", "enum": [None, "b"], "nullable": True}, "b"),
        ({"type": "integer", "minimum": 5, "exclusiveMinimum": True}, 6),
        ({"type": "integer", "minimum": 1, "multipleOf": 4}, 4),
        ({"type": "array", "items": {"type": "boolean"}, "minItems": 2}, [True, True]),
        ({"type": "string", "pattern": "^[0-9]+$"}, MISSING),
        ({"type": "integer", "minimum": 3, "maximum": 2}, MISSING),
    ],
)
def test_builder_honours_simple_keywords(schema: dict[str, Any], value: Any) -> None:
    document = Document(data={"openapi": "3.0.3", "paths": {}}, name="inline", sha256="")
    assert Builder(document).value(schema) == value
