"""What live runs created, on disk: the ledger ``cleanup`` deletes by.

Each process of a live run appends to its own file in the state folder (``SUNCO_STATE_DIR``,
default ``.conformance_state``): ``<run id>.<worker>.jsonl``, one JSON line per event, each
written with one ``O_APPEND`` write as the record is created or deleted, so a killed run leaves
a ledger whose last whole line is true. A ``created`` line names the record (resource, create
operation, id, app, run id, API host, the path parameters that delete it); a create whose answer
was cut off has no id but its tag (and the list filter that finds it). A ``deleted`` line drops
the entry with the same key. A file whose entries are all dropped is removed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATE_ENV = "SUNCO_STATE_DIR"
DEFAULT_STATE = ".conformance_state"
SUFFIX = ".jsonl"


def state_dir(env: Mapping[str, str]) -> Path:
    return Path(env.get(STATE_ENV, "").strip() or DEFAULT_STATE)


@dataclass(frozen=True)
class Entry:
    """One record a run created (``record_id`` None: a cut-off create, known by its ``tag``)."""

    resource: str
    operation: str
    record_id: str | None
    app: str
    run: str
    host: str
    # the path parameters that name it (its parents only, for a cut-off create); the app is ``app``
    path: Mapping[str, str]
    tag: str | None = None
    # the list filter a cut-off create's record is found with (conversations by participant)
    query: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return json.dumps([self.resource, dict(sorted(self.path.items())), self.tag], ensure_ascii=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "operation": self.operation,
            "id": self.record_id,
            "app": self.app,
            "run": self.run,
            "host": self.host,
            "path": dict(self.path),
            "tag": self.tag,
            "query": dict(self.query),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Entry:
        return cls(
            resource=str(data["resource"]),
            operation=str(data["operation"]),
            record_id=None if data.get("id") is None else str(data["id"]),
            app=str(data["app"]),
            run=str(data["run"]),
            host=str(data.get("host", "")),
            path={str(k): str(v) for k, v in dict(data.get("path") or {}).items()},
            tag=None if data.get("tag") is None else str(data["tag"]),
            query={str(k): str(v) for k, v in dict(data.get("query") or {}).items()},
        )


class LedgerFile:
    """One ledger file: appends events, reads back the entries not yet dropped, in creation order.

    A file has one writer at a time: the process of the run it belongs to, or later ``cleanup``.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        # the keys not yet dropped, read once: each file has one writer, so the file needs no re-reading
        self._live: set[str] | None = None

    def created(self, entry: Entry) -> None:
        self._append({"event": "created", **entry.as_json()})
        self._keys().add(entry.key)

    def deleted(self, entry: Entry) -> None:
        self._append({"event": "deleted", "key": entry.key})
        live = self._keys()
        live.discard(entry.key)
        if not live:
            self.path.unlink(missing_ok=True)

    def _keys(self) -> set[str]:
        if self._live is None:
            self._live = {entry.key for entry in self.entries()}
        return self._live

    def _append(self, event: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(event, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        # One write on an O_APPEND descriptor: lines of concurrent writers never interleave.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    def entries(self) -> list[Entry]:
        live: dict[str, Entry] = {}
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        for line in lines:
            try:
                event = json.loads(line)
                if event.get("event") == "created":
                    entry = Entry.from_json(event)
                    live[entry.key] = entry
                elif event.get("event") == "deleted":
                    live.pop(str(event.get("key")), None)
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # a line a killed run cut short
        return list(live.values())


class RunLedger(LedgerFile):
    """The ledger of this process of a live run."""

    def __init__(self, folder: Path, run_id: str, *, app_id: str, host: str, worker: str = "main") -> None:
        super().__init__(folder / f"{run_id}.{worker}{SUFFIX}")
        self.run_id = run_id
        self.app_id = app_id
        self.host = host

    def close(self) -> None:
        """The end of the run: a ledger with nothing left in it goes."""
        if self.path.exists() and not self.entries():
            self.path.unlink(missing_ok=True)


def ledgers(folder: Path) -> list[LedgerFile]:
    """Every ledger file in the state folder, oldest first."""
    if not folder.is_dir():
        return []
    found = [path for path in folder.iterdir() if path.name.endswith(SUFFIX) and path.is_file()]
    return [LedgerFile(path) for path in sorted(found, key=lambda p: (_modified(p), p.name))]


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0  # removed meanwhile: a run that finished deleted everything it made
