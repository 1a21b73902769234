"""Parsed cassettes, kept as JSON so that replay reads YAML only once per cassette content.

Building Python objects from a cassette's YAML is most of what opening it costs (libyaml only
scans; the objects are made in Python); ``json.loads`` of the same data is about twenty times
faster. An entry is named by the SHA-256 of the cassette's bytes, so it cannot be stale: a
cassette that changed in any way is another entry, parsed from its YAML afresh. An entry that does
not read back whole (cut short, edited, another format or serializer) is ignored and rewritten.
Only data JSON holds exactly (no bytes, tuples or non-string keys) is cached; anything else is
parsed every time, as before.

The folder is trusted as the cassettes are: whoever can write it can write them. Entries are
written whole (a temporary file renamed), so parallel workers never read half of one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

FORMAT = 1
SUFFIX = ".json"
# Entries kept at most; the least recently used go first when a run wrote new ones.
MAX_ENTRIES = 1000
DISABLED = "off"


def digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


class CassetteCache:
    """Parsed cassettes by content hash, under ``folder`` (None: nothing cached)."""

    def __init__(self, folder: Path | None, *, max_entries: int = MAX_ENTRIES) -> None:
        self.folder = folder
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        self.written = 0

    def entry(self, folder: Path, key: str) -> Path:
        return folder / f"{key}{SUFFIX}"

    def load(
        self,
        raw: bytes,
        serializer: str,
        parse: Callable[[], dict[str, Any]],
        valid: Callable[[dict[str, Any]], bool] = lambda data: True,
    ) -> dict[str, Any]:
        """The cassette's data: from its entry when one holds this content (and passes ``valid``),
        else ``parse()``, which is then kept."""
        folder = self.folder
        if folder is None:
            return parse()
        key = digest(raw)
        found = self._read(folder, key, serializer)
        if found is not None and valid(found):
            self.hits += 1
            return found
        self.misses += 1
        data = parse()
        self._write(folder, key, serializer, data)
        return data

    def _read(self, folder: Path, key: str, serializer: str) -> dict[str, Any] | None:
        path = self.entry(folder, key)
        try:
            entry = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return None  # none yet, or not whole: parse the YAML
        if (
            not isinstance(entry, dict)
            or entry.get("format") != FORMAT
            or entry.get("sha256") != key
            or entry.get("serializer") != serializer
            or not isinstance(entry.get("data"), dict)
        ):
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: kept when the folder is pruned
        data: dict[str, Any] = entry["data"]
        return data

    def _write(self, folder: Path, key: str, serializer: str, data: dict[str, Any]) -> None:
        try:
            text = json.dumps({"format": FORMAT, "sha256": key, "serializer": serializer, "data": data})
        except (TypeError, ValueError):
            return  # bytes or another type JSON does not hold
        if json.loads(text)["data"] != data:
            return  # JSON would change it (a tuple, a non-string key, NaN): not cached
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=folder)
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            Path(temporary).replace(self.entry(folder, key))
        except OSError:
            return  # a read-only checkout still replays, only slower
        self.written += 1

    def prune(self) -> int:
        """Remove the least recently used entries beyond ``max_entries``; how many went."""
        if self.folder is None or not self.written:
            return 0
        try:
            entries = [(path.stat().st_mtime, path) for path in self.folder.glob(f"*{SUFFIX}")]
        except OSError:
            return 0
        entries.sort()
        gone = 0
        for _, path in entries[: max(0, len(entries) - self.max_entries)]:
            with contextlib.suppress(OSError):
                path.unlink()
                gone += 1
        return gone


def folder_for(option: str | None, root: Path) -> Path | None:
    """``--cassette-cache``: a folder, ``off``, or the default under the project root."""
    if option == DISABLED:
        return None
    return Path(option).resolve() if option else root / ".conformance_cache" / "cassettes"
