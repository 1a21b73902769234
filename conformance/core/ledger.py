"""What a test created, so that teardown deletes it even when the test fails."""

from __future__ import annotations

from collections.abc import Mapping

from conformance.spec.resources import Resource


class Ledger:
    """What a test created, to delete at teardown in reverse order."""

    def __init__(self) -> None:
        self.entries: list[tuple[Resource, dict[str, str]]] = []

    def add(self, item: Resource, path: Mapping[str, str]) -> None:
        self.entries.append((item, dict(path)))

    def forget(self, item: Resource, path: Mapping[str, str]) -> None:
        entry = (item, dict(path))
        self.entries = [e for e in self.entries if e != entry]
        # Deleting a record deletes what it holds.
        record_id = path.get(item.id_param)
        self.entries = [(i, p) for i, p in self.entries if p.get(item.id_param) != record_id]

    def drain(self) -> list[tuple[Resource, dict[str, str]]]:
        entries, self.entries = self.entries[::-1], []
        return entries
