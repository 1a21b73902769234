"""Cassette files on disk: read with one-line errors, and replaced only whole.

A re-recording is written beside the cassette it will replace (``<name>.yaml.recording``) and
renamed over it only once the test has finished and its replay has been verified, so the previous
cassette is never deleted or truncated first. Files an interrupted run leaves behind are found by
:func:`leftovers`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from conformance.cassettes.folder import describe

RECORDING = ".recording"  # a re-recording in progress
REJECTED = ".rejected"  # a re-recording whose replay did not match, kept for inspection
# What vcrpy is told to open while re-recording: it never exists, so pytest-recording's rewrite
# mode, which deletes the cassette before the test, deletes nothing.
VIRTUAL = ".yaml" + RECORDING + ".yaml"
# Temporaries of this run's scheme, and of the older ones (.partial writes, .previous copies).
TEMPORARY = (RECORDING, REJECTED, ".partial")
LEGACY = (".previous",)
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CorruptCassette(Exception):
    """A cassette file that cannot be read back: its message is one line naming the file."""

    def __init__(self, path: Path | str, reason: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.reason = reason
        self.line = line
        super().__init__(self.describe())

    def describe(self, record_command: str | None = None) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        text = f"{where}: not a readable cassette: {self.reason}"
        return f"{text}; re-record it: {record_command}" if record_command else text


def virtual_path(cassette: Path) -> Path:
    return cassette.with_name(cassette.name + RECORDING + ".yaml")


def recording_path(cassette: Path) -> Path:
    return cassette.with_name(cassette.name + RECORDING)


def rejected_path(cassette: Path) -> Path:
    return cassette.with_name(cassette.name + REJECTED)


def is_virtual(path: Path | str) -> bool:
    return str(path).endswith(VIRTUAL)


def real_recording(path: Path | str) -> Path:
    """The temporary file a virtual path stands for."""
    return Path(str(path).removesuffix(".yaml"))


def read_text(path: Path) -> str:
    """The file as UTF-8; a missing file is FileNotFoundError, anything unreadable CorruptCassette."""
    return decode(path, read_bytes(path))


def read_bytes(path: Path) -> bytes:
    """The file's bytes; a missing file is FileNotFoundError, an empty one CorruptCassette."""
    raw = path.read_bytes()
    if not raw.strip():
        raise CorruptCassette(path, "the file is empty", 1)
    return raw


def decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise CorruptCassette(path, f"byte {error.start} is not UTF-8 text (a binary file?)", line) from None


def _line(text: str, error: yaml.YAMLError) -> int | None:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if mark is not None:
        return int(mark.line) + 1
    position = getattr(error, "position", None)
    return text[:position].count("\n") + 1 if isinstance(position, int) else None


def parse(path: Path, text: str, load: Callable[[str], Any]) -> dict[str, Any]:
    """The cassette's data, checked to be whole: every interaction complete, and the final key there."""
    try:
        data = load(text)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise CorruptCassette(path, f"YAML error: {problem}", _line(text, error)) from None
    except ValueError as error:
        raise CorruptCassette(path, str(error).splitlines()[0]) from None
    problem = whole(data)
    if problem is not None:
        reason, cut_short = problem
        raise CorruptCassette(path, reason, text.count("\n") + 1 if cut_short else None)
    checked: dict[str, Any] = data
    return checked


def whole(data: Any) -> tuple[str, bool] | None:
    """Why ``data`` is not a whole cassette (and whether it was cut short), or None when it is."""
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        return "no 'interactions' list, so not a vcrpy cassette", False
    for number, interaction in enumerate(data["interactions"], 1):
        if not _complete(interaction):
            return f"interaction {number} is incomplete (a request and a response with a status)", False
    # vcrpy writes keys in order, 'version' last: without it the file was cut short.
    if data.get("version") != 1:
        return "no 'version: 1' at the end, so the file is cut short", True
    return None


def _complete(interaction: Any) -> bool:
    if not isinstance(interaction, dict):
        return False
    request, response = interaction.get("request"), interaction.get("response")
    return (
        isinstance(request, dict)
        and {"method", "uri"} <= set(request)
        and isinstance(response, dict)
        and isinstance(response.get("status"), dict)
        and "code" in response["status"]
    )


def load_file(path: Path) -> dict[str, Any]:
    """A cassette read for tools (drift): a safe loader, one-line errors."""
    text = read_text(path)
    # A safe loader either way: the C one when libyaml is there, for speed.
    return parse(path, text, lambda t: yaml.load(t, Loader=_SafeLoader))  # noqa: S506


def write_whole(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a kill at any moment leaves the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    write_synced(partial, text)
    try:
        partial.replace(path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise CannotWrite(f"{describe(error)}: could not replace {path}; it is as it was") from None


class CannotWrite(Exception):
    """A cassette could not be written (the disk is full, say): one line, and nothing half-written stays."""


def write_synced(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        path.unlink(missing_ok=True)
        raise CannotWrite(
            f"{describe(error)}: could not write {path.name} in {path.parent}; the previous cassette is as it "
            "was. Free some space (or fix the folder) and record again"
        ) from None


def leftovers(root: Path) -> tuple[list[Path], list[Path]]:
    """(temporaries an interrupted run left, copies from the older scheme), under ``root``."""
    if not root.is_dir():
        return [], []
    temporary = sorted(p for suffix in TEMPORARY for p in root.rglob(f"*.yaml{suffix}") if p.is_file())
    legacy = sorted(p for suffix in LEGACY for p in root.rglob(f"*.yaml{suffix}") if p.is_file())
    return temporary, legacy


def leftover_notes(root: Path, *, writing: bool) -> list[str]:
    """Files interrupted runs left: removed when this run records, named either way."""
    temporary, legacy = leftovers(root)
    notes: list[str] = []

    def shown(paths: list[Path]) -> str:
        names = [str(path.relative_to(root)) for path in paths]
        return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")

    rejected = [path for path in temporary if path.name.endswith(REJECTED)]
    unfinished = [path for path in temporary if path not in rejected]
    for paths, what in (
        (unfinished, "unfinished recording(s) left by an interrupted run"),
        (rejected, "rejected recording(s) that did not replay, kept for inspection"),
    ):
        if paths and writing:
            for path in paths:
                path.unlink(missing_ok=True)
            notes.append(f"removed {len(paths)} {what}: {shown(paths)}")
        elif paths:
            notes.append(f"found {len(paths)} {what} in {root} (the next recording removes them): {shown(paths)}")
    if legacy:
        notes.append(
            f"found {len(legacy)} .previous copies left by an older version of this harness in {root}; one may "
            f"hold the only good recording: compare it with its cassette, then delete it: {shown(legacy)}"
        )
    return notes
