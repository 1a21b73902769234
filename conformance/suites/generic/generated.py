"""A suite module's generated tests: every template of the registry, made for the module's resources.

A suite module names its resources once::

    GENERATED = Generated("integration")

and the plugin collects each generated test in the module, at that line, as if the module had
defined a function of the test's name (``conformance/suites/test_integrations.py::
test_create_integration_accepts_valid_bodies``). How a test's name leads to its template: see
:mod:`conformance.suites.generic.templates`.

The records come from the project's table unless the module gives its own (``resources=``: another
API's, as the upgrade test's shop does). Which tests a record makes depends on the contract (a body
with no enum has no enum test): the plugin makes them for the contract the run checks against
(``--schema-dir``) unless the module fixes one (``contract=``); read as a mapping outside a run, for
the fixed one, else the shipped one. A test's body always reads the table against the run's contract.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from functools import cached_property
from types import ModuleType

from conformance.contract.resources import RESOURCES, Resource
from conformance.contract.schemas import Contract, shipped
from conformance.suites.generic import creating, lists, records
from conformance.suites.generic.templates import Registry, Test

# The order of the generated tests in a module: creates, then records that exist, then lists.
REGISTRY = Registry(creating.TEMPLATES, records.TEMPLATES, lists.TEMPLATES)


def named(name: str, resources: Iterable[Resource] = RESOURCES) -> Resource:
    """The record ``name`` of a table, or an error listing the table's names."""
    table = {item.name: item for item in resources}
    if name not in table:
        raise KeyError(f"unknown resource {name!r}; known resources: {', '.join(sorted(table))}")
    return table[name]


def generated_for(
    name: str, contract: Contract | None = None, resources: Iterable[Resource] = RESOURCES
) -> dict[str, Test]:
    """The generated tests of the resource ``name`` (of the project's table, or ``resources``), by test
    name, as ``contract`` (the shipped one if none is given) offers them."""
    table = tuple(resources)
    # The record finds its parents in its own table (another API's has its own).
    item = replace(named(name, table), table=table)
    return REGISTRY.generate(item.bound(contract or shipped()))


class Generated(Mapping[str, Test]):
    """The generated tests of some resources, in order, by test name; ``wrap`` wraps each (a member
    that conversation bodies name). ``resources`` is the table they come from (the project's by
    default); ``contract`` fixes the contract that decides which tests there are (see the module's
    docstring)."""

    def __init__(
        self,
        *names: str,
        resources: Iterable[Resource] = RESOURCES,
        contract: Contract | None = None,
        wrap: Callable[[Test], Test] | None = None,
    ) -> None:
        self.names = names
        self.resources = tuple(resources)
        self.contract = contract
        self.wrap = wrap
        self._made: dict[Contract, dict[str, Test]] = {}

    def made_for(self, contract: Contract) -> dict[str, Test]:
        """The tests, in order, as ``contract`` offers them (unless the module fixed its contract)."""
        chosen = self.contract or contract
        if chosen not in self._made:
            found: dict[str, Test] = {}
            for name in self.names:
                for test_name, test in generated_for(name, chosen, self.resources).items():
                    if test_name in found:
                        raise ValueError(f"{test_name} is generated twice (for {', '.join(self.names)})")
                    found[test_name] = self.wrap(test) if self.wrap else test
            self._made[chosen] = found
        return self._made[chosen]

    @cached_property
    def tests(self) -> dict[str, Test]:
        return self.made_for(self.contract or shipped())

    def __getitem__(self, test_name: str) -> Test:
        return self.tests[test_name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.tests)

    def __len__(self) -> int:
        return len(self.tests)

    def __repr__(self) -> str:
        return f"Generated({', '.join(map(repr, self.names))})"


def module_tests(module: ModuleType) -> dict[str, Test]:
    """A suite module's tests by name, as pytest collects them: its own ``test_*`` functions and the
    tests its ``Generated`` names."""
    found: dict[str, Test] = {}
    for name, value in vars(module).items():
        if isinstance(value, Generated):
            found.update(value)
        elif name.startswith("test_") and callable(value):
            found[name] = value
    return found
