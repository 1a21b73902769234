"""Every command's usage errors: one line on stderr, exit status 2, the allowed values where there are some."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from run_support import clean_env

from conformance.__main__ import COMMANDS, PROG, main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    try:
        status = main(argv)
    except SystemExit as stop:
        status = stop.code if isinstance(stop.code, int) else 1
    captured = capsys.readouterr()
    return status, captured.err.strip().splitlines(), captured.out


@pytest.mark.parametrize("command", [name for name, _, _ in COMMANDS])
def test_each_command_rejects_an_unknown_option_in_one_line(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, err, out = run([command, "--no-such-option"], capsys)
    assert status == 2
    # Commands with required arguments name those first; either way it is one line.
    assert len(err) == 1, err
    assert err[0].startswith(f"{PROG} {command}: error: ")
    assert err[0].endswith(f"(see {PROG} {command} --help)")
    assert "usage:" not in out


@pytest.mark.parametrize(
    ("argv", "allowed"),
    [
        (["record-sandbox", "--auth", "foo"], "(choose from 'basic', 'jwt')"),
        (["coverage", "--min", "x"], "invalid float value: 'x'"),
        (["drift"], "the following arguments are required: baseline, candidate"),
    ],
)
def test_a_bad_value_names_what_is_allowed_in_one_line(
    argv: list[str], allowed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err, _ = run(argv, capsys)
    assert status == 2
    assert len(err) == 1
    assert allowed in err[0]
    assert err[0].startswith(f"{PROG} {argv[0]}: error: ")


def test_no_command_lists_the_commands_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    status, err, out = run([], capsys)
    assert status == 2
    assert err == [f"{PROG}: error: name a command: {', '.join(n for n, _, _ in COMMANDS)} (see {PROG} --help)"]
    assert out == ""


def test_help_lists_every_command_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    status, err, out = run(["--help"], capsys)
    assert status == 0
    assert err == []
    assert all(f"  {name} " in out for name, _, _ in COMMANDS)


@pytest.mark.parametrize("argv", [["--help"], ["drift", "--help"], ["sandbox", "--help"]])
def test_help_into_a_closed_pipe_exits_quietly(argv: list[str]) -> None:
    # `sunco-conformance --help | head -3`: the reader is gone before the help is written. The read end is
    # closed before the child starts, so the write fails every time, whatever the machine's speed.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "conformance", *argv],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(),
            check=False,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert "Traceback" not in done.stderr
    assert "BrokenPipeError" not in done.stderr
    assert done.returncode == 0
