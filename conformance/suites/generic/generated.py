"""A suite module's generated tests: every template of the registry, made for the module's resources.

A suite module names its resources once::

    GENERATED = Generated("integration")

and the plugin collects each generated test in the module, at that line, as if the module had
defined a function of the test's name (``conformance/suites/test_integrations.py::
test_create_integration_accepts_valid_bodies``). How a test's name leads to its template: see
:mod:`conformance.suites.generic.templates`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from types import ModuleType

from conformance.contract.resources import resource
from conformance.suites.generic import creating, lists, records
from conformance.suites.generic.templates import Registry, Test

# The order of the generated tests in a module: creates, then records that exist, then lists.
REGISTRY = Registry(creating.TEMPLATES, records.TEMPLATES, lists.TEMPLATES)


def generated_for(name: str) -> dict[str, Test]:
    """The generated tests of the resource ``name``, by test name."""
    return REGISTRY.generate(resource(name))


class Generated(Mapping[str, Test]):
    """The generated tests of some resources, in order, by test name; ``wrap`` wraps each (a member
    that conversation bodies name)."""

    def __init__(self, *names: str, wrap: Callable[[Test], Test] | None = None) -> None:
        self.names = names
        self.wrap = wrap

    @cached_property
    def tests(self) -> dict[str, Test]:
        found: dict[str, Test] = {}
        for name in self.names:
            for test_name, test in generated_for(name).items():
                if test_name in found:
                    raise ValueError(f"{test_name} is generated twice (for {', '.join(self.names)})")
                found[test_name] = self.wrap(test) if self.wrap else test
        return found

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
