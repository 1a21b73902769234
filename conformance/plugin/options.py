"""The plugin's option group, and what the options (its own and pytest-recording's) say about a run."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.cassettes.cache import CassetteCache, folder_for

RECORDING_MODES = ("once", "new_episodes", "all", "rewrite")


def add_options(parser: pytest.Parser) -> None:
    """The conformance option group (pytest-recording owns --record-mode, --block-network and the rest)."""
    group = parser.getgroup("conformance", "Sunshine Conversations conformance")
    group.addoption(
        "--cassette-dir",
        metavar="DIR",
        default=None,
        help="where cassettes are read and recorded (default: cassettes/ at the project root)",
    )
    group.addoption(
        "--variant-seed",
        metavar="N",
        type=int,
        default=0,
        help="seed for drawing variants while recording; replay ignores it (default: 0)",
    )
    group.addoption(
        "--conformance-report",
        metavar="PATH",
        default=None,
        help="also write every verdict and failure as JSON to PATH (missing folders are created)",
    )
    group.addoption(
        "--conformance-markdown",
        metavar="PATH",
        default=None,
        help="also write the summary and every failure as Markdown to PATH (e.g. a CI job summary)",
    )
    group.addoption(
        "--schema-dir",
        metavar="DIR",
        default=None,
        help="check against the contract import-spec wrote to DIR (default: schemas/ at the project root)",
    )
    group.addoption(
        "--max-cassette-age",
        metavar="DAYS",
        default=None,
        help="fail each test whose cassette was recorded more than DAYS days ago (or on an unknown date)",
    )
    group.addoption(
        "--cassette-cache",
        metavar="DIR",
        default=None,
        help="where parsed cassettes are kept, by content hash, so replay reads each YAML once "
        "(default: .conformance_cache/cassettes at the project root; 'off' parses every time)",
    )
    group.addoption(
        "--variants-from",
        metavar="DIR",
        default=None,
        help="while recording, send again the variants pinned in DIR's cassettes (to compare with drift)",
    )


def is_recording(config: pytest.Config) -> bool:
    """Talking to a live API: recording, or running live with pytest-recording's --disable-recording."""
    mode = config.getoption("--record-mode") or "none"
    return mode in RECORDING_MODES or bool(config.getoption("--disable-recording"))


def is_rewriting(config: pytest.Config) -> bool:
    return config.getoption("--record-mode") == "rewrite" and not config.getoption("--disable-recording")


def cassette_root(config: pytest.Config) -> Path:
    chosen = config.getoption("--cassette-dir")
    return Path(chosen).resolve() if chosen else Path(config.rootpath, "cassettes")


def cassette_cache(config: pytest.Config) -> CassetteCache:
    """The run's parsed-cassette cache, as --cassette-cache chooses it."""
    chosen = config.getoption("--cassette-cache")
    folder = folder_for(chosen, config.rootpath)
    if folder is not None and folder.exists() and not folder.is_dir():
        raise pytest.UsageError(f"--cassette-cache {chosen} is a file: give a directory, or 'off'")
    return CassetteCache(folder)
