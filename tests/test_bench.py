"""The benchmark on tiny sizes: its JSON shape, its correctness checks and its CLI errors.

Nothing here asserts a timing: the machine is shared, so only shapes and signs are checked.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.core.scrub import Scrubber
from conformance.tools import bench, bench_replay, bench_suite
from conformance.tools.bench_replay import PATHS, ReplayMismatch, make_case, write_cassette

ROOT = Path(__file__).resolve().parent.parent
SIZES = (1, 5)


def parser() -> argparse.ArgumentParser:
    built = argparse.ArgumentParser(prog="python -m conformance bench")
    bench.add_arguments(built)
    return built


@pytest.fixture
def verified(monkeypatch):
    """How many exchanges each path sent and verified, per call of ``send_all``."""
    seen: list[tuple[str, int]] = []
    original = bench_replay.send_all

    def counting(client, order, path_name):
        count = original(client, order, path_name)
        seen.append((path_name, count))
        return count

    monkeypatch.setattr(bench_replay, "send_all", counting)
    return seen


def assert_positive_number(value):
    assert isinstance(value, float)
    assert value > 0


def test_replay_numbers_have_the_documented_shape_and_every_exchange_is_verified(verified):
    progress: list[str] = []
    result = bench.benchmark(SIZES, repeat=1, suite=False, progress=progress.append)

    assert set(result) >= {"machine", "per_exchange_ms", "suite", "ratios", "targets"}
    assert {"python", "platform", "cpu_count"} <= set(result["machine"])
    assert set(result["per_exchange_ms"]) == set(PATHS)
    for path in PATHS:
        assert set(result["per_exchange_ms"][path]) == {"1", "5"}
        for value in result["per_exchange_ms"][path].values():
            assert_positive_number(value)
    assert result["suite"] is None
    assert set(result["ratios"]) == set(result["targets"]) == {target.name for target in bench.TARGETS}
    for name, ratio in result["ratios"].items():
        if name == "two_workers_speedup":
            assert ratio is None
        else:
            assert_positive_number(ratio)
        # Every target is defined at 10 and 1,000 exchanges (or needs the suite): none was measured.
        assert result["targets"][name] is None
    json.dumps(result)  # everything in it is JSON
    assert progress, "a long run says what it is doing"

    # One warm-up of 2 exchanges per path, then each size once per path, every exchange checked.
    for path in PATHS:
        assert [count for name, count in verified if name == path] == [2, *SIZES]


@pytest.mark.parametrize("path", PATHS)
def test_a_wrong_recorded_answer_is_caught(tmp_path, path):
    case = make_case(3)
    # Swap two recorded answers: each request still finds a response, but the other one's.
    answers = [case.answers[1], case.answers[0], case.answers[2]]
    wrong = bench_replay.Case(case.size, case.bodies, answers, case.order)
    cassette = write_cassette(tmp_path / "wrong.yaml", wrong)
    replay = {
        "project": lambda: bench_replay.time_project(cassette, wrong, Scrubber()),
        "vcrpy": lambda: bench_replay.time_vcrpy(cassette, wrong),
        "floor": lambda: bench_replay.time_floor(wrong),
    }[path]
    with pytest.raises(ReplayMismatch, match=f"{path}: the request for 'bench-[01]' got a wrong answer"):
        replay()


def test_each_path_replays_the_same_shuffled_order(tmp_path):
    case = make_case(20)
    assert sorted(body["displayName"] for body in case.order) == sorted(b["displayName"] for b in case.bodies)
    assert case.order != case.bodies
    cassette = write_cassette(tmp_path / "c.yaml", case)
    assert_positive_number(bench_replay.time_project(cassette, case, Scrubber()))
    assert_positive_number(bench_replay.time_vcrpy(cassette, case))
    assert_positive_number(bench_replay.time_floor(case))


def test_run_prints_the_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    args = parser().parse_args(["--sizes", "2,1", "--repeat", "1", "--skip-suite", "--json", str(out)])
    assert bench.run(args) == 0
    printed = capsys.readouterr().out
    assert "project" in printed
    assert "SKIP" in printed
    # The replay targets are defined at 1,000 exchanges, which this run did not measure.
    assert "not measured" in printed
    assert "MISS" not in printed
    assert "PASS" not in printed
    written = json.loads(out.read_text())
    assert written["settings"]["sizes"] == [1, 2]
    assert set(written["per_exchange_ms"]["floor"]) == {"1", "2"}


def test_suite_numbers_aggregate_runs(monkeypatch):
    walls = iter([4.0, 2.0, 5.0, 3.0, 6.0, 2.5])
    commands: list[list[str]] = []

    def fake_measure(command, cwd, interval=bench_suite.SAMPLE_SECONDS):
        commands.append(command)
        return bench_suite.Run(next(walls), 100 * 2**20 * (2 if "-n" in command else 1), "proc")

    monkeypatch.setattr(bench_suite, "measure", fake_measure)
    result = bench.benchmark((1,), repeat=1, suite=True, progress=lambda line: None)

    suite = result["suite"]
    assert suite["one_worker"]["wall_s"] == 5.0  # median of 4, 5, 6
    assert suite["two_workers"]["wall_s"] == 2.5  # median of 2, 3, 2.5
    assert suite["one_worker"]["peak_rss_mb"] == 100
    assert suite["two_workers"]["peak_rss_mb"] == 200
    assert result["ratios"]["two_workers_speedup"] == 2.0
    assert result["targets"]["two_workers_speedup"] is True
    assert [command[-2:] == ["-n", "2"] for command in commands] == [False, True] * 3
    assert all(command[1:6] == ["-m", "pytest", "conformance", "-q", "-p"] for command in commands)


@pytest.mark.skipif(not bench_suite.proc_available(), reason="sums RSS from /proc")
def test_peak_memory_sums_the_process_tree():
    # The parent stays small; only a child holds the 64 MB, so the peak must include children.
    child = "import time; block = bytearray(64 * 2**20); time.sleep(0.4)"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}], check=True)"
    run = bench_suite.measure([sys.executable, "-c", parent], ROOT)
    assert run.rss_source == "proc"
    assert run.peak_rss_bytes >= 64 * 2**20
    assert run.wall_s > 0


def test_a_failing_suite_is_reported_not_timed():
    with pytest.raises(bench_suite.SuiteError, match="exited 3: boom"):
        bench_suite.measure([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"], ROOT)


@pytest.mark.parametrize("value", ["1000, 10,1,10", "7"])
def test_sizes_accept_a_comma_list(value):
    sizes = parser().parse_args(["--sizes", value]).sizes
    assert sizes == tuple(sorted({int(part) for part in value.split(",")}))


@pytest.mark.parametrize(
    ("argv", "expected"),
    [(["10", "100"], (10, 100)), (["100", "10,1", "10"], (1, 10, 100)), (["10 100"], (10, 100))],
)
def test_sizes_accept_space_separated_values(argv, expected):
    assert parser().parse_args(["--sizes", *argv]).sizes == expected


def fake_replay(per_exchange):
    """measure_replay's shape, with the same cost at every size for each path."""
    return lambda chosen, repeat, workdir, progress: {
        path: {str(size): per_exchange[path] for size in chosen} for path in PATHS
    }


