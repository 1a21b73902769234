"""Hypothesis and the package's library modules load as Python loads them, not through pytest's assertion
rewriter; the suites (test code) are still rewritten (conformance/_startup.py)."""

from __future__ import annotations

import importlib.machinery
import sys

import pytest

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


def test_library_modules_escape_the_rewriter_and_the_suites_do_not():
    import conformance.suites.flows
    import conformance.transport.client

    assert _loaded_by(conformance.transport.client) != _startup.REWRITER
    assert _loaded_by(conformance.suites.flows) == _startup.REWRITER
    assert "@pytest_ar" in vars(conformance.suites.flows), "a suite's asserts explain themselves"


@pytest.mark.parametrize(
    ("name", "library"),
    [
        ("conformance.transport.client", True),
        ("conformance.plugin.hooks", True),
        ("conformance.suites", False),
        ("conformance.suites.test_users", False),
        ("conformance.suitesque", True),
        ("conformance", False),
        ("hypothesis.core", False),
        ("tests.test_startup", False),
    ],
)
def test_is_library_names_the_package_modules_that_are_not_test_code(name, library):
    assert _startup.is_library(name) is library


def test_the_library_finder_goes_just_ahead_of_the_rewriter_once(monkeypatch):
    hook = AssertionRewritingHook()
    first = importlib.machinery.PathFinder
    monkeypatch.setattr(sys, "meta_path", [first, hook])
    assert _startup.skip_rewriting_library() is True
    assert sys.meta_path[0] is first
    assert isinstance(sys.meta_path[1], _startup.LibraryFinder)
    assert sys.meta_path[2] is hook
    assert _startup.skip_rewriting_library() is False
    assert len(sys.meta_path) == 3
    monkeypatch.setattr(sys, "meta_path", [first])
    assert _startup.skip_rewriting_library() is False
    assert sys.meta_path == [first]


def test_the_library_finder_finds_only_library_modules():
    finder = _startup.LibraryFinder()
    import conformance.suites as suites
    import conformance.transport as package

    spec = finder.find_spec("conformance.transport.headers", list(package.__path__))
    assert spec is not None
    assert spec.origin.endswith("headers.py")
    assert type(spec.loader).__name__ == "SourceFileLoader"
    assert finder.find_spec("conformance.suites.flows", list(suites.__path__)) is None
    assert finder.find_spec("json", None) is None
