"""What a test created, so that teardown deletes it even when the test fails.

In a live run every entry is also written to the run's ledger on disk as it is made, and
dropped from it once deleted, so ``cleanup`` finds what a killed run or a failed delete left.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.contract.resources import RESOURCES, Resource, needs_filter, required_filters
from conformance.session import runs
from conformance.session.run_ledger import Entry, RunLedger


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

    def __init__(self, journal: RunLedger | None = None) -> None:
        self.entries: list[tuple[Resource, dict[str, str]]] = []
        self.unconfirmed: list[Unconfirmed] = []
        # the run's ledger on disk (a live run only)
        self.journal = journal

    def add(self, item: Resource, path: Mapping[str, str]) -> None:
        self.entries.append((item, dict(path)))
        if self.journal is not None:
            self.journal.created(self._entry(item, path))

    def forget(self, item: Resource, path: Mapping[str, str], *, deleted: bool = True) -> None:
        """Strike a record the test deleted, and what it held; ``deleted`` False: most likely deleted,
        so the ledger on disk keeps it for ``cleanup`` to make sure."""
        record_id = path.get(item.id_param)
        # Deleting a record deletes what it holds.
        gone = [
            (i, p)
            for i, p in self.entries
            if (i, p) == (item, dict(path)) or (record_id is not None and p.get(item.id_param) == record_id)
        ]
        self.entries = [e for e in self.entries if e not in gone]
        if deleted:
            for found, params in gone:
                self.done(found, params)

    def done(self, item: Resource, path: Mapping[str, str]) -> None:
        """A record known to be gone: dropped from the ledger on disk."""
        if self.journal is not None:
            self.journal.deleted(self._entry(item, path))

    def drain(self) -> list[tuple[Resource, dict[str, str]]]:
        entries, self.entries = self.entries[::-1], []
        return entries

    def maybe_created(self, operation_id: str, path: Mapping[str, str], body: Any) -> None:
        """A create that met a server fault may have taken effect: find it at teardown by its run tag."""
        item = next((r for r in RESOURCES if r.operations.get("create") == operation_id and r.tag_field), None)
        if item is None or item.tag_field is None or not isinstance(body, dict):
            return
        tag = body.get(item.tag_field)
        if runs.run_of(tag) is not None:
            parents = {name: value for name, value in path.items() if name != item.id_param}
            found = Unconfirmed(item, parents, str(tag), required_filters(item, body))
            self.unconfirmed.append(found)
            if self.journal is not None:
                self.journal.created(self._unconfirmed_entry(found))

    def found(self, item: Resource, path: Mapping[str, str]) -> None:
        """A cut-off create's record, found by its tag: on disk by its id from now on."""
        if self.journal is not None:
            self.journal.created(self._entry(item, path))

    def swept(self, unconfirmed: Unconfirmed) -> None:
        """A cut-off create's record was looked for and deleted if it was there."""
        if self.journal is not None:
            self.journal.deleted(self._unconfirmed_entry(unconfirmed))

    def drain_unconfirmed(self) -> list[Unconfirmed]:
        found, self.unconfirmed = self.unconfirmed, []
        return found

    def _entry(self, item: Resource, path: Mapping[str, str]) -> Entry:
        assert self.journal is not None
        record_id = str(path.get(item.id_param, ""))
        app = record_id if item.parent is None else str(path.get("appId", self.journal.app_id))
        params = {name: value for name, value in path.items() if name != "appId"}
        return Entry(item.name, item.operations.get("create", ""), record_id, app, self.journal.run_id,
                     self.journal.host, params)  # fmt: skip

    def _unconfirmed_entry(self, found: Unconfirmed) -> Entry:
        assert self.journal is not None
        app = str(found.parents.get("appId", self.journal.app_id))
        params = {name: value for name, value in found.parents.items() if name != "appId"}
        return Entry(found.item.name, found.item.operations.get("create", ""), None, app, self.journal.run_id,
                     self.journal.host, params, found.tag, found.query)  # fmt: skip
