"""Every schema against sample instances, in the manner of the JSON Schema test suite.

Each case names a schema, an instance and whether the instance is valid, and one parametrized
test runs them all.
"""

from __future__ import annotations

import pytest
from schema_request_cases import create_cases, update_cases
from schema_response_cases import error_cases, query_cases, response_body, response_cases
from schema_support import TYPES

from conformance.spec.schemas import validator, write_only_fields

CASES = [*create_cases(), *update_cases(), *response_cases(), *error_cases(), *query_cases()]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.schema} | {c.description}" for c in CASES])
def test_instance(case):
    errors = list(validator(case.schema).iter_errors(case.data))
    if case.valid:
        assert errors == [], [error.message for error in errors]
    else:
        assert errors, f"{case.data!r} should not be valid against {case.schema}"


@pytest.mark.parametrize("integration_type", TYPES)
def test_response_bodies_carry_no_write_only_fields(integration_type):
    body = response_body(integration_type)
    assert not write_only_fields(f"integration.json#/$defs/{integration_type}") & body.keys()
