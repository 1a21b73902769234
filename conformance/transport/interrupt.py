"""Ctrl-C during a live run: noted by a handler of our own, so that it stops the run even when swallowed.

Python's own SIGINT handler raises ``KeyboardInterrupt`` wherever the main thread happens to be.
Inside a garbage-collector or weakref callback Python prints it and carries on; inside Hypothesis'
engine it can come out as ``FlakyStrategyDefinition`` or an internal error. The handler here also
sets a flag, and the run checks it where a swallowed interrupt would otherwise let it go on: after
drawing variants, before each request a test sends, before each test, and when the run ends.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

_requested = threading.Event()


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    _requested.set()
    raise KeyboardInterrupt


def install() -> None:
    """Take over SIGINT for the run, where Python's default handler has it (the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return  # ours already, or someone chose another (SIG_IGN, say): leave it be
    _requested.clear()
    signal.signal(signal.SIGINT, _on_sigint)


def uninstall() -> None:
    """Give SIGINT back to Python's default handler, if the run took it."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is _on_sigint:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def requested() -> bool:
    """True once a SIGINT arrived during the run, whatever became of its KeyboardInterrupt."""
    return _requested.is_set()


def check() -> None:
    """Raise KeyboardInterrupt (again) if a SIGINT arrived: the run must stop here."""
    if _requested.is_set():
        raise KeyboardInterrupt
