"""What keeps the default replay fast without changing what it checks."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref
from types import SimpleNamespace

import pytest

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
