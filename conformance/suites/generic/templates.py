"""Generic test templates: the registry, and how the tests a template makes are named.

A template is a small function ``(sunco, item)``, or ``(sunco, item, argument)`` when it is made
once per role or once per value, registered under its name in its module's :class:`Registry`
(``template = TEMPLATES.template``)::

    @template("rejects_duplicate", on="create", each=lambda item: ...)
    def rejects_duplicate(sunco: ConformanceSession, item: Resource, unique: str) -> None: ...

For each resource of the table it applies to, a template makes tests named

    test_<subject>_<name>[_<value>]

- ``<subject>``: the snake_case operationId of the role the template is ``on``
  (``create_integration``); a template on several roles makes one test per role the resource has
  (the role is its argument); a template on none is named after the resource (``integration``);
- ``<name>``: the template's name, as its ``@template("<name>", ...)`` line spells it;
- ``<value>``: for a template made once per value (``each``), that value's name, and the value is
  its argument (``filters_by`` + ``type``).

So ``test_create_integration_rejects_missing_required_fields`` comes from the template
``rejects_missing_required_fields`` on ``create``: grep ``template("`` and the words after the
operation (for ``test_list_users_filters_by_profile_email``, ``template("filters_by``). Two
templates may share a name on different roles (``rejects_wrong_json_types`` on ``create`` and on
``update``). Cassettes are named after tests: renaming a template renames its cassettes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from conformance.contract import needs
from conformance.contract.resources import Resource, chain
from conformance.session.session import ConformanceSession
from conformance.suites.flows import Records
from conformance.suites.paging import pages

Test = Callable[[ConformanceSession], None]
Body = Callable[..., None]
Applies = Callable[[Resource], bool]
# A template made once per value: (the value's name in the test's name, the value), for a resource.
Each = Callable[[Resource], Iterable[tuple[str, Any]]]
# The roles of the resource's operations a test calls, given or derived from the resource.
Calls = tuple[str, ...] | Callable[[Resource], tuple[str, ...]]


def snake(name: str) -> str:
    """``CreateIntegration`` -> ``create_integration``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def always(item: Resource) -> bool:
    return True


def start(sunco: ConformanceSession, item: Resource) -> Records:
    """A generated test's first step: skip where the key cannot reach the resource; its records."""
    if item.scope == "account":
        sunco.require_account()
    sunco.require_scope(*item.operations.values())
    return Records(sunco, item)


def used_operations(item: Resource, roles: tuple[str, ...]) -> list[str]:
    """The operations a generated test of ``item`` calls in these roles, its parents' creates, and the delete
    that cleans up after a create."""
    cleanup = ("delete",) if "create" in roles else ()
    own = [item.operations[role] for role in (*roles, *cleanup) if role in item.operations]
    parents = [parent.operations["create"] for parent in chain(item)[:-1] if "create" in parent.operations]
    return list(dict.fromkeys([*parents, *own]))


@dataclass(frozen=True)
class Case:
    """One test a template makes for a resource: its name, the roles it calls, the body's argument."""

    name: str
    roles: tuple[str, ...]
    arguments: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Template:
    """A generic test, and which resources it is made for (see the module's docstring)."""

    name: str
    body: Body
    on: tuple[str, ...]
    applies: Applies = always
    each: Each | None = None
    calls: Calls | None = None
    # The test pages the resource's list (``paging.pages``), for the paging coverage.
    pages: bool = False

    def cases(self, item: Resource) -> Iterator[Case]:
        if not self.applies(item):
            return
        if not self.on:
            yield Case(f"test_{snake(item.name)}_{self.name}", self._calls(item, ()))
        elif len(self.on) > 1:
            for role in self.on:
                if item.has(role):
                    yield Case(self._name(item, role), self._calls(item, (role,)), (role,))
        elif item.has(self.on[0]):
            role = self.on[0]
            if self.each is None:
                yield Case(self._name(item, role), self._calls(item, (role,)))
            else:
                for value_name, value in self.each(item):
                    yield Case(f"{self._name(item, role)}_{value_name}", self._calls(item, (role,)), (value,))

    def _name(self, item: Resource, role: str) -> str:
        return f"test_{snake(item.operations[role])}_{self.name}"

    def _calls(self, item: Resource, roles: tuple[str, ...]) -> tuple[str, ...]:
        if self.calls is None:
            return roles
        return self.calls if isinstance(self.calls, tuple) else self.calls(item)

    def test(self, item: Resource, case: Case) -> Test:
        """The test ``case`` names, as pytest runs it: a function of the ``sunco`` fixture."""
        body, arguments = self.body, case.arguments

        def test(sunco: ConformanceSession) -> None:
            # The body reads the table against the contract the run checks against.
            body(sunco, item.bound(sunco.contract), *arguments)

        test.__name__ = test.__qualname__ = case.name
        test.__doc__ = (
            f"{case.name.removeprefix('test_').replace('_', ' ')} ({item.name}, from the template {self.name})"
        )
        marked = needs.uses(*used_operations(item, case.roles))(test)
        return pages(item.operations["list"])(marked) if self.pages else marked


class Registry:
    """Templates in the order their tests are generated; a (role, name) names one template."""

    def __init__(self, *parts: Registry) -> None:
        self.templates: list[Template] = []
        for part in parts:
            for found in part.templates:
                self.add(found)

    def add(self, found: Template) -> None:
        if any((t.on, t.name) == (found.on, found.name) for t in self.templates):
            raise ValueError(f"two templates named {found.name} on {found.on or 'the resource'}")
        self.templates.append(found)

    def template(
        self,
        name: str,
        *,
        on: str | tuple[str, ...] | None,
        applies: Applies = always,
        each: Each | None = None,
        calls: Calls | None = None,
        pages: bool = False,
    ) -> Callable[[Body], Body]:
        """Register the decorated function as the template ``name`` (see the module's docstring)."""
        roles = (on,) if isinstance(on, str) else (on or ())
        if each is not None and len(roles) != 1:
            raise ValueError(f"{name}: a template made per value is on one role")
        if not roles and calls is None:
            raise ValueError(f"{name}: a template on no role says which roles it calls")

        def register(body: Body) -> Body:
            self.add(Template(name, body, roles, applies, each, calls, pages))
            return body

        return register

    def generate(self, item: Resource) -> dict[str, Test]:
        """Every test the templates make for ``item``, by name, in registry order."""
        tests: dict[str, Test] = {}
        for found in self.templates:
            for case in found.cases(item):
                if case.name in tests:
                    raise ValueError(f"{item.name}: two templates make {case.name}")
                tests[case.name] = found.test(item, case)
        return tests
