"""``python -m conformance``: the sandbox, recording, drift, and the benchmark."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# (command, module with add_arguments() and run(), help): one table, so a new command is one line.
COMMANDS = (
    ("sandbox", "conformance.sandbox.cli", "run the local stateful API sandbox"),
    ("record-sandbox", "conformance.tools.record_sandbox", "record the suite against a fresh sandbox"),
    ("drift", "conformance.tools.drift", "compare two recordings of the same variants field by field"),
    ("lint-spec", "conformance.tools.lint_spec", "report the vendor OpenAPI contract's defects, with evidence"),
    ("bench", "conformance.tools.bench", "measure replay cost against stock vcrpy and an in-process floor"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m conformance", description="The sandbox, recording, drift and the benchmark."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for name, module_name, summary in COMMANDS:
        module = importlib.import_module(module_name)
        command = commands.add_parser(name, help=summary)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
