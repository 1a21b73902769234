"""Collecting a suite module's generated tests (``GENERATED = Generated(...)``) as named test functions.

Each generated test becomes an item of its module, at the line that names the resources, with the
test's own name: its node id, and so its cassette's name, are those of a function the module
defined. No test module writes into its own globals; ``Generated`` says which tests it holds, made
for the contract the run checks against (``--schema-dir``) unless the module fixed one.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.plugin.hooks import run_contract
from conformance.suites.generic.generated import Generated


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: Any) -> list[pytest.Item] | None:
    if not isinstance(obj, Generated) or not isinstance(collector, pytest.Module):
        return None
    tests = obj.made_for(run_contract(collector.config))
    own = vars(collector.obj)
    clash = sorted(test_name for test_name in tests if test_name in own)
    if clash:
        raise collector.CollectError(f"{collector.nodeid} defines {', '.join(clash)}, which {name} generates too")
    return [pytest.Function.from_parent(collector, name=test_name, callobj=test) for test_name, test in tests.items()]
