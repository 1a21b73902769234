"""What a test needs to run a child: its environment (the same on a laptop and in CI), a free port,
and `record-sandbox` as a user runs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]

# pytest prints whole short-summary lines when CI or BUILD_NUMBER is set, which changes
# what a test that reads a child run's output sees.
DROPPED = ("CI", "BUILD_NUMBER")


def clean_env() -> dict[str, str]:
    """This process's environment without any SUNCO_ or PYTEST_ setting and without CI markers."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("SUNCO_", "PYTEST_")) and k not in DROPPED}


def free_port() -> int:
    """A port nothing on 127.0.0.1 listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def record_sandbox(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m conformance record-sandbox ARGS`` from the project folder, its output captured."""
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "conformance", "record-sandbox", *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=timeout,
    )
