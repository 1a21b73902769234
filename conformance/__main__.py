"""``python -m conformance``: the sandbox, the benchmark, and helpers around the suite."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m conformance", description="The sandbox, the benchmark and helpers around the suite."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    from conformance.sandbox import cli as sandbox_cli

    sandbox = commands.add_parser("sandbox", help="run the local stateful API sandbox")
    sandbox_cli.add_arguments(sandbox)
    sandbox.set_defaults(run=sandbox_cli.run)

    from conformance import record as record_cli

    record = commands.add_parser("record-sandbox", help="record the suite against a fresh sandbox")
    record_cli.add_arguments(record)
    record.set_defaults(run=record_cli.run)
    from conformance import drift as drift_cli

    drift = commands.add_parser("drift", help="compare two recordings of the same variants field by field")
    drift_cli.add_arguments(drift)
    drift.set_defaults(run=drift_cli.run)

    from conformance import bench as bench_cli

    bench = commands.add_parser("bench", help="measure replay cost against stock vcrpy and an in-process floor")
    bench_cli.add_arguments(bench)
    bench.set_defaults(run=bench_cli.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
