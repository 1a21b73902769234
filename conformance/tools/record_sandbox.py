"""``python -m conformance record-sandbox``: re-record the suite, or a selection of it, against a fresh sandbox.

This is how the shipped cassettes are made; the same steps work by hand against a real app. The
sandbox draws each test's ids and times on their own (``X-Conformance-Test``), so a test recorded
alone gets the cassette it gets within the whole suite.
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
    parser.add_argument(
        "-k",
        dest="keyword",
        default=None,
        metavar="EXPR",
        help="record only the tests whose names match this pytest keyword expression, e.g. -k lifecycle",
    )
    parser.add_argument(
        "pytest_args",
        nargs="*",
        metavar="SELECTION",
        help="record only these suite files, folders or node ids (conformance/suites/test_users.py, "
        "conformance/suites/test_users.py::test_user_lifecycle); without one, the whole suite. "
        "Arguments after -- go to pytest as they are",
    )


# pytest options that narrow what is collected: a selection is checked before anything is recorded.
NARROWING = ("-k", "-m", "--deselect")


class BadSelection(ValueError):
    """A selection that names no test of the suite, in one line."""


def _named_path(argument: str, suite: Path) -> Path | None:
    """The file or folder a selection argument names (its part before ``::``, relative to the current
    folder), or None for anything else: an option, or an option's value, which pytest reads."""
    if argument.startswith("-"):
        return None
    part = argument.split("::", 1)[0]
    found = Path(part)
    inside = found.exists() and (found.resolve() == suite or suite in found.resolve().parents)
    return found if inside or "::" in argument or part.endswith(".py") else None


def selection(args: list[str], keyword: str | None) -> tuple[list[str], bool]:
    """The pytest arguments of a recording (paths made absolute: pytest runs from the project; the
    suite's folder when no path is named), and whether they narrow the suite (paths, -k, -m, --deselect)."""
    chosen: list[str] = []
    named = False
    suite = (PROJECT / "conformance").resolve()
    for argument in args:
        path = _named_path(argument, suite)
        if path is None:
            chosen.append(argument)
            continue
        if not path.exists():
            raise BadSelection(f"{argument!r} does not exist: name a suite file, e.g. conformance/suites/test_users.py")
        where = path.resolve()
        if where != suite and suite not in where.parents:
            raise BadSelection(f"{argument!r} is not in the suite: name files or node ids under {suite}")
        named = True
        test = argument.split("::", 1)[1] if "::" in argument else ""
        chosen.append(f"{where}::{test}" if test else str(where))
    if keyword is not None:
        chosen += ["-k", keyword]
    narrowed = named or any(argument.startswith(NARROWING) for argument in chosen)
    return (chosen if named else [str(suite), *chosen]), narrowed


def check_selection(chosen: list[str]) -> int:
    """How many tests ``chosen`` selects, by collecting them (no sandbox needed); BadSelection with pytest's
    own words when it selects none or pytest refuses it."""
    with tempfile.TemporaryDirectory(prefix="conformance-collect-") as empty:
        env = {name: value for name, value in os.environ.items() if not name.startswith("SUNCO_")}
        done = subprocess.run(  # noqa: S603 - our own interpreter and args
            # The verbosity last, so that the node ids are listed whatever -q or -v the selection carries.
            [sys.executable, "-m", "pytest", "--collect-only", "-p", "no:cacheprovider", f"--cassette-dir={empty}",
             *chosen, "--verbosity=-1"],
            cwd=PROJECT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
    tests = [line for line in done.stdout.splitlines() if "::" in line and not line.startswith(("ERROR", " "))]
    outside = [test for test in tests if not test.startswith("conformance/")]
    if outside:
        raise BadSelection(f"the selection reaches tests outside the suite ({outside[0]}): name files in conformance/")
    if done.returncode == 0 and tests:
        return len(tests)
    if done.returncode in (0, 5):
        raise BadSelection("the selection names no test of the suite: check it with pytest --collect-only")
    said = [line for line in (done.stderr + "\n" + done.stdout).splitlines() if line.startswith(("ERROR", "E "))]
    reason = said[0].removeprefix("ERROR: ").removeprefix("E ").strip() if said else f"pytest exit {done.returncode}"
    raise BadSelection(f"pytest refuses the selection: {reason[:300]}")


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
    try:
        chosen, narrowed = selection(list(args.pytest_args), getattr(args, "keyword", None))
        # The whole suite needs no check: a collection costs seconds of every full recording.
        count = check_selection(chosen) if narrowed else None
    except BadSelection as error:
        print(f"record-sandbox: error: {error}", file=sys.stderr)
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
        what = "" if count is None else f" ({count} selected test(s))"
        print(f"recording against the sandbox at {sandbox.url}{rehearsal} into {args.cassette_dir}{what}", flush=True)
        command = [
            sys.executable,
            "-m",
            "pytest",
            "--record-mode=rewrite",
            f"--cassette-dir={args.cassette_dir}",
            # After the options above, as the arguments after -- always were: they may override them.
            *chosen,
        ]
        return subprocess.call(command, env=env, cwd=PROJECT)  # noqa: S603 - our own interpreter and args
