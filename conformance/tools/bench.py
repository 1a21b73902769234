"""``python -m conformance bench``: what replay costs, beside stock vcrpy and the floor, in one run.

Measured side by side, on one machine, in one run:

* per-exchange replay cost through this project's cassettes, for several cassette sizes;
* the same cassettes replayed by stock vcrpy (linear scan per request);
* the floor: the same requests answered in-process by ``responses`` with the same checks;
* the default suite's offline replay, with one process and with ``-n 2`` (pytest-xdist).

Every target is a ratio of two numbers from the same run, so a slow or busy machine moves both.
The replay half lives in :mod:`conformance.tools.bench_replay`, the suite half in
:mod:`conformance.tools.bench_suite`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from conformance.tools.bench_replay import PATHS, Progress, ReplayMismatch, measure_replay
from conformance.tools.bench_suite import SUITE_TARGETS, SuiteError, measure_suite, suite_command

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SIZES = (1, 10, 100, 1000)
SIZES_FORM = "positive integers, separated by commas or spaces, e.g. 1,10,100,1000 or 10 100"
SUITE_RUNS = 3


@dataclass(frozen=True)
class Target:
    name: str
    label: str
    limit: float
    at_most: bool  # True: the ratio must not exceed limit; False: it must reach it
    needs: tuple[int, ...] = ()  # cassette sizes the target is defined at

    def met(self, ratio: float | None) -> bool | None:
        if ratio is None:
            return None
        return ratio <= self.limit if self.at_most else ratio >= self.limit

    def measured(self, sizes: Sequence[int]) -> bool:
        return set(self.needs) <= set(sizes)


TARGETS = (
    Target("project_over_floor", "project / floor at {large} exchanges", 2.0, at_most=True, needs=(1000,)),
    Target(
        "project_large_over_small", "project at {large} / at {small} exchanges", 1.3, at_most=True, needs=(10, 1000)
    ),
    Target("vcrpy_over_project", "stock vcrpy / project at {large} exchanges", 20.0, at_most=False, needs=(1000,)),
    Target("two_workers_speedup", "suite wall: one process / -n 2", 1.6, at_most=False),
)


class _Sizes(argparse.Action):
    """``--sizes 10 100`` and ``--sizes 10,100`` alike: one sorted tuple."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: str | None = None) -> None:
        setattr(namespace, self.dest, tuple(sorted({size for group in values for size in group})))


def parse_sizes(text: str) -> tuple[int, ...]:
    """``--sizes``: positive integers, deduplicated and sorted."""
    words = [part.split() for part in text.split(",")]
    try:
        if not all(words):
            raise ValueError(text)
        sizes = {int(word) for part in words for word in part}
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {SIZES_FORM}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not {SIZES_FORM}")
    return tuple(sorted(sizes))


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    if not parser.description and __doc__:
        parser.description = __doc__.split("\n", 1)[0]
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        nargs="+",
        action=_Sizes,
        default=DEFAULT_SIZES,
        metavar="N",
        help=f"cassette sizes in exchanges: {SIZES_FORM} (default: 1,10,100,1000)",
    )
    parser.add_argument(
        "--repeat",
        type=positive_int,
        default=3,
        metavar="N",
        help="timing repeats per size and path; the best is kept (default: 3)",
    )
    parser.add_argument("--json", metavar="PATH", default=None, help="also write the numbers as JSON to PATH")
    parser.add_argument("--skip-suite", action="store_true", help="skip timing the full suite (one process and -n 2)")


def machine() -> dict[str, Any]:
    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable,
        # The C YAML loader decides much of the cost of opening a cassette.
        "libyaml": bool(getattr(yaml, "__with_libyaml__", False)),
        "packages": {name: version(name) for name in ("vcrpy", "pytest", "pytest-xdist", "responses", "jsonschema")},
    }


def compared_sizes(sizes: Sequence[int]) -> tuple[int, int]:
    """The sizes the targets compare: 10 and 1,000 when measured, else the smallest and largest."""
    small = 10 if 10 in sizes else min(sizes)
    large = 1000 if 1000 in sizes else max(sizes)
    return small, large


def ratios(
    per_exchange: dict[str, dict[str, float]], suite: dict[str, Any] | None, small: int, large: int
) -> dict[str, float | None]:
    project, vcrpy, floor = (per_exchange[name] for name in PATHS)
    return {
        "project_over_floor": project[str(large)] / floor[str(large)],
        "project_large_over_small": project[str(large)] / project[str(small)],
        "vcrpy_over_project": vcrpy[str(large)] / project[str(large)],
        "two_workers_speedup": suite["one_worker"]["wall_s"] / suite["two_workers"]["wall_s"] if suite else None,
    }


