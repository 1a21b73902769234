"""The suite half of the benchmark: wall time and peak memory of a command in a subprocess.

Two commands are timed: the default offline replay (the README's first command, one process) and
a recording of the whole suite against the sandbox, into a temporary folder. A one-process run's
peak memory is its own maximum RSS (``wait4``), so nothing samples the machine while it is timed;
a recording runs pytest under ``record-sandbox``, so its memory is the sum of RSS over the process
tree, sampled from ``/proc``. Without either, ``getrusage(RUSAGE_CHILDREN)`` is the fallback: the
largest single finished child, over this process's lifetime, so only a lower bound.
"""

from __future__ import annotations

import os
import shlex
import socket
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
    # CPU seconds (user + system) the process spent, when known: what a busy machine does not inflate.
    cpu_s: float | None = None


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


def measure(command: Sequence[str], cwd: Path, interval: float = SAMPLE_SECONDS, *, tree: bool = True) -> Run:
    """Run ``command`` once; raise :class:`SuiteError` with its last output lines if it fails.

    ``tree``: sum memory over the process and its descendants (sampled); else the process's own peak.
    """
    use_proc = tree and proc_available()
    own = not tree and hasattr(os, "wait4")
    peak = 0
    with tempfile.TemporaryFile() as output:
        start = perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=output, stderr=subprocess.STDOUT, env=clean_env())  # noqa: S603
        sampler = TreeSampler(process.pid) if use_proc else None
        if own:
            _, status, usage = os.wait4(process.pid, 0)
            wall = perf_counter() - start
            process.returncode = returncode = os.waitstatus_to_exitcode(status)
            peak = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
            cpu = usage.ru_utime + usage.ru_stime
        else:
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
    if own:
        return Run(wall, peak, "wait4", cpu)
    if sampler is None:
        return Run(wall, rusage_children_bytes(), "getrusage")
    return Run(wall, peak, "proc")


def shown(command: Sequence[str]) -> str:
    return "python " + shlex.join(command[1:])


def suite_command(targets: Sequence[str] = SUITE_TARGETS, extra: Sequence[str] = ()) -> list[str]:
    return [sys.executable, "-m", "pytest", *targets, "-q", "-p", "no:cacheprovider", *extra]


def measure_suite(
    root: Path, runs: int = 3, targets: Sequence[str] = SUITE_TARGETS, progress: Progress = print
) -> dict[str, Any]:
    """The default replay in one process: median wall time and highest peak RSS of ``runs`` runs.

    Every run after a checkout's first reads parsed cassettes from the cassette cache, so one
    untimed run fills it first; a run with an empty cache of its own is timed too, as the cost of
    the first run after a checkout (or after cassettes change), and reported beside the target.
    """
    with tempfile.TemporaryDirectory(prefix="sunco-bench-cache-") as empty:
        first = measure(suite_command(targets, [f"--cassette-cache={empty}"]), root, tree=False)
    progress(f"suite: first run, empty cassette cache: {first.wall_s:.2f} s")
    measure(suite_command(targets), root, tree=False)
    timed: list[Run] = []
    for number in range(1, runs + 1):
        run = measure(suite_command(targets), root, tree=False)
        timed.append(run)
        spent = f" ({run.cpu_s:.2f} s of CPU)" if run.cpu_s is not None else ""
        progress(f"suite: run {number}/{runs}: {run.wall_s:.2f} s{spent}, peak {run.peak_rss_bytes / 2**20:.0f} MB")
    cpu = [run.cpu_s for run in timed if run.cpu_s is not None]
    return {
        "wall_s": statistics.median(run.wall_s for run in timed),
        "cpu_s": statistics.median(cpu) if cpu else None,
        "peak_rss_mb": max(run.peak_rss_bytes for run in timed) / 2**20,
        "runs_wall_s": [run.wall_s for run in timed],
        "rss_source": timed[0].rss_source,
        "command": shown(suite_command(targets)),
        "first_run_wall_s": first.wall_s,
    }


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def record_command(cassette_dir: Path, port: int) -> list[str]:
    """``record-sandbox`` into ``cassette_dir``, on a free port (the shipped cassettes' port may be busy)."""
    return [
        sys.executable,
        "-m",
        "conformance",
        "record-sandbox",
        f"--cassette-dir={cassette_dir}",
        f"--port={port}",
        "--",
        "-q",
        "-p",
        "no:cacheprovider",
    ]


def measure_recording(root: Path, progress: Progress = print) -> dict[str, Any]:
    """One recording of the whole suite against a fresh sandbox, into a temporary folder: never cassettes/."""
    with tempfile.TemporaryDirectory(prefix="sunco-bench-recording-") as folder:
        command = record_command(Path(folder) / "cassettes", free_port())
        progress(f"recording: {shown(command)}")
        run = measure(command, root)
        written = len(list((Path(folder) / "cassettes").rglob("*.yaml")))
    if not written:
        raise SuiteError(f"{shown(command)} wrote no cassettes")
    progress(f"recording: {run.wall_s:.1f} s, {written} cassettes")
    return {
        "wall_s": run.wall_s,
        "peak_rss_mb": run.peak_rss_bytes / 2**20,
        "rss_source": run.rss_source,
        "command": shown(command),
        "cassettes": written,
    }
