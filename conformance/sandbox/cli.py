"""``python -m conformance sandbox``: serve the sandbox until interrupted."""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
from collections.abc import Callable
from shlex import quote
from types import FrameType

from conformance.sandbox import seeded
from conformance.sandbox.auth import check_key
from conformance.sandbox.faults import PROFILES
from conformance.sandbox.server import (
    APP_ID,
    DEFAULT_ACCOUNT_KEY_ID,
    DEFAULT_ACCOUNT_KEY_SECRET,
    DEFAULT_APP_ID,
    DEFAULT_HEADER_TIMEOUT,
    DEFAULT_KEY_ID,
    DEFAULT_KEY_SECRET,
    DEFAULT_LIMITS,
    Sandbox,
)

_NO_SPACE = re.compile(r"^\S+$")
LIMIT_OPTIONS = {
    "max_messages": "messages a conversation holds; one more answers 423",
    "message_page_size": "messages per page of List Messages",
}


class UsageError(Exception):
    """A bad option value; its message is the one line the user sees."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # Plain strings, checked in run(), so a bad value is one line rather than argparse's usage dump.
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", default="0", help="port to listen on, 0 for a free one (default: 0)")
    parser.add_argument("--app-id", default=DEFAULT_APP_ID, help=f"the app id it serves (default: {DEFAULT_APP_ID})")
    parser.add_argument("--key-id", default=DEFAULT_KEY_ID, help=f"the API key id (default: {DEFAULT_KEY_ID})")
    parser.add_argument(
        "--key-secret", default=DEFAULT_KEY_SECRET, help=f"the API key secret (default: {DEFAULT_KEY_SECRET})"
    )
    parser.add_argument(
        "--account-key-id",
        default=DEFAULT_ACCOUNT_KEY_ID,
        help=f"the account-scope key id, for apps and app keys (default: {DEFAULT_ACCOUNT_KEY_ID})",
    )
    parser.add_argument(
        "--account-key-secret",
        default=DEFAULT_ACCOUNT_KEY_SECRET,
        help=f"the account-scope key secret (default: {DEFAULT_ACCOUNT_KEY_SECRET})",
    )
    parser.add_argument(
        "--seed",
        default="",
        metavar="N",
        help="repeatable ids, a fixed clock and no Date header, for stable recordings",
    )
    parser.add_argument(
        "--realistic",
        action="store_true",
        help="behave like the live service where it legitimately differs: ObjectId-shaped ids, the wall clock, "
        "and the fields it sends that the documentation lacks (not with --seed)",
    )
    parser.add_argument(
        "--throttle-every", default="0", metavar="N", help="answer every Nth request with 429 (default: 0, never)"
    )
    parser.add_argument(
        "--header-timeout",
        default=str(DEFAULT_HEADER_TIMEOUT),
        metavar="SECONDS",
        help=f"seconds a request's line and headers may take from its first byte before a 408 closes the "
        f"connection, however steadily they trickle (default: {DEFAULT_HEADER_TIMEOUT})",
    )
    for name, meaning in LIMIT_OPTIONS.items():
        default = DEFAULT_LIMITS[name]
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            default=str(default),
            metavar="N",
            help=f"{meaning} (default: {default}, as documented; lower it so tests can reach it)",
        )
    parser.add_argument(
        "--faults",
        default="",
        metavar="PROFILE",
        help=f"inject faults to rehearse them, the same ones for the same --seed (0 when none); one of: "
        f"{', '.join(PROFILES)} (each described below)",
    )
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = fault_profiles_text()


def fault_profiles_text() -> str:
    """The profiles, one a line, for --help (the README has the same table)."""
    width = max(map(len, PROFILES))
    rows = [f"  {name.ljust(width)}  {profile.summary}" for name, profile in PROFILES.items()]
    return "\n".join(
        [
            "fault profiles (--faults): a fault before the request acts leaves the sandbox as if it never came;",
            "a truncated or non-JSON answer comes after the request took effect.",
            *rows,
        ]
    )


def _digits(text: str) -> bool:
    # isdigit() alone accepts "²", which int() refuses.
    return text.isascii() and text.isdigit() and len(text) < 20


def _port(value: object) -> int:
    text = str(value).strip()
    if not _digits(text) or not 0 <= int(text) <= 65535:
        raise UsageError(f"--port {value!r} is not allowed: use an integer from 0 to 65535 (0 picks a free port)")
    return int(text)


def _checked(args: argparse.Namespace) -> Sandbox:
    host = str(args.host).strip()
    if not host or not _NO_SPACE.match(host):
        raise UsageError(f"--host {args.host!r} is not allowed: use an address such as 127.0.0.1 or ::1")
    port = _port(args.port)
    if not APP_ID.match(str(args.app_id)):
        raise UsageError(f"--app-id {args.app_id!r} is not allowed: use 24 lowercase hexadecimal characters")
    key_id, account_key_id = str(args.key_id), str(getattr(args, "account_key_id", DEFAULT_ACCOUNT_KEY_ID))
    account_secret = str(getattr(args, "account_key_secret", DEFAULT_ACCOUNT_KEY_SECRET))
    for option, value in (("--key-id", key_id), ("--account-key-id", account_key_id)):
        # Basic auth splits user and password at the first colon.
        if not _NO_SPACE.match(value) or ":" in value:
            raise UsageError(f"{option} {value!r} is not allowed: use non-empty text without white space or ':'")
    for option, value in (("--key-secret", str(args.key_secret)), ("--account-key-secret", account_secret)):
        if not _NO_SPACE.match(value):
            raise UsageError(f"{option} is not allowed: use non-empty text without white space")
    for option, value in (
        ("--key-id", key_id),
        ("--key-secret", str(args.key_secret)),
        ("--account-key-id", account_key_id),
        ("--account-key-secret", account_secret),
    ):
        try:
            check_key(option, value)
        except ValueError as error:
            raise UsageError(f"{error}: use UTF-8 text") from None
    throttle = str(getattr(args, "throttle_every", "0")).strip()
    if not _digits(throttle):
        raise UsageError(f"--throttle-every {throttle!r} is not allowed: use 0 (never) or a positive integer")
    seed = str(getattr(args, "seed", "")).strip()
    if seed and not _digits(seed):
        raise UsageError(f"--seed {seed!r} is not allowed: use a non-negative integer")
    realistic = bool(getattr(args, "realistic", False))
    if realistic and seed:
        raise UsageError("--realistic is not allowed with --seed: a realistic sandbox draws fresh ids and times")
    header_timeout = str(getattr(args, "header_timeout", DEFAULT_HEADER_TIMEOUT)).strip()
    if not _digits(header_timeout) or int(header_timeout) < 1:
        raise UsageError(
            f"--header-timeout {header_timeout!r} is not allowed: use a whole number of seconds, 1 or more"
        )
    limits: dict[str, int] = {}
    for name in LIMIT_OPTIONS:
        text = str(getattr(args, name, DEFAULT_LIMITS[name])).strip()
        if not _digits(text) or int(text) < 1:
            option = "--" + name.replace("_", "-")
            raise UsageError(f"{option} {text!r} is not allowed: use a positive integer")
        limits[name] = int(text)
    faults = str(getattr(args, "faults", "") or "").strip()
    if faults and faults not in PROFILES:
        raise UsageError(f"--faults {faults!r} is not allowed: use one of {', '.join(PROFILES)}")
    return Sandbox(
        host,
        port,
        str(args.app_id),
        key_id,
        str(args.key_secret),
        throttle_every=int(throttle),
        seed=int(seed) if seed else None,
        account_key_id=account_key_id,
        account_key_secret=account_secret,
        header_timeout=int(header_timeout),
        limits=limits,
        faults=faults or None,
        realistic=realistic,
    )


def run(args: argparse.Namespace) -> int:
    try:
        sandbox = _checked(args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 2
    try:
        sandbox.start()
    except OSError as error:
        print(
            f"error: cannot listen on {sandbox.host} port {sandbox.port}: {error.strerror or error}",
            file=sys.stderr,
            flush=True,
        )
        return 1
    try:
        # Handlers go in before the banner: whoever reads "press Ctrl-C" may signal at once.
        _wait_for_signal(announce=lambda: _announce(sandbox))
    finally:
        sandbox.stop()
    print("sandbox stopped", flush=True)
    return 0


def _announce(sandbox: Sandbox) -> None:
    lines = [
        f"sandbox listening on {sandbox.url}",
        f"  app id:     {sandbox.app_id}",
        f"  key id:     {sandbox.key_id}",
        f"  key secret: {sandbox.key_secret}",
        f"  account key id:     {sandbox.account_key_id}",
        f"  account key secret: {sandbox.account_key_secret}",
        *([f"  every {sandbox.throttle_every} requests one answers 429"] if sandbox.throttle_every else []),
        *[
            f"  {name.replace('_', ' ')}: {value} (lowered from {DEFAULT_LIMITS[name]})"
            for name, value in sandbox.limits.items()
            if value != DEFAULT_LIMITS[name]
        ],
        *(
            [f"  profile: {sandbox.profile.name} (ids and times as the live service's, undocumented fields)"]
            if sandbox.profile
            else []
        ),
        *(
            [f"  faults: {sandbox.faults.profile} (seed {sandbox.faults.seed}): {sandbox.faults.summary}"]
            if sandbox.faults
            else []
        ),
        "point the suite at it with:",
        f"  export SUNCO_API_URL={quote(sandbox.url)} SUNCO_APP_ID={quote(sandbox.app_id)}",
        f"  export SUNCO_KEY_ID={quote(sandbox.key_id)} SUNCO_KEY_SECRET={quote(sandbox.key_secret)}",
        f"  export SUNCO_ACCOUNT_KEY_ID={quote(sandbox.account_key_id)}"
        f" SUNCO_ACCOUNT_KEY_SECRET={quote(sandbox.account_key_secret)}",
        *(f"  export {name}={quote(value)}" for name, value in seeded.live_settings().items()),
        "press Ctrl-C to stop",
    ]
    print("\n".join(lines), flush=True)


def _wait_for_signal(announce: Callable[[], None]) -> None:
    stopped = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    try:
        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:
        # Not the main thread: signals stay with whoever owns them; Ctrl-C still ends the wait.
        previous = {}
    try:
        announce()
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
