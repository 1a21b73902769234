"""Run ids and run tags: what marks a record as made by one run of the suite.

Every live run has a run id (16 lowercase hex digits, random, or fixed by ``SUNCO_RUN_ID``).
Every record it creates carries a tag in its resource's tag field (``displayName``,
``externalId``): ``conformance~<run id>~<text>``. ``cleanup`` deletes a tagged record only when
its run id is one a ledger knows or the user names, so a record a person named
``conformance-production`` is never mistaken for one of ours.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from typing import Any

from conformance.failures import ConfigError

RUN_ID_ENV = "SUNCO_RUN_ID"
MARK = "conformance~"
RUN_ID = re.compile(r"[0-9a-f]{16}")
# A run tag anywhere in a string: a reference to a tagged record (a participant's userExternalId) too.
_TAG = re.compile(re.escape(MARK) + r"([0-9a-f]{16})~")
RUN_ID_FORM = "16 lowercase hexadecimal digits, e.g. 3f9a2c1b7d4e5f60"

_current: str | None = None


def new_run_id() -> str:
    return secrets.token_hex(8)


def fixed_run_id(seed: int) -> str:
    """The run id of a recording that must repeat byte for byte (record-sandbox with its seed)."""
    return hashlib.sha256(f"record-sandbox seed {seed}".encode()).hexdigest()[:16]


def check_run_id(value: str, name: str = RUN_ID_ENV) -> str:
    """``value`` when it is a run id; else a ConfigError of one line naming ``name``."""
    if not RUN_ID.fullmatch(value):
        raise ConfigError(f"{name}={value[:40]!r} is not a run id: use {RUN_ID_FORM}")
    return value


def run_id_from_env(env: Mapping[str, str]) -> str:
    """``SUNCO_RUN_ID`` when set (a recording that must repeat), else a new random run id."""
    raw = env.get(RUN_ID_ENV, "").strip()
    return check_run_id(raw) if raw else new_run_id()


def begin(run_id: str) -> str:
    """Make ``run_id`` the id every tag of this process carries from now on."""
    global _current
    _current = check_run_id(run_id)
    return run_id


def current() -> str:
    """This process's run id (a random one, made on first use, if no run began)."""
    return _current or begin(new_run_id())


def tag(text: str, run_id: str | None = None) -> str:
    """The tagged value of a record a run creates: its run id, then a drawn ``text``."""
    return f"{MARK}{run_id or current()}~{text}"


def run_of(value: Any) -> str | None:
    """The run id a tag field's value holds, or None when it is not a run tag."""
    found = _TAG.match(value) if isinstance(value, str) else None
    return found.group(1) if found else None


def without_run_ids(text: str) -> str:
    """``text`` with each run tag's id replaced by ``{run}``: two runs' recordings compared (drift)."""
    return _TAG.sub(MARK + "{run}~", text)


def retag(value: Any, run_id: str | None = None) -> Any:
    """``value`` with every run tag in its strings carrying ``run_id`` (a re-sent earlier recording)."""
    new = f"{MARK}{run_id or current()}~"
    if isinstance(value, str):
        return _TAG.sub(lambda _found: new, value)
    if isinstance(value, dict):
        return {key: retag(item, run_id) for key, item in value.items()}
    if isinstance(value, list):
        return [retag(item, run_id) for item in value]
    return value
