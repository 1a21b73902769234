"""What a test created, so that teardown deletes it even when the test fails."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.spec.resources import RESOURCES, RUN_TAG, Resource, needs_filter, required_filters


@dataclass(frozen=True)
class Unconfirmed:
    """A create whose answer never came whole: the record may exist, its id unknown, its tag known."""

    item: Resource
    parents: dict[str, str]
    tag: str
    # the filter its list needs (conversations by participant), from the create body
    query: dict[str, str]

    @property
    def listable(self) -> bool:
        """False when the list needs a filter the create body gives no value for."""
        return bool(self.query) or not needs_filter(self.item)


class Ledger:
    """What a test created, to delete at teardown in reverse order."""

    def __init__(self) -> None:
        self.entries: list[tuple[Resource, dict[str, str]]] = []
        self.unconfirmed: list[Unconfirmed] = []

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

    def maybe_created(self, operation_id: str, path: Mapping[str, str], body: Any) -> None:
        """A create that met a server fault may have taken effect: find it at teardown by its run tag."""
        item = next((r for r in RESOURCES if r.operations.get("create") == operation_id and r.tag_field), None)
        if item is None or item.tag_field is None or not isinstance(body, dict):
            return
        tag = body.get(item.tag_field)
        if isinstance(tag, str) and tag.startswith(RUN_TAG):
            parents = {name: value for name, value in path.items() if name != item.id_param}
            self.unconfirmed.append(Unconfirmed(item, parents, tag, required_filters(item, body)))

    def drain_unconfirmed(self) -> list[Unconfirmed]:
        found, self.unconfirmed = self.unconfirmed, []
        return found
