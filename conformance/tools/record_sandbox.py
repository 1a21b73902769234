"""``python -m conformance record-sandbox``: re-record the whole suite against a fresh sandbox.

This is how the shipped cassettes are made; the same steps work by hand against a real app.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from pathlib import Path

from conformance.sandbox import Sandbox, seeded

PROJECT = Path(__file__).resolve().parents[2]
RECORDING_PORT = 47151
# Limits lowered so that tests reach them: a full conversation, and message lists of several pages.
LIMITS = {"max_messages": 15, "message_page_size": 5}
# The webhook receiver's port: fixed too, since the webhooks the suite creates name it.
RECEIVER_PORT = 47159


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cassette-dir",
        default=str(PROJECT / "cassettes"),
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
        "shipped cassettes byte for byte",
    )
    parser.add_argument("pytest_args", nargs="*", help="extra arguments for pytest (after --)")


def _receiver_port() -> int:
    """The fixed receiver port when it is free now, else 0 (any free port: the cassettes then name another)."""
    try:
        with socket.create_server(("127.0.0.1", RECEIVER_PORT)):
            return RECEIVER_PORT
    except OSError:
        return 0


def run(args: argparse.Namespace) -> int:
    text = str(args.port).strip()
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        print(
            f"record-sandbox: error: --port {args.port!r} is not allowed: use an integer from 1 to 65535",
            file=sys.stderr,
        )
        return 2
    port = int(text)
    # A fixed port and seed make a re-recording of unchanged behaviour byte-identical: never fall back.
    sandbox = Sandbox(port=port, seed=0, limits=LIMITS)
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
    with sandbox:
        env = {
            **os.environ,
            "SUNCO_API_URL": sandbox.url,
            "SUNCO_APP_ID": sandbox.app_id,
            "SUNCO_KEY_ID": sandbox.key_id,
            "SUNCO_KEY_SECRET": sandbox.key_secret,
            "SUNCO_ACCOUNT_KEY_ID": sandbox.account_key_id,
            "SUNCO_ACCOUNT_KEY_SECRET": sandbox.account_key_secret,
            "SUNCO_AUTH": args.auth,
            "SUNCO_MAX_MESSAGES": str(LIMITS["max_messages"]),
            "SUNCO_MESSAGE_PAGE_SIZE": str(LIMITS["message_page_size"]),
            # What the sandbox seeds: an SDK user with devices, a Zendesk-linked user, an OAuth client.
            **seeded.live_settings(),
            "SUNCO_WEBHOOK_PORT": str(_receiver_port()),
        }
        env.pop("SUNCO_WEBHOOK_URL", None)
        print(f"recording against the sandbox at {sandbox.url} into {args.cassette_dir}", flush=True)
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
