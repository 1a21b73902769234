"""What keeps the default replay fast without changing what it checks."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref
from types import SimpleNamespace

import pytest
import referencing

from conformance.contract.schemas import Contract
from conformance.plugin import hooks as plugin


class Session:
    """Stands in for a test's conformance session (its cassette and exchanges)."""


def run_protocol(item, outcome: BaseException | None = None) -> None:
    """Drive the plugin's pytest_runtest_protocol wrapper around a test that ends with ``outcome``."""
    wrapper = plugin.pytest_runtest_protocol(item, None)
    next(wrapper)
    try:
        if outcome is None:
            wrapper.send(None)
        else:
            wrapper.throw(outcome)
    except StopIteration:
        pass


@pytest.mark.parametrize("outcome", [None, KeyboardInterrupt()], ids=["finished", "interrupted"])
def test_a_finished_test_lets_its_session_go(outcome):
    session = Session()
    item = SimpleNamespace(stash=pytest.Stash())
    item.stash[plugin._session_key] = session
    gone = weakref.ref(session)
    del session
    if outcome is None:
        run_protocol(item)
    else:
        with pytest.raises(KeyboardInterrupt):
            run_protocol(item, outcome)
    gc.collect()
    assert plugin._session_key not in item.stash
    assert gone() is None


def test_a_test_without_a_session_passes_through_the_protocol():
    item = SimpleNamespace(stash=pytest.Stash())
    run_protocol(item)
    assert plugin._session_key not in item.stash


# (what is imported, what it must not load with it): what a replay never uses stays unloaded.
LAZY = [
    ("conformance.plugin.sandbox_fixture", "conformance.sandbox"),
    ("conformance.plugin.sandbox_fixture", "werkzeug"),
    ("conformance.contract.schemas", "conformance.contract.importer"),
    ("conformance.contract.schemas", "jsonpath_ng"),
]


@pytest.mark.parametrize(("imported", "unloaded"), LAZY, ids=[f"{a} without {b}" for a, b in LAZY])
def test_importing_a_replay_module_leaves_what_replay_never_uses_unloaded(imported, unloaded):
    code = f"import sys, {imported}; print({unloaded!r} in sys.modules)"
    shown = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert shown.stdout.strip() == "False"


BASE = "https://schemas.sunco-conformance.test/"
SHAPES = {
    "components/shape.json": {
        "$id": BASE + "components/shape.json",
        "type": "object",
        "anyOf": [{"$ref": "circle.json"}, {"properties": {"side": {"$ref": "size.json"}}, "required": ["side"]}],
    },
    "components/circle.json": {
        "$id": BASE + "components/circle.json",
        "type": "object",
        "properties": {"radius": {"$ref": "size.json"}},
        "required": ["radius"],
    },
    "components/size.json": {"$id": BASE + "components/size.json", "type": "number", "minimum": 1},
}
# (schema, instance, valid): a branch's relative $ref resolves against its own file.
VALIDATIONS = [
    ("components/shape.json", {"radius": 2}, True),
    ("components/shape.json", {"side": 3}, True),
    ("components/shape.json", {"side": 0}, False),
    ("components/shape.json", {"radius": "2"}, False),
    ("components/circle.json", {"radius": 1}, True),
    ("components/size.json", 0, False),
]


def test_a_contract_builds_its_validators_on_one_registry_combination_per_view(monkeypatch):
    combined: list[object] = []
    original = referencing.Registry.combine

    def combine(self, *registries):
        combined.append(self)
        return original(self, *registries)

    monkeypatch.setattr(referencing.Registry, "combine", combine)
    contract = Contract(SHAPES, {"operations": {}})
    for ref, instance, valid in VALIDATIONS:
        assert contract.validator(ref).is_valid(instance) is valid
        assert contract.validator(ref, "request").is_valid(instance) is valid
    shape = contract.resolve("components/shape.json", "response")
    branch = shape["anyOf"][1]
    assert contract.is_valid(branch, BASE + "components/shape.json", {"side": 2}) is True
    assert contract.is_valid(branch, BASE + "components/shape.json", {"side": 0}) is False
    assert contract.is_valid(shape["anyOf"][0], BASE + "components/shape.json", {"radius": 5}) is True
    assert len(combined) <= 2, "once for each view, not once for each schema"
