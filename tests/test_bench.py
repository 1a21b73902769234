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

from conformance.scrubbing.scrubber import Scrubber
from conformance.tools import bench, bench_replay, bench_scrub, bench_suite
from conformance.tools.bench_replay import PATHS, ReplayMismatch, make_case, write_cassette

ROOT = Path(__file__).resolve().parent.parent
SIZES = (1, 5)
# Small texts: the row's shape and its checks, not its speed.
SCRUB_SIZES = (100_000, 200_000)


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
    result = bench.benchmark(
        SIZES, repeat=1, suite=False, recording=False, scrub_sizes=SCRUB_SIZES, progress=progress.append
    )

    assert set(result) >= {"machine", "per_exchange_ms", "suite", "recording", "measured", "targets"}
    assert {"python", "platform", "cpu_count", "bytecode_cache", "load_average"} <= set(result["machine"])
    assert set(result["per_exchange_ms"]) == set(PATHS)
    for path in PATHS:
        assert set(result["per_exchange_ms"][path]) == {"1", "5"}
        for value in result["per_exchange_ms"][path].values():
            assert_positive_number(value)
    assert result["suite"] is None
    assert result["recording"] is None
    assert set(result["scrub"]) == {str(size) for size in SCRUB_SIZES}
    assert set(result["measured"]) == set(result["targets"]) == {target.name for target in bench.TARGETS}
    for name, figure in result["measured"].items():
        if name in ("suite_wall", "suite_cpu", "record_wall"):
            assert figure is None
        else:
            assert_positive_number(figure)
        # Every replay target is defined at 10 and 1,000 exchanges, or needs a part this run skipped;
        # the scrubber's is measured at whatever sizes the run scrubbed.
        if name != "scrub_large_over_small":
            assert result["targets"][name] is None
    json.dumps(result)  # everything in it is JSON
    assert progress, "a long run says what it is doing"

    # One warm-up of 2 exchanges per path; each size once per path, and once more (untimed) for the
    # project, which fills the cassette cache first; every exchange checked.
    assert [count for name, count in verified if name == "project"] == [2, 1, 1, 5, 5]
    for path in ("vcrpy", "floor"):
        assert [count for name, count in verified if name == path] == [2, *SIZES]


def test_the_project_path_replays_through_the_cassette_adapter_and_cache(tmp_path, monkeypatch):
    from conformance.cassettes import playback
    from conformance.cassettes.cache import CassetteCache

    sent: list[str] = []
    real = playback.CassetteAdapter.send

    def counting(self, request, *args, **kwargs):
        sent.append(request.method)
        return real(self, request, *args, **kwargs)

    monkeypatch.setattr(playback.CassetteAdapter, "send", counting)
    case = make_case(3)
    cassette = write_cassette(tmp_path / "c.yaml", case)
    cache = CassetteCache(tmp_path / "cache")
    for _ in range(2):
        assert_positive_number(bench_replay.time_project(cassette, case, Scrubber(), cache))
    assert sent == ["POST"] * 6
    assert (cache.misses, cache.hits) == (1, 1)


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
    argv = ["--sizes", "2,1", "--repeat", "1", "--skip-suite", "--skip-recording", "--skip-scrub", "--json", str(out)]
    assert bench.run(parser().parse_args(argv)) == 0
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


def fake_runs(walls, commands):
    def fake_measure(command, cwd, interval=bench_suite.SAMPLE_SECONDS, *, tree=True):
        commands.append((list(command), tree))
        wall = next(walls)
        return bench_suite.Run(wall, 100 * 2**20, "wait4" if not tree else "proc", cpu_s=wall / 2)

    return fake_measure


