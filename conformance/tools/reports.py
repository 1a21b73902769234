"""Writing the report files a command was asked for (``--json``, ``--markdown``), one way for all."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path

Report = tuple[Path | None, Callable[[], str]]


def write_reports(command: str, reports: Iterable[Report], *, make_folders: bool = False) -> bool:
    """Write each report whose path was given; a text is built only when asked for.

    A file that cannot be written is one line on stderr and False, so the command exits 2.
    """
    for path, text in reports:
        if path is None:
            continue
        try:
            if make_folders:
                path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text(), encoding="utf-8")
        except OSError as error:
            print(f"{command}: error: cannot write {path}: {error.strerror or error}", file=sys.stderr)
            return False
    return True
