"""``python -m conformance COMMAND``: the sandbox, the contract tools, recording, drift and the benchmark."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from conformance.tools.parser import OneLineParser

# (command, module with add_arguments() and run(), help): one table, so a new command is one line.
# Only the chosen command's module is imported, so one tool's dependencies never slow another.
COMMANDS = (
    (
        "import-spec",
        "conformance.tools.import_spec",
        "import the vendor's OpenAPI spec (with the overlay) into schemas/",
    ),
    ("coverage", "conformance.tools.coverage", "which documented operation/status pairs the cassettes exercise"),
    ("sandbox", "conformance.sandbox.cli", "run the local stateful API sandbox"),
    (
        "record-sandbox",
        "conformance.tools.record_sandbox",
        "record the suite, or a selection of it, against a fresh sandbox",
    ),
    ("cleanup", "conformance.tools.cleanup", "delete what the suite's runs left in a live app (by their ledgers)"),
    ("drift", "conformance.tools.drift", "compare two recordings of the same variants field by field"),
    ("lint-spec", "conformance.tools.lint_spec", "report the vendor OpenAPI contract's defects, with evidence"),
    ("spec-diff", "conformance.tools.spec_diff", "what changed between two vendor specs (or a spec and schemas/)"),
    (
        "check-payload",
        "conformance.tools.check_payload",
        "check a captured JSON payload (a response, a webhook event or delivery) against the contract",
    ),
    ("bench", "conformance.tools.bench", "measure the replay and recording speed targets, side by side in one run"),
)
PROG = "python -m conformance"


def usage() -> str:
    width = max(len(name) for name, _, _ in COMMANDS)
    rows = "\n".join(f"  {name.ljust(width)}  {summary}" for name, _, summary in COMMANDS)
    return f"usage: {PROG} COMMAND [options]\n\ncommands:\n{rows}\n\n{PROG} COMMAND --help shows a command's options."


def build_parser(name: str) -> argparse.ArgumentParser:
    module_name, summary = next((module, summary) for command, module, summary in COMMANDS if command == name)
    module = importlib.import_module(module_name)
    parser = OneLineParser(prog=f"{PROG} {name}", description=summary)
    module.add_arguments(parser)
    parser.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            return _main(list(sys.argv[1:] if argv is None else argv))
        finally:
            sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): what is left to print has nowhere to go, and that is no error of
        # ours. Point stdout at devnull so the interpreter's final flush does not raise a second time.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _main(args: list[str]) -> int:
    names = [name for name, _, _ in COMMANDS]
    if not args:
        print(f"{PROG}: error: name a command: {', '.join(names)} (see {PROG} --help)", file=sys.stderr)
        return 2
    if args[0] in ("-h", "--help"):
        print(usage())
        return 0
    if args[0] not in names:
        print(f"{PROG}: error: unknown command {args[0]!r}; choose one of: {', '.join(names)}", file=sys.stderr)
        return 2
    parsed = build_parser(args[0]).parse_args(args[1:])
    result: int = parsed.run(parsed)
    return result


if __name__ == "__main__":
    sys.exit(main())