def test_suite_numbers_are_the_median_of_timed_runs_after_an_untimed_one(monkeypatch):
    # The first run (an empty cassette cache) and the untimed one come first, then three timed runs.
    walls = iter([9.0, 7.0, 4.0, 2.0, 5.0])
    commands: list[tuple[list[str], bool]] = []
    monkeypatch.setattr(bench_suite, "measure", fake_runs(walls, commands))
    result = bench.benchmark((1,), repeat=1, suite=True, recording=False, scrub=False, progress=lambda line: None)

    suite = result["suite"]
    assert suite["wall_s"] == 4.0  # median of 4, 2, 5
    assert suite["runs_wall_s"] == [4.0, 2.0, 5.0]
    assert suite["first_run_wall_s"] == 9.0
    assert suite["cpu_s"] == 2.0  # median of the timed runs' CPU seconds
    assert "(2.00 s of CPU)" in bench.format_table(result)
    assert suite["peak_rss_mb"] == 100
    assert result["measured"]["suite_wall"] == 4.0
    assert result["targets"]["suite_wall"] is False  # 4 s is over 3 s
    assert result["measured"]["suite_cpu"] == 2.0
    assert result["targets"]["suite_cpu"] is True  # 2 s of CPU is within 3 s
    assert suite["command"] == "python -m pytest conformance -q -p no:cacheprovider"
    assert len(commands) == 5
    assert all(command[1:6] == ["-m", "pytest", "conformance", "-q", "-p"] for command, _ in commands)
    assert all(not tree for _, tree in commands), "one process: its own peak, nothing sampling beside it"
    assert commands[0][0][-1].startswith("--cassette-cache=")
    assert all("--cassette-cache" not in " ".join(command) for command, _ in commands[1:])
    assert not any("-n" in command for command, _ in commands)


@pytest.mark.parametrize(
    ("cpu", "verdict", "shown"),
    [(2.5, "PASS", "2.50 s"), (3.4, "MISS", "3.40 s"), (None, "not measured", "-")],
)
def test_the_replay_s_cpu_seconds_are_held_to_the_three_second_target(monkeypatch, cpu, verdict, shown):
    def fake_measure(command, cwd, interval=bench_suite.SAMPLE_SECONDS, *, tree=True):
        return bench_suite.Run(9.0, 100 * 2**20, "wait4", cpu_s=cpu)

    monkeypatch.setattr(bench_suite, "measure", fake_measure)
    result = bench.benchmark((1,), repeat=1, suite=True, recording=False, scrub=False, progress=lambda line: None)
    assert result["measured"]["suite_cpu"] == cpu
    assert result["targets"]["suite_cpu"] is {"PASS": True, "MISS": False}.get(verdict)
    (line,) = [line for line in bench.format_table(result).splitlines() if "one process, CPU" in line]
    assert shown in line
    assert line.rstrip().endswith(verdict)


def test_recording_is_timed_into_a_temporary_folder_never_the_shipped_cassettes(monkeypatch):
    seen: list[list[str]] = []

    def fake_measure(command, cwd, interval=bench_suite.SAMPLE_SECONDS, *, tree=True):
        seen.append(list(command))
        folder = Path(next(arg for arg in command if arg.startswith("--cassette-dir=")).split("=", 1)[1])
        (folder / "test_x").mkdir(parents=True)
        (folder / "test_x" / "test_y.yaml").write_text("x")
        return bench_suite.Run(42.0, 300 * 2**20, "proc")

    monkeypatch.setattr(bench_suite, "measure", fake_measure)
    result = bench.benchmark((1,), repeat=1, suite=False, recording=True, scrub=False, progress=lambda line: None)
    (command,) = seen
    assert command[1:4] == ["-m", "conformance", "record-sandbox"]
    folder = Path(command[4].split("=", 1)[1])
    assert not folder.exists(), "the temporary recording is removed"
    assert ROOT / "cassettes" not in folder.parents
    assert result["recording"]["cassettes"] == 1
    assert result["measured"]["record_wall"] == 42.0
    assert result["targets"]["record_wall"] is True
    table = bench.format_table(result)
    assert "recording the suite against the sandbox, wall" in table
    assert "42.00 s" in table


