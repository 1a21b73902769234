"""``python -m conformance bench``: the replay and recording speed targets, measured side by side in one run.

Measured on one machine, in one run:

* per-exchange replay cost through this project's cassettes, for several cassette sizes;
* the same cassettes replayed by stock vcrpy (linear scan per request);
* the floor: the same requests answered in-process by ``responses`` with the same checks;
* the default offline replay (the README's first command, one process), start-up included;
* a recording of the whole suite against the sandbox, into a temporary folder;
* the scrubber on 1 MB and 10 MB of free text holding secrets (:mod:`conformance.tools.bench_scrub`).

Each target is a ratio of two figures from the same run, or a wall time of the whole command, so
a busy machine shows in the figures, which are printed, never asserted in tests. The replay half
lives in :mod:`conformance.tools.bench_replay`, the suite and recording half in
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
from conformance.tools.bench_scrub import SCRUB_SIZES, ScrubMismatch, measure_scrub, per_mb_ratio
from conformance.tools.bench_suite import (
    SUITE_TARGETS,
    SuiteError,
    measure_recording,
    measure_suite,
    shown,
    suite_command,
)
from conformance.tools.reports import write_reports

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SIZES = (1, 10, 100, 1000)
SIZES_FORM = "positive integers, separated by commas or spaces, e.g. 1,10,100,1000 or 10 100"
SUITE_RUNS = 3
PARTS = ("replay", "suite", "recording", "scrub")


@dataclass(frozen=True)
class Target:
    name: str
    label: str
    limit: float
    at_most: bool  # True: the figure must not exceed limit; False: it must reach it
    needs: tuple[int, ...] = ()  # cassette sizes the target is defined at
    unit: str = "x"  # "x": a ratio of two figures of this run; "s": seconds of wall time
    part: str = "replay"  # the part of the run that measures it (see PARTS)

    def met(self, figure: float | None) -> bool | None:
        if figure is None:
            return None
        return figure <= self.limit if self.at_most else figure >= self.limit

    def measured(self, sizes: Sequence[int], parts: Sequence[str] = PARTS) -> bool:
        return self.part in parts and set(self.needs) <= set(sizes)

    def shown(self, figure: float | None) -> str:
        if figure is None:
            return "-"
        return f"{figure:.2f} s" if self.unit == "s" else f"{figure:.2f}x"

    @property
    def bound(self) -> str:
        return f"{'<=' if self.at_most else '>='} {self.limit:g}{' s' if self.unit == 's' else 'x'}"


TARGETS = (
    Target("suite_wall", "default offline replay, one process, wall", 3.0, at_most=True, unit="s", part="suite"),
    # CPU seconds of the process and the children it waited for: what other work on the machine
    # inflates least, so the figure to hold a shared machine's run to.
    Target("suite_cpu", "default offline replay, one process, CPU", 3.0, at_most=True, unit="s", part="suite"),
    Target("project_over_floor", "project / floor at {large} exchanges", 1.5, at_most=True, needs=(1000,)),
    Target(
        "project_large_over_small", "project at {large} / at {small} exchanges", 1.3, at_most=True, needs=(10, 1000)
    ),
    Target("vcrpy_over_project", "stock vcrpy / project at {large} exchanges", 20.0, at_most=False, needs=(1000,)),
    Target("record_wall", "recording the suite against the sandbox, wall", 60.0, True, unit="s", part="recording"),
    Target("scrub_large_over_small", "scrub per MB at {scrub_large} / at {scrub_small}", 1.5, True, part="scrub"),
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
    parser.add_argument("--skip-suite", action="store_true", help="skip timing the default offline replay")
    parser.add_argument(
        "--skip-recording", action="store_true", help="skip timing a recording of the suite against the sandbox"
    )
    parser.add_argument("--skip-scrub", action="store_true", help="skip timing the scrubber on 1 MB and 10 MB")


def machine() -> dict[str, Any]:
    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    # Other work on a shared machine stretches wall times: the load says how busy it was.
    load = [round(value, 2) for value in os.getloadavg()] if hasattr(os, "getloadavg") else None
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable,
        "load_average": load,
        # The C YAML loader decides much of the cost of a first read of a cassette.
        "libyaml": bool(getattr(yaml, "__with_libyaml__", False)),
        # Without bytecode caches every run compiles the project's modules and rewrites its test files.
        "bytecode_cache": not (sys.dont_write_bytecode or os.environ.get("PYTHONDONTWRITEBYTECODE")),
        "packages": {name: version(name) for name in ("vcrpy", "pytest", "requests", "responses", "jsonschema")},
    }


def compared_sizes(sizes: Sequence[int]) -> tuple[int, int]:
    """The sizes the targets compare: 10 and 1,000 when measured, else the smallest and largest."""
    small = 10 if 10 in sizes else min(sizes)
    large = 1000 if 1000 in sizes else max(sizes)
    return small, large


def figures(
    per_exchange: dict[str, dict[str, float]],
    suite: dict[str, Any] | None,
    recording: dict[str, Any] | None,
    small: int,
    large: int,
    scrub: dict[str, dict[str, Any]] | None = None,
) -> dict[str, float | None]:
    project, vcrpy, floor = (per_exchange[name] for name in PATHS)
    return {
        "suite_wall": suite["wall_s"] if suite else None,
        "suite_cpu": suite.get("cpu_s") if suite else None,
        "project_over_floor": project[str(large)] / floor[str(large)],
        "project_large_over_small": project[str(large)] / project[str(small)],
        "vcrpy_over_project": vcrpy[str(large)] / project[str(large)],
        "record_wall": recording["wall_s"] if recording else None,
        "scrub_large_over_small": per_mb_ratio(scrub, [int(size) for size in scrub]) if scrub else None,
    }


def _print_progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def benchmark(
    sizes: Sequence[int] = DEFAULT_SIZES,
    repeat: int = 3,
    *,
    suite: bool = True,
    recording: bool = True,
    scrub: bool = True,
    scrub_sizes: Sequence[int] = SCRUB_SIZES,
    suite_runs: int = SUITE_RUNS,
    suite_targets: Sequence[str] = SUITE_TARGETS,
    root: Path = ROOT,
    progress: Progress = _print_progress,
) -> dict[str, Any]:
    """Everything ``--json`` writes. Raises ReplayMismatch if any replay answers wrongly, SuiteError
    if a timed command fails, ScrubMismatch if a planted secret survives the scrubber."""
    with tempfile.TemporaryDirectory(prefix="sunco-bench-") as workdir:
        per_exchange = measure_replay(sizes, repeat, Path(workdir), progress)
    suite_result = measure_suite(root, suite_runs, suite_targets, progress) if suite else None
    recording_result = measure_recording(root, progress) if recording else None
    scrub_result = measure_scrub(scrub_sizes, repeat, progress) if scrub else None
    parts = [
        "replay",
        *(["suite"] if suite else []),
        *(["recording"] if recording else []),
        *(["scrub"] if scrub else []),
    ]
    small, large = compared_sizes(sizes)
    measured = figures(per_exchange, suite_result, recording_result, small, large, scrub_result)
    return {
        "machine": machine(),
        "settings": {
            "sizes": list(sizes),
            "repeat": repeat,
            "replay_timing": f"best of {repeat}, per exchange, cassette opening included, cassette cache filled",
            "suite_runs": suite_runs if suite else 0,
            "suite_timing": "median wall time after one untimed run; its own peak RSS",
            "parts": parts,
            "compared_sizes": {"small": small, "large": large},
            "scrub_sizes": list(scrub_sizes) if scrub else [],
            "scrub_timing": f"best of {repeat}, Scrubber.text on free text holding secrets, forms and fragments",
        },
        "per_exchange_ms": per_exchange,
        "suite": suite_result,
        "recording": recording_result,
        "scrub": scrub_result,
        "measured": measured,
        # A target this run did not measure (a size or part it skipped) is None, never missed.
        "targets": {
            target.name: target.met(measured[target.name]) if target.measured(sizes, parts) else None
            for target in TARGETS
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
    suite, recording = result["suite"], result["recording"]
    lines.append("")
    if suite:
        cpu = f" ({suite['cpu_s']:.2f} s of CPU)" if suite.get("cpu_s") is not None else ""
        lines += [
            f"Default offline replay ({settings['suite_timing']}, {settings['suite_runs']} runs): "
            f"{suite['wall_s']:.2f} s{cpu}, peak RSS {suite['peak_rss_mb']:.0f} MB",
            f"  runs: {', '.join(f'{wall:.2f} s' for wall in suite['runs_wall_s'])}; "
            f"first run with an empty cassette cache: {suite['first_run_wall_s']:.2f} s",
            f"  command: {suite['command']}",
        ]
    else:
        lines.append("Default offline replay: skipped (--skip-suite)")
    if recording:
        lines += [
            f"Recording against the sandbox (one run, {recording['cassettes']} cassettes, into a temporary folder): "
            f"{recording['wall_s']:.1f} s, peak RSS {recording['peak_rss_mb']:.0f} MB (process tree)",
            f"  command: {recording['command']}",
        ]
    else:
        lines.append("Recording against the sandbox: skipped (--skip-recording)")
    lines += _scrub_lines(result)
    load = result["machine"].get("load_average")
    if load:
        cpus = result["machine"]["usable_cpus"]
        lines.append(f"Load average at the end (1, 5, 15 min): {', '.join(map(str, load))} on {cpus} CPUs")
    if not result["machine"].get("bytecode_cache", True):
        lines.append(
            "Note: Python writes no bytecode caches here (PYTHONDONTWRITEBYTECODE), so every run compiles the "
            "project's modules and pytest rewrites the test files again"
        )
    compared = {**settings["compared_sizes"], **_scrub_compared(settings.get("scrub_sizes") or [])}
    parts = settings["parts"]
    lines += ["", "Targets"]
    for target in TARGETS:
        met = result["targets"][target.name]
        # A part skipped on request is SKIP; a target at a cassette size the run left out is not measured.
        skipped = "SKIP" if target.part not in parts else "not measured"
        verdict = {True: "PASS", False: "MISS", None: skipped}[met]
        shown_figure = target.shown(result["measured"][target.name])
        lines.append(f"  {target.label.format(**compared):<48} {shown_figure:>9}  {target.bound:<9} {verdict}")
    return "\n".join(lines)


def _scrub_compared(sizes: Sequence[int]) -> dict[str, str]:
    return (
        {"scrub_small": _mb(min(sizes)), "scrub_large": _mb(max(sizes))}
        if sizes
        else {"scrub_small": "-", "scrub_large": "-"}
    )


def _mb(size: int) -> str:
    return f"{size / 1e6:g} MB"


def _scrub_lines(result: dict[str, Any]) -> list[str]:
    scrub = result.get("scrub")
    if not scrub:
        return ["Scrubber on large texts: skipped (--skip-scrub)"]
    sizes = sorted(int(size) for size in scrub)
    shown = "; ".join(
        f"{_mb(size)} in {scrub[str(size)]['seconds']:.2f} s ({scrub[str(size)]['mb_per_s']:.1f} MB/s)"
        for size in sizes
    )
    ratio = per_mb_ratio(scrub, sizes)
    return [
        f"Scrubber on large texts ({result['settings']['scrub_timing']}): {shown}; "
        f"per MB at {_mb(sizes[-1])} / at {_mb(sizes[0])}: {ratio:.2f}x"
    ]


def missing_modules() -> list[str]:
    """The dev extras the benchmark needs and cannot find (the floor is answered by ``responses``)."""
    needed = {"responses": "responses"}
    return [package for module, package in needed.items() if importlib.util.find_spec(module) is None]


def run(args: argparse.Namespace) -> int:
    missing = missing_modules()
    if missing:
        print(f"bench: error: needs {', '.join(missing)}: pip install -e '.[dev]'", file=sys.stderr)
        return 2
    if not args.skip_suite:
        _print_progress(f"suite command: {shown(suite_command())}, from {ROOT}")
    try:
        result = benchmark(
            args.sizes,
            args.repeat,
            suite=not args.skip_suite,
            recording=not args.skip_recording,
            scrub=not args.skip_scrub,
        )
    except (ReplayMismatch, SuiteError, ScrubMismatch) as error:
        print(f"bench: error: {error}", file=sys.stderr)
        return 1
    print(format_table(result))
    if args.json:
        if not write_reports("bench", [(Path(args.json), lambda: json.dumps(result, indent=2) + "\n")]):
            return 1
        print(f"wrote {args.json}")
    return 0
