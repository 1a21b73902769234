"""The resource table agrees with the operation index: every record names real operations and envelopes."""

from __future__ import annotations

import pytest

from conformance.contract.resources import RESOURCES, ROLES, by_operation, chain, dotted, resource
from conformance.contract.schemas import shipped

METHODS = {"create": "POST", "list": "GET", "get": "GET", "update": "PATCH", "delete": "DELETE"}


@pytest.mark.parametrize("item", RESOURCES, ids=[r.name for r in RESOURCES])
def test_each_record_names_operations_the_index_has_with_the_right_method(item):
    for role, op_id in item.operations.items():
        assert role in ROLES
        op = shipped().operation(op_id)
        assert op.method == METHODS[role], (op_id, op.method)
        on_one = "{" + item.id_param + "}" in op.path
        assert on_one == (role in ("get", "update", "delete")), (op_id, op.path)


@pytest.mark.parametrize("item", RESOURCES, ids=[r.name for r in RESOURCES])
def test_each_record_names_its_envelopes_and_not_found_code(item):
    assert item.record_schema is not None, f"{item.name}: no {item.envelope!r} in its responses"
    listing = item.op("list")
    if listing is not None:
        assert item.collection in shipped().declared_fields(str(listing.response_schema(200)))
    assert item.not_found
    for role in ("get", "update", "delete"):
        op = item.op(role)
        if op is not None:
            assert op.documents(404) or item.parent, f"{op.operation_id} documents no 404"


@pytest.mark.parametrize("item", RESOURCES, ids=[r.name for r in RESOURCES])
def test_parents_come_first_in_the_paths(item):
    expected = [ancestor.id_param for ancestor in chain(item)[:-1]]
    assert list(item.parent_params) == (["appId"] if item.name != "app" else []) + expected


def test_every_operation_belongs_to_at_most_one_resource():
    owners = by_operation()
    assert len(owners) == sum(len(r.operations) for r in RESOURCES)


def test_lookup_and_dotted_paths():
    assert resource("integration").envelope == "integration"
    with pytest.raises(KeyError, match="known resources"):
        resource("nope")
    assert dotted({"profile": {"email": "a@b"}}, "profile.email") == "a@b"
    assert dotted({"profile": None}, "profile.email") is None