def test_a_recording_that_writes_no_cassette_is_an_error_not_a_time(monkeypatch):
    monkeypatch.setattr(
        bench_suite, "measure", lambda command, cwd, interval=0, *, tree=True: bench_suite.Run(1, 1, "p")
    )
    with pytest.raises(bench_suite.SuiteError, match="wrote no cassettes"):
        bench_suite.measure_recording(ROOT, progress=lambda line: None)


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
    for tree in (True, False):
        with pytest.raises(bench_suite.SuiteError, match="exited 3: boom"):
            bench_suite.measure([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"], ROOT, tree=tree)


@pytest.mark.skipif(not hasattr(bench_suite.os, "wait4"), reason="reads a child's own peak with wait4")
def test_a_single_process_reports_its_own_peak_memory():
    run = bench_suite.measure([sys.executable, "-c", "block = bytearray(64 * 2**20)"], ROOT, tree=False)
    assert run.rss_source == "wait4"
    assert run.peak_rss_bytes >= 64 * 2**20
    assert run.cpu_s is not None
    assert run.cpu_s > 0


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
    result = bench.benchmark(sizes, repeat=1, suite=False, recording=False, scrub=False, progress=lambda line: None)
    targets, table = result["targets"], bench.format_table(result)
    assert targets["vcrpy_over_project"] is (False if at_1000 else None)
    assert targets["project_over_floor"] is (True if at_1000 else None)
    assert targets["project_large_over_small"] is (True if at_10_and_1000 else None)
    assert targets["suite_wall"] is None
    assert targets["suite_cpu"] is None
    assert targets["record_wall"] is None
    assert ("MISS" in table) is at_1000
    assert ("not measured" in table) is not at_10_and_1000


@pytest.mark.parametrize(("project", "met"), [(1.4, True), (1.6, False)])
def test_the_replay_target_is_within_one_and_a_half_times_the_floor(monkeypatch, project, met):
    monkeypatch.setattr(bench, "measure_replay", fake_replay({"project": project, "vcrpy": 100.0, "floor": 1.0}))
    result = bench.benchmark(
        (10, 1000), repeat=1, suite=False, recording=False, scrub=False, progress=lambda line: None
    )
    assert result["targets"]["project_over_floor"] is met


def test_defaults():
    args = parser().parse_args([])
    assert args.sizes == (1, 10, 100, 1000)
    assert args.repeat == 3
    assert args.json is None
    assert args.skip_suite is False
    assert args.skip_recording is False


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
    monkeypatch.setattr(bench.importlib.util, "find_spec", lambda name: None if name == "responses" else real(name))
    assert bench.run(parser().parse_args([])) == 2
    assert capsys.readouterr().err.strip().splitlines() == ["bench: error: needs responses: pip install -e '.[dev]'"]


def test_an_unwritable_json_path_is_one_line_error(tmp_path, capsys):
    argv = [
        "--sizes",
        "1",
        "--repeat",
        "1",
        "--skip-suite",
        "--skip-recording",
        "--skip-scrub",
        "--json",
        str(tmp_path / "no" / "x"),
    ]
    args = parser().parse_args(argv)
    assert bench.run(args) == 1
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if "error:" in line] == [
        f"bench: error: cannot write {tmp_path / 'no' / 'x'}: No such file or directory"
    ]


def test_the_table_prints_the_scrubber_row_at_both_sizes_side_by_side():
    result = bench.benchmark((1,), repeat=1, suite=False, recording=False, scrub_sizes=SCRUB_SIZES, progress=print)
    (row,) = [line for line in bench.format_table(result).splitlines() if line.startswith("Scrubber on large texts")]
    assert "0.1 MB in " in row
    assert "0.2 MB in " in row
    assert row.count("MB/s") == 2
    assert "per MB at 0.2 MB / at 0.1 MB: " in row
    assert "scrub per MB at 0.2 MB / at 0.1 MB" in bench.format_table(result)
    assert result["targets"]["scrub_large_over_small"] is not None


@pytest.mark.parametrize(("large_seconds", "met"), [(10.0, True), (40.0, False)])
def test_the_scrub_target_is_a_cost_per_mb_that_does_not_grow_with_the_text(monkeypatch, large_seconds, met):
    # 1 s at 1 MB: 10 s at 10 MB is linear, 40 s is not.
    figures = {"1000000": {"seconds": 1.0, "mb_per_s": 1.0}, "10000000": {"seconds": large_seconds, "mb_per_s": 1.0}}
    monkeypatch.setattr(bench, "measure_scrub", lambda sizes, repeat, progress: figures)
    result = bench.benchmark((1,), repeat=1, suite=False, recording=False, progress=lambda line: None)
    assert result["targets"]["scrub_large_over_small"] is met
    assert ("MISS" in bench.format_table(result)) is not met


def test_a_scrubber_that_leaves_a_secret_fails_the_bench_in_one_line(monkeypatch, capsys):
    monkeypatch.setattr(bench_scrub.Scrubber, "text", lambda self, text: text)
    with pytest.raises(bench_scrub.ScrubMismatch, match="planted secret"):
        bench.benchmark((1,), repeat=1, suite=False, recording=False, scrub_sizes=SCRUB_SIZES, progress=print)

    def survived(*args: object, **kwargs: object) -> None:
        raise bench_scrub.ScrubMismatch("scrub: 3 planted secret(s) survived the scrubber")

    monkeypatch.setattr(bench, "benchmark", survived)
    assert bench.run(parser().parse_args(["--sizes", "1", "--repeat", "1"])) == 1
    assert "bench: error: scrub: 3 planted secret(s) survived the scrubber" in capsys.readouterr().err
