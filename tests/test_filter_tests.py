"""Every generated filter test sends a value one record has and the other lacks, never None or empty."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.contract.resources import RESOURCES, Resource
from conformance.suites.generic.generated import generated_for
from conformance.suites.generic.lists import filter_setups, filter_value, generic_filters
from conformance.suites.generic.templates import snake

FILTERED = [(item, key, name) for item in RESOURCES for key, name in generic_filters(item)]


def test_the_generated_filters_include_users_by_email_and_integrations_by_type() -> None:
    assert {(item.name, key) for item, key, _ in FILTERED} >= {
        ("user", "filter[identities.email]"),
        ("integration", "filter[types]"),
    }


@pytest.mark.parametrize(("item", "key", "name"), FILTERED, ids=[f"{i.name}-{k}" for i, k, _ in FILTERED])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_list_filter_setups_differ_in_the_filtered_field_and_neither_lacks_it(
    item: Resource, key: str, name: str, data: st.DataObject
) -> None:
    first, second = data.draw(filter_setups(item, name))
    sent, other = filter_value(first, name), filter_value(second, name)
    assert sent not in (None, "", "None"), (key, first)
    assert other not in (None, "", "None"), (key, second)
    assert sent != other


@pytest.mark.parametrize(("item", "key", "name"), FILTERED, ids=[f"{i.name}-{k}" for i, k, _ in FILTERED])
def test_each_generic_filter_has_its_generated_test(item: Resource, key: str, name: str) -> None:
    list_op = snake(item.operations["list"])
    assert f"test_{list_op}_filters_by_{name.replace('.', '_')}" in generated_for(item.name)


@pytest.mark.parametrize(
    ("body", "value"),
    [
        ({"externalId": "x"}, None),
        ({"profile": {}}, None),
        ({"profile": {"email": None}}, None),
        ({"profile": {"email": ""}}, None),
        ({"profile": {"email": "a@example.com"}}, "a@example.com"),
    ],
)
def test_filter_value_is_none_for_a_record_without_the_field(body: dict[str, object], value: str | None) -> None:
    assert filter_value(body, "profile.email") == value
