"""The conformance option group's values, checked once at start: a bad one is one usage line."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.contract.schemas import Contract, load, shipped

REPORT_OPTIONS = ("--conformance-report", "--conformance-markdown")


def max_age(config: pytest.Config) -> float | None:
    raw = config.getoption("--max-cassette-age")
    if raw is None:
        return None
    try:
        days = float(raw)
    except ValueError:
        days = -1.0
    if not days > 0 or days == float("inf"):
        raise pytest.UsageError(f"--max-cassette-age {raw!r} is not allowed: give a positive number of days")
    return days


def contract(config: pytest.Config) -> Contract:
    """The contract the run checks against: the folder ``--schema-dir`` names, else the shipped one."""
    schema_dir = config.getoption("--schema-dir")
    if not schema_dir:
        return shipped()
    folder = Path(schema_dir)
    if not (folder / "index.json").is_file():
        raise pytest.UsageError(f"--schema-dir {folder} holds no index.json: give a folder import-spec wrote")
    return load(folder)


def check(config: pytest.Config, *, recording: bool) -> None:
    """Fail now, in one line, rather than after a whole run."""
    for option in REPORT_OPTIONS:
        _report_path(option, config.getoption(option))
    contract(config)
    max_age(config)
    reuse = config.getoption("--variants-from")
    if reuse and not recording:
        raise pytest.UsageError("--variants-from only applies while recording: add --record-mode=rewrite")
    if reuse and not Path(reuse).is_dir():
        raise pytest.UsageError(f"--variants-from {reuse} is not a folder of cassettes")


def _report_path(option: str, chosen: str | None) -> None:
    """A report file whose folder can be made (it is created), and that is not a folder itself."""
    if not chosen:
        return
    path = Path(chosen)
    if path.is_dir():
        raise pytest.UsageError(f"{option} {chosen} is a directory: give a file path, e.g. {path}/x.json")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise pytest.UsageError(f"{option} {chosen}: cannot create {path.parent}: {error.strerror or error}") from None
