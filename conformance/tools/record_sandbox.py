"""``python -m conformance record-sandbox``: re-record the whole suite against a fresh sandbox.

This is how the shipped cassettes are made; the same steps work by hand against a real app.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from conformance.sandbox import Sandbox, seeded
from conformance.sandbox.faults import PROFILES
from conformance.session import runs
from conformance.session.run_ledger import STATE_ENV

PROJECT = Path(__file__).resolve().parents[2]
RECORDING_PORT = 47151
SHIPPED = (PROJECT / "cassettes").resolve()
# Limits lowered so that tests reach them: a full conversation, and message lists of several pages.
LIMITS = {"max_messages": 15, "message_page_size": 5}
SEED = 0
# The webhook receiver's port: fixed too, since the webhooks the suite creates name it.
RECEIVER_PORT = 47159


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cassette-dir",
        default=str(SHIPPED),
        metavar="DIR",
        help="where to write the cassettes (default: the shipped cassettes/)",
    )
    parser.add_argument(
        "--auth", choices=("basic", "jwt"), default="basic", help="how the suite authenticates (default: basic)"
    )
    parser.add_argument(
        "--port",
        default=str(RECORDING_PORT),
        metavar="N",
        help=f"the sandbox's port; the URL is recorded, so only the default ({RECORDING_PORT}) reproduces the "
        "shipped cassettes (identical but for each one's recordedAt)",
    )
    parser.add_argument(
        "--faults",
        default="",
        metavar="PROFILE",
        help=f"record against a sandbox that injects these faults (see `sandbox --help`): {', '.join(PROFILES)}; "
        "needs --cassette-dir, since the shipped cassettes record the documented behaviour",
    )
    parser.add_argument("pytest_args", nargs="*", help="extra arguments for pytest (after --)")


def _receiver_port() -> int:
    """The fixed receiver port when it is free now, else 0 (any free port: the cassettes then name another)."""
    try:
        with socket.create_server(("127.0.0.1", RECEIVER_PORT)):
            return RECEIVER_PORT
    except OSError:
        return 0


def sandbox_settings(sandbox: Sandbox, auth: str = "basic") -> dict[str, str]:
    """The ``SUNCO_*`` settings of a whole run against ``sandbox`` (started, with the lowered LIMITS)."""
    return {
        "SUNCO_API_URL": sandbox.url,
        "SUNCO_APP_ID": sandbox.app_id,
        "SUNCO_KEY_ID": sandbox.key_id,
        "SUNCO_KEY_SECRET": sandbox.key_secret,
        "SUNCO_ACCOUNT_KEY_ID": sandbox.account_key_id,
        "SUNCO_ACCOUNT_KEY_SECRET": sandbox.account_key_secret,
        "SUNCO_AUTH": auth,
        "SUNCO_MAX_MESSAGES": str(LIMITS["max_messages"]),
        "SUNCO_MESSAGE_PAGE_SIZE": str(LIMITS["message_page_size"]),
        # What the sandbox seeds: an SDK user with devices, a Zendesk-linked user, an OAuth client.
        **seeded.live_settings(),
    }


def run(args: argparse.Namespace) -> int:
    text = str(args.port).strip()
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        print(
            f"record-sandbox: error: --port {args.port!r} is not allowed: use an integer from 1 to 65535",
            file=sys.stderr,
        )
        return 2
    port = int(text)
    faults = str(getattr(args, "faults", "") or "").strip() or None
    if faults is not None and faults not in PROFILES:
        print(f"record-sandbox: error: --faults {faults!r} is not allowed: use one of {', '.join(PROFILES)}",
              file=sys.stderr)  # fmt: skip
        return 2
    if faults is not None and Path(args.cassette_dir).resolve() == SHIPPED:
        print(
            "record-sandbox: error: --faults needs --cassette-dir DIR: the shipped cassettes record the documented "
            "behaviour, not a rehearsal of faults",
            file=sys.stderr,
        )
        return 2
    # A fixed port and seed make a re-recording of unchanged behaviour byte-identical: never fall back.
    # The faults follow the same seed, so a rehearsal repeats too.
    sandbox = Sandbox(port=port, seed=SEED, limits=LIMITS, faults=faults)
    try:
        sandbox.start()
    except OSError as error:
        print(
            f"record-sandbox: error: cannot listen on 127.0.0.1 port {port} ({error.strerror or error}): stop what "
            f"holds it (find it with: ss -ltnp 'sport = :{port}') or choose another with --port N, knowing that "
            "cassettes recorded on another port differ from the shipped ones in every URL",
            file=sys.stderr,
        )
        return 1
    with sandbox, tempfile.TemporaryDirectory(prefix="conformance-state-") as state:
        env = {
            **os.environ,
            **sandbox_settings(sandbox, args.auth),
            "SUNCO_WEBHOOK_PORT": str(_receiver_port()),
            # The run tags the recorded bodies hold: fixed by the seed, so a re-recording repeats them.
            runs.RUN_ID_ENV: runs.fixed_run_id(SEED),
            # What the run creates lives only as long as this sandbox: its ledger goes with it.
            STATE_ENV: state,
        }
        env.pop("SUNCO_WEBHOOK_URL", None)
        rehearsal = f", with the {faults} faults (seed 0)" if faults else ""
        print(f"recording against the sandbox at {sandbox.url}{rehearsal} into {args.cassette_dir}", flush=True)
        command = [
            sys.executable,
            "-m",
            "pytest",
            str(PROJECT / "conformance"),
            "--record-mode=rewrite",
            f"--cassette-dir={args.cassette_dir}",
            *args.pytest_args,
        ]
        return subprocess.call(command, env=env, cwd=PROJECT)  # noqa: S603 - our own interpreter and args
