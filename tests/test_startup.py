"""Hypothesis and the package's modules load as Python loads them, not through pytest's assertion rewriter;
the project's own tests are still rewritten (conformance/_startup.py)."""

from __future__ import annotations

import ast
import importlib.machinery
import sys
from pathlib import Path

import pytest

import conformance.suites
import conformance.transport
from conformance import _startup


def test_hypothesis_escaped_the_rewriter_that_rewrote_this_module():
    import hypothesis.core

    assert "@pytest_ar" in globals(), "pytest rewrote this test module's asserts"
    assert "@pytest_ar" not in vars(hypothesis.core)


class AssertionRewritingHook:
    """Stands in for pytest's finder: it only notes what it was asked for."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def find_spec(self, name, path=None, target=None):
        self.asked.append(name)


def test_the_rewriting_hook_is_set_aside_for_the_import_and_put_back_where_it_was(tmp_path, monkeypatch):
    (tmp_path / "fresh_module_for_startup_test.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    hook = AssertionRewritingHook()
    monkeypatch.setattr(sys, "meta_path", [sys.meta_path[0], hook, *sys.meta_path[1:]])
    monkeypatch.delitem(sys.modules, "fresh_module_for_startup_test", raising=False)
    assert _startup.import_unrewritten("fresh_module_for_startup_test") is True
    assert sys.modules["fresh_module_for_startup_test"].VALUE == 1
    assert hook.asked == []
    assert sys.meta_path[1] is hook
    # Imported already, or no pytest to step around: nothing to do.
    assert _startup.import_unrewritten("fresh_module_for_startup_test") is False
    plain = [finder for finder in sys.meta_path if type(finder).__name__ != "AssertionRewritingHook"]
    monkeypatch.setattr(sys, "meta_path", plain)
    monkeypatch.delitem(sys.modules, "fresh_module_for_startup_test")
    assert _startup.import_unrewritten("fresh_module_for_startup_test") is False
    assert "fresh_module_for_startup_test" not in sys.modules


def test_a_failing_import_still_puts_the_hook_back(monkeypatch):
    hook = AssertionRewritingHook()
    monkeypatch.setattr(sys, "meta_path", [hook, *sys.meta_path])
    try:
        _startup.import_unrewritten("no_such_module_anywhere_for_startup_test")
    except ModuleNotFoundError:
        pass
    else:
        raise AssertionError("the import should have failed")
    assert sys.meta_path[0] is hook


def _loaded_by(module):
    return type(module.__loader__).__name__


def test_the_package_s_modules_escape_the_rewriter_and_the_project_s_tests_do_not():
    import conformance.suites.test_users
    import conformance.transport.client

    assert _loaded_by(conformance.transport.client) != _startup.REWRITER
    assert _loaded_by(conformance.suites.test_users) != _startup.REWRITER
    assert _loaded_by(sys.modules[__name__]) == _startup.REWRITER


def test_no_suite_test_relies_on_a_rewritten_assert():
    """The suites' tests are not rewritten: a check in them raises a structured failure, never a bare assert."""
    suites = Path(conformance.suites.__file__).parent
    found = [
        f"{path.name}:{node.lineno}"
        for path in sorted(suites.glob("test_*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Assert)
    ]
    assert found == []


@pytest.mark.parametrize(
    ("name", "inside"),
    [
        ("conformance.transport.client", True),
        ("conformance.plugin.hooks", True),
        ("conformance.suites.test_users", True),
        ("conformance", False),
        ("conformancex.other", False),
        ("hypothesis.core", False),
        ("tests.test_startup", False),
    ],
)
def test_in_package_names_the_package_s_modules(name, inside):
    assert _startup.in_package(name) is inside


def test_the_package_finder_goes_just_ahead_of_the_rewriter_once(monkeypatch):
    hook = AssertionRewritingHook()
    first = importlib.machinery.PathFinder
    monkeypatch.setattr(sys, "meta_path", [first, hook])
    assert _startup.skip_rewriting_package() is True
    assert sys.meta_path[0] is first
    assert isinstance(sys.meta_path[1], _startup.PackageFinder)
    assert sys.meta_path[2] is hook
    assert _startup.skip_rewriting_package() is False
    assert len(sys.meta_path) == 3
    monkeypatch.setattr(sys, "meta_path", [first])
    assert _startup.skip_rewriting_package() is False
    assert sys.meta_path == [first]


def test_the_package_finder_finds_only_the_package_s_modules():
    finder = _startup.PackageFinder()
    spec = finder.find_spec("conformance.transport.headers", list(conformance.transport.__path__))
    assert spec is not None
    assert spec.origin.endswith("headers.py")
    assert type(spec.loader).__name__ == "SourceFileLoader"
    assert finder.find_spec("json", None) is None
