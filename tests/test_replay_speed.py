"""What keeps the default replay fast without changing what it checks."""

from __future__ import annotations

import gc
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
