"""String formats are enforced by every validator the project builds, not silently skipped.

jsonschema checks a format only when its checker's library is installed and otherwise lets any
string through; ``jsonschema[format-nongpl]`` brings them. Each format the contract uses has a
case here, and a new one fails the first test until it gets one.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings

from conformance.contract._schemas_validators import VALIDATORS, VIEWS
from conformance.contract.schemas import schema_uri, shipped
from conformance.scrubbing import placeholders
from conformance.variants.strategies import Generator

# format -> (a schema of the contract whose whole value has it, a good value, bad values)
CASES: dict[str, tuple[str, str, list[str]]] = {
    "date-time": ("components/signedUpAt.json", "2024-03-05T14:22:31.512Z", ["yesterday", "2024-01-01 00:05:43"]),
    "uri": ("components/icon.json", "https://www.gravatar.com/image.jpg", ["AAA", "example.com/a.png"]),
    "email": (
        "components/profile.json#/properties/email",
        "jane.doe@example.com",
        ["jane.doe", "jane.doe.example.com"],
    ),
}
# OpenAPI's marker for file content in a multipart body: no JSON value to check.
UNCHECKED = {"binary"}
NOT_SCHEMAS = ("enum", "const", "default", "examples")
MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")


def formats(node: Any, found: set[str]) -> set[str]:
    if isinstance(node, list):
        for item in node:
            formats(item, found)
    elif isinstance(node, dict):
        if isinstance(node.get("format"), str):
            found.add(node["format"])
        for key, value in node.items():
            if key in MAPS and isinstance(value, dict):
                formats(list(value.values()), found)
            elif key not in NOT_SCHEMAS and key != "format":
                formats(value, found)
    return found


USED = formats(list(shipped().documents.values()), set())
CASE_IDS = list(CASES)


def test_every_format_the_contract_uses_has_a_case():
    assert {"date-time", "uri", "email"} <= USED
    assert set(CASES) == USED - UNCHECKED


@pytest.mark.parametrize("fmt", CASE_IDS)
@pytest.mark.parametrize("view", VIEWS)
def test_the_format_has_a_checker_in_each_view(fmt, view):
    # Missing from the checker means its library is missing: jsonschema would skip it silently.
    assert fmt in VALIDATORS[view].FORMAT_CHECKER.checkers


@pytest.mark.parametrize("fmt", CASE_IDS)
@pytest.mark.parametrize("view", VIEWS)
def test_the_contracts_validators_refuse_a_bad_value(fmt, view):
    ref, good, bads = CASES[fmt]
    validator = shipped().validator(ref, view)
    assert validator.is_valid(good)
    for bad in bads:
        errors = list(validator.iter_errors(bad))
        assert [error.validator for error in errors] == ["format"], bad
        assert errors[0].validator_value == fmt


@pytest.mark.parametrize("fmt", CASE_IDS)
@pytest.mark.parametrize("view", VIEWS)
def test_branch_selection_checks_formats_too(fmt, view):
    # is_valid judges anyOf/oneOf/if branches for the generators, the sandbox and the checks.
    ref, good, bads = CASES[fmt]
    schema, base = shipped().resolve(ref, view), schema_uri(ref).split("#")[0]
    assert shipped().is_valid(schema, base, good, view)
    assert not any(shipped().is_valid(schema, base, bad, view) for bad in bads)


@pytest.mark.parametrize("fmt", CASE_IDS)
def test_placeholders_are_held_to_the_format(fmt):
    ref, good, bads = CASES[fmt]
    declaration = [(shipped().resolve(ref), schema_uri(ref).split("#")[0])]
    assert placeholders._valid(shipped(), good, declaration)
    assert not any(placeholders._valid(shipped(), bad, declaration) for bad in bads)


@pytest.mark.parametrize("fmt", CASE_IDS)
def test_generated_values_satisfy_the_format(fmt):
    ref, _, _ = CASES[fmt]
    validator = shipped().validator(ref, "request")

    @settings(max_examples=25, database=None)
    @given(Generator().for_ref(ref))
    def drawn(value: Any) -> None:
        assert validator.is_valid(value), value

    drawn()


def test_generated_timestamps_have_the_form_the_service_sends():
    form = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

    @settings(max_examples=25, database=None)
    @given(Generator().for_ref("components/signedUpAt.json"))
    def drawn(value: str) -> None:
        assert form.match(value), value

    drawn()
