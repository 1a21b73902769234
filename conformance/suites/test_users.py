"""Users and their clients: the tests the resource table implies."""

from __future__ import annotations

from conformance.suites.crud import generate_tests

globals().update(generate_tests("user"))
globals().update(generate_tests("client"))
