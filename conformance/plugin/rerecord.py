"""Re-recording in place: a test's new recording replaces its cassette only when it replays as recorded.

vcrpy writes the recording beside the cassette (see :mod:`conformance.cassettes.files`); once the
test's fixtures are torn down, :func:`settle` keeps the previous cassette (saying why), rejects a
recording whose in-process replay differs, or renames the recording over the cassette.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance.cassettes import files as cassettes
from conformance.plugin import replay_check as rewrite
from conformance.session.session import ConformanceSession


def settle(
    item: pytest.Item,
    cassette: Path,
    pending: set[Path],
    session: ConformanceSession | None,
    outcome: rewrite.Outcome,
    replay_session: Callable[[Any], ConformanceSession],
    test: Callable[[ConformanceSession], object],
    record_command: str,
) -> None:
    """Let the recording of ``item`` replace ``cassette``, or keep the cassette and say why."""
    recorded = cassettes.recording_path(cassette)
    pending.discard(recorded)
    if not recorded.is_file():
        return
    reason = rewrite.keep_reason(outcome, session, previous=cassette.is_file())
    if reason is not None or session is None:
        recorded.unlink()
        kept = "kept the previous cassette" if cassette.is_file() else "wrote no cassette"
        item.user_properties.append(("conformance-note", f"{item.nodeid}: {kept}, because {reason}"))
        return
    found, operation_id = rewrite.verify(recorded, cassette, session.findings.verdicts, replay_session, test)
    if found:
        kept_at = cassettes.rejected_path(cassette)
        recorded.replace(kept_at)
        raise rewrite.does_not_replay(found, operation_id, cassette, kept_at, record_command, session.contract)
    recorded.replace(cassette)


def drop_unfinished(pending: set[Path], summary: Any) -> None:
    """An interrupted run saved its last recording after the test stopped: it must not stay."""
    for recorded in sorted(pending):
        if recorded.is_file():
            recorded.unlink()
            if summary is not None:
                summary.notes.append(f"interrupted: dropped the unfinished {recorded}; its cassette is as it was")
    pending.clear()
