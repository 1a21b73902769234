"""The pytest plugin: the conformance option group, fixtures, the re-record guard, and the sunco_sandbox fixture."""
