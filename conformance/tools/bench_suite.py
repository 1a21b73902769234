"""The suite half of the benchmark: wall time and peak memory of a pytest run in a subprocess.

xdist runs the tests in worker processes, so memory is the sum of RSS over the whole process
tree, sampled from ``/proc``. Without ``/proc`` the fallback is ``getrusage(RUSAGE_CHILDREN)``:
the largest single finished child, over this process's lifetime, so only a lower bound.
"""

from __future__ import annotations

import os
import shlex
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import Any

PROC = Path("/proc")
SAMPLE_SECONDS = 0.02
SUITE_TARGETS = ("conformance",)
Progress = Callable[[str], None]


class SuiteError(RuntimeError):
    """The measured command failed, so its timing would describe a broken run."""


@dataclass(frozen=True)
class Run:
    wall_s: float
    peak_rss_bytes: int
    rss_source: str


class TreeSampler:
    """Sums RSS over a process and its descendants, reading ``/proc``."""

    def __init__(self, root: int) -> None:
        self.root = root
        # ppid of every pid seen; a process never becomes someone else's descendant later,
        # so each pid's stat is read once rather than every 20 ms.
        self._parents: dict[int, int] = {}

    def _parent(self, pid: int) -> int | None:
        try:
            stat = (PROC / str(pid) / "stat").read_text()
        except OSError:
            return None
        # The command name may hold spaces and parentheses; the fields after its last ')' do not.
        fields = stat.rpartition(")")[2].split()
        return int(fields[1]) if len(fields) > 1 else None

    def tree(self) -> set[int]:
        alive = {int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit()}
        for pid in alive - self._parents.keys():
            parent = self._parent(pid)
            if parent is not None:
                self._parents[pid] = parent
        for pid in self._parents.keys() - alive:
            del self._parents[pid]
        members, frontier = {self.root}, [self.root]
        children: dict[int, list[int]] = {}
        for pid, parent in self._parents.items():
            children.setdefault(parent, []).append(pid)
        while frontier:
            for child in children.get(frontier.pop(), ()):
                if child not in members:
                    members.add(child)
                    frontier.append(child)
        return members

    def rss(self) -> int:
        total = 0
        for pid in self.tree():
            try:
                status = (PROC / str(pid) / "status").read_text()
            except OSError:
                continue  # exited between listing and reading
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    break
        return total


def proc_available() -> bool:
    return (PROC / str(os.getpid()) / "status").is_file()


def rusage_children_bytes() -> int:
    try:
        import resource
    except ImportError:  # Windows
        return 0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def clean_env() -> dict[str, str]:
    """The environment minus pytest's own variables, so the run is exactly the printed command."""
    return {name: value for name, value in os.environ.items() if not name.startswith("PYTEST_")}


def measure(command: Sequence[str], cwd: Path, interval: float = SAMPLE_SECONDS) -> Run:
    """Run ``command`` once; raise :class:`SuiteError` with its last output lines if it fails."""
    use_proc = proc_available()
    peak = 0
    with tempfile.TemporaryFile() as output:
        start = perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=output, stderr=subprocess.STDOUT, env=clean_env())  # noqa: S603
        sampler = TreeSampler(process.pid) if use_proc else None
        while True:
            if sampler is not None:
                peak = max(peak, sampler.rss())
            try:
                # Waiting rather than sleeping ends the timing the moment the process exits.
                returncode = process.wait(timeout=interval)
                break
            except subprocess.TimeoutExpired:
                continue
        wall = perf_counter() - start
        if returncode != 0:
            output.seek(0)
            tail = output.read().decode("utf-8", "replace").strip().splitlines()[-3:]
            raise SuiteError(f"{' '.join(command)} exited {returncode}: {' | '.join(tail)}")
    if sampler is None:
        return Run(wall, rusage_children_bytes(), "getrusage")
    return Run(wall, peak, "proc")


def suite_command(workers: int | None, targets: Sequence[str] = SUITE_TARGETS) -> list[str]:
    command = [sys.executable, "-m", "pytest", *targets, "-q", "-p", "no:cacheprovider"]
    return command if workers is None else [*command, "-n", str(workers)]


def measure_suite(
    root: Path, runs: int = 3, targets: Sequence[str] = SUITE_TARGETS, progress: Progress = print
) -> dict[str, dict[str, Any]]:
    """Median wall time and the highest peak RSS of ``runs`` runs, with one process and with ``-n 2``."""
    setups = {"one_worker": None, "two_workers": 2}
    samples: dict[str, list[Run]] = {name: [] for name in setups}
    for number in range(1, runs + 1):
        # Alternate the two setups, so drift in machine load hits both alike.
        for name, workers in setups.items():
            run = measure(suite_command(workers, targets), root)
            samples[name].append(run)
            progress(
                f"suite: {name.replace('_', ' ')}, run {number}/{runs}: {run.wall_s:.2f} s, "
                f"peak {run.peak_rss_bytes / 2**20:.0f} MB"
            )
    return {
        name: {
            "wall_s": statistics.median(run.wall_s for run in runs_of),
            "peak_rss_mb": max(run.peak_rss_bytes for run in runs_of) / 2**20,
            "runs_wall_s": [run.wall_s for run in runs_of],
            "rss_source": runs_of[0].rss_source,
            "command": "python " + shlex.join(suite_command(setups[name], targets)[1:]),
        }
        for name, runs_of in samples.items()
    }
