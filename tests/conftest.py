"""Fixtures for the tests in this folder: a sandbox on a free local port, and a client for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sandbox_support import Api

from conformance.sandbox import Sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox("127.0.0.1", 0) as running:
        yield running


@pytest.fixture
def api(sandbox: Sandbox) -> Api:
    return Api(sandbox)
