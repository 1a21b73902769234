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

from conformance.sandbox import Sandbox

PROJECT = Path(__file__).resolve().parents[2]
RECORDING_PORT = 47151
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
    parser.add_argument("pytest_args", nargs="*", help="extra arguments for pytest (after --)")


def _sandbox() -> Sandbox:
    # A fixed port and seed make a re-recording of unchanged behaviour byte-identical.
    try:
        return Sandbox(port=RECORDING_PORT, seed=0).start()
    except OSError:
        return Sandbox(seed=0).start()


def _receiver_port() -> int:
    """The fixed receiver port when it is free now, else 0 (any free port: the cassettes then name another)."""
    try:
        with socket.create_server(("127.0.0.1", RECEIVER_PORT)):
            return RECEIVER_PORT
    except OSError:
        return 0


def run(args: argparse.Namespace) -> int:
    with _sandbox() as sandbox:
        env = {
            **os.environ,
            "SUNCO_API_URL": sandbox.url,
            "SUNCO_APP_ID": sandbox.app_id,
            "SUNCO_KEY_ID": sandbox.key_id,
            "SUNCO_KEY_SECRET": sandbox.key_secret,
            "SUNCO_ACCOUNT_KEY_ID": sandbox.account_key_id,
            "SUNCO_ACCOUNT_KEY_SECRET": sandbox.account_key_secret,
            "SUNCO_AUTH": args.auth,
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