@pytest.mark.parametrize(
    ("sizes", "at_1000", "at_10_and_1000"),
    [((10, 1000), True, True), ((10, 100), False, False), ((1, 1000), True, False), ((1, 10, 100, 1000), True, True)],
)
def test_targets_at_sizes_the_run_skipped_are_not_measured_rather_than_missed(
    monkeypatch, sizes, at_1000, at_10_and_1000
):
    # vcrpy 3x slower than the project: the 20x target is a clear miss whenever it is measured.
    monkeypatch.setattr(bench, "measure_replay", fake_replay({"project": 1.0, "vcrpy": 3.0, "floor": 1.0}))
    result = bench.benchmark(sizes, repeat=1, suite=False, progress=lambda line: None)
    targets, table = result["targets"], bench.format_table(result)
    assert targets["vcrpy_over_project"] is (False if at_1000 else None)
    assert targets["project_over_floor"] is (True if at_1000 else None)
    assert targets["project_large_over_small"] is (True if at_10_and_1000 else None)
    assert targets["two_workers_speedup"] is None
    assert ("MISS" in table) is at_1000
    assert ("not measured" in table) is not at_10_and_1000


def test_defaults():
    args = parser().parse_args([])
    assert args.sizes == (1, 10, 100, 1000)
    assert args.repeat == 3
    assert args.json is None
    assert args.skip_suite is False


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--sizes", "0"], bench.SIZES_FORM),
        (["--sizes", "x"], bench.SIZES_FORM),
        (["--sizes", "1,,2"], bench.SIZES_FORM),
        (["--sizes", "-5"], bench.SIZES_FORM),
        (["--repeat", "0"], "positive integer"),
    ],
)
def test_bad_values_are_one_line_usage_errors(capsys, argv, expected):
    with pytest.raises(SystemExit) as exited:
        parser().parse_args(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1
    assert expected in errors[0]
    assert "Traceback" not in err


def test_bad_sizes_exit_2_without_a_traceback_in_a_real_process():
    code = (
        "import argparse, sys; from conformance.tools import bench; p = argparse.ArgumentParser(); "
        "bench.add_arguments(p); sys.exit(bench.run(p.parse_args(sys.argv[1:])))"
    )
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code, "--sizes", "0"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1
    assert errors[0].endswith(f"error: argument --sizes: '0' is not {bench.SIZES_FORM}")


def test_missing_dev_extras_are_named_in_one_line(monkeypatch, capsys):
    real = bench.importlib.util.find_spec
    monkeypatch.setattr(bench.importlib.util, "find_spec", lambda name: None if name == "xdist" else real(name))
    assert bench.run(parser().parse_args([])) == 2
    assert capsys.readouterr().err.strip().splitlines() == ["bench: error: needs pytest-xdist: pip install -e '.[dev]'"]


def test_an_unwritable_json_path_is_one_line_error(tmp_path, capsys):
    args = parser().parse_args(["--sizes", "1", "--repeat", "1", "--skip-suite", "--json", str(tmp_path / "no" / "x")])
    assert bench.run(args) == 1
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if "error:" in line] == [
        f"bench: error: cannot write {tmp_path / 'no' / 'x'}: No such file or directory"
    ]