def _print_progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def benchmark(
    sizes: Sequence[int] = DEFAULT_SIZES,
    repeat: int = 3,
    *,
    suite: bool = True,
    suite_runs: int = SUITE_RUNS,
    suite_targets: Sequence[str] = SUITE_TARGETS,
    root: Path = ROOT,
    progress: Progress = _print_progress,
) -> dict[str, Any]:
    """Everything ``--json`` writes. Raises ReplayMismatch if any replay answers wrongly."""
    with tempfile.TemporaryDirectory(prefix="sunco-bench-") as workdir:
        per_exchange = measure_replay(sizes, repeat, Path(workdir), progress)
    suite_result = measure_suite(root, suite_runs, suite_targets, progress) if suite else None
    small, large = compared_sizes(sizes)
    measured = ratios(per_exchange, suite_result, small, large)
    return {
        "machine": machine(),
        "settings": {
            "sizes": list(sizes),
            "repeat": repeat,
            "replay_timing": f"best of {repeat}, per exchange, cassette opening included",
            "suite_runs": suite_runs if suite else 0,
            "suite_timing": "median wall time; highest peak RSS (process tree)",
            "compared_sizes": {"small": small, "large": large},
        },
        "per_exchange_ms": per_exchange,
        "suite": suite_result,
        "ratios": measured,
        # A target defined at a size this run skipped is not measured (None), never missed.
        "targets": {
            target.name: target.met(measured[target.name]) if target.measured(sizes) else None for target in TARGETS
        },
    }


def format_table(result: dict[str, Any]) -> str:
    settings = result["settings"]
    per_exchange = result["per_exchange_ms"]
    lines = [
        f"Replay cost per exchange, ms ({settings['replay_timing']})",
        f"{'exchanges':>10} {'project':>10} {'vcrpy':>10} {'floor':>10} {'proj/floor':>11} {'vcrpy/proj':>11}",
    ]
    for size in settings["sizes"]:
        project, vcrpy, floor = (per_exchange[name][str(size)] for name in PATHS)
        lines.append(
            f"{size:>10} {project:>10.3f} {vcrpy:>10.3f} {floor:>10.3f} "
            f"{project / floor:>10.2f}x {vcrpy / project:>10.2f}x"
        )
    suite = result["suite"]
    if suite:
        lines += [
            "",
            f"Suite offline replay ({settings['suite_timing']}, {settings['suite_runs']} runs)",
            f"{'':<12} {'wall s':>8} {'peak RSS MB':>12}  command",
        ]
        for name, row in suite.items():
            lines.append(
                f"{name.replace('_', ' '):<12} {row['wall_s']:>8.2f} {row['peak_rss_mb']:>12.0f}  {row['command']}"
            )
    else:
        lines += ["", "Suite offline replay: skipped (--skip-suite)"]
    compared = settings["compared_sizes"]
    lines += ["", "Targets"]
    for target in TARGETS:
        ratio = result["ratios"][target.name]
        met = result["targets"][target.name]
        skipped = "SKIP" if target.measured(settings["sizes"]) else "not measured"
        verdict = {True: "PASS", False: "MISS", None: skipped}[met]
        shown = "-" if ratio is None else f"{ratio:.2f}x"
        bound = f"{'<=' if target.at_most else '>='} {target.limit:g}x"
        lines.append(f"  {target.label.format(**compared):<44} {shown:>9}  {bound:<8} {verdict}")
    return "\n".join(lines)


def missing_modules(suite: bool) -> list[str]:
    """The dev extras the benchmark needs and cannot find."""
    needed = {"responses": "responses", **({"xdist": "pytest-xdist"} if suite else {})}
    return [package for module, package in needed.items() if importlib.util.find_spec(module) is None]


def run(args: argparse.Namespace) -> int:
    missing = missing_modules(suite=not args.skip_suite)
    if missing:
        print(f"bench: error: needs {', '.join(missing)}: pip install -e '.[dev]'", file=sys.stderr)
        return 2
    if not args.skip_suite:
        _print_progress(f"suite command: python {' '.join(suite_command(None)[1:])} [-n 2], from {ROOT}")
    try:
        result = benchmark(args.sizes, args.repeat, suite=not args.skip_suite)
    except (ReplayMismatch, SuiteError) as error:
        print(f"bench: error: {error}", file=sys.stderr)
        return 1
    print(format_table(result))
    if args.json:
        try:
            Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        except OSError as error:
            print(f"bench: error: cannot write {args.json}: {error.strerror or error}", file=sys.stderr)
            return 1
        print(f"wrote {args.json}")
    return 0
