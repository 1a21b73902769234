"""The folder a recording writes into: checked writable before the first request, and held by one run.

A read-only folder used to be found only after a whole live run, and two recordings into one folder
both reported success while one discarded the other's files. The check writes and removes a probe
file; the hold is an advisory lock on the folder itself (nothing is left in it), released when the
run ends or its process dies.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

PROBE = ".conformance-write-probe"


class FolderRefused(Exception):
    """The folder cannot take this run's recordings; the message is one line naming what to do."""


def describe(error: OSError) -> str:
    """An OS error in a few words, the disk-full case by name."""
    if error.errno == errno.ENOSPC:
        return "disk full (ENOSPC)"
    name = errno.errorcode.get(error.errno or 0, type(error).__name__)
    return f"{error.strerror or error} ({name})"


class Hold:
    """An exclusive lock on a cassette folder for as long as this run records into it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._fd: int | None = None

    def take(self) -> Hold:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / PROBE
            with probe.open("w", encoding="utf-8") as handle:
                handle.write("probe\n")
                handle.flush()
                os.fsync(handle.fileno())
            probe.unlink()
        except OSError as error:
            raise FolderRefused(
                f"cannot record into {self.root}: {describe(error)}; nothing was recorded. Choose a folder "
                "you can write with --cassette-dir"
            ) from None
        fd = os.open(self.root, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise FolderRefused(
                f"another recording is writing into {self.root}: wait for it to end, or record into another "
                "--cassette-dir"
            ) from None
        self._fd = fd
        return self

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
