"""The project's tests and suites run with the conformance plugin loaded, and nothing else here."""

pytest_plugins = ["conformance.plugin.hooks"]
