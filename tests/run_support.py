"""The environment a child pytest run gets, the same on a laptop and in CI."""

from __future__ import annotations

import os

# pytest prints whole short-summary lines when CI or BUILD_NUMBER is set, which changes
# what a test that reads a child run's output sees.
DROPPED = ("CI", "BUILD_NUMBER")


def clean_env() -> dict[str, str]:
    """This process's environment without any SUNCO_ or PYTEST_ setting and without CI markers."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("SUNCO_", "PYTEST_")) and k not in DROPPED}
