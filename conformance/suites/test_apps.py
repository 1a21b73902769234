"""Apps and app keys (account scope): the tests the resource table implies."""

from __future__ import annotations

from conformance.suites.crud import generate_tests

globals().update(generate_tests("app"))
globals().update(generate_tests("appKey"))
