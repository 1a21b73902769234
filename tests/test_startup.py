"""Hypothesis loads from its own bytecode, not through pytest's assertion rewriter (conformance/_startup.py)."""

from __future__ import annotations

import sys

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
