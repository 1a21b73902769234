"""``python -m conformance lint-spec``: exit codes, terminal grouping, --json and --markdown, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.__main__ import main
from conformance.contract.lint import KINDS

PROJECT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "lint"

TWO_KINDS = """\
openapi: 3.0.3
info: {title: two kinds, version: "2"}
servers:
  - url: https://{tenant}.example.test
paths:
  /things:
    get:
      operationId: listThings
      responses:
        "200": {description: ok}
"""


def lint_spec(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["lint-spec", *map(str, args)])
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(err: str, *fragments: str) -> None:
    assert err.count("\n") == 1, err
    assert err.startswith("lint-spec: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


def test_a_clean_spec_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = lint_spec(capsys, FIXTURES / "clean.yaml")
    assert (status, out, err) == (0, "no defects found\n", "")


def test_defects_exit_1_grouped_by_kind_with_a_count_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    spec = tmp_path / "two.yaml"
    spec.write_text(TWO_KINDS, encoding="utf-8")
    status, out, _ = lint_spec(capsys, spec)
    assert status == 1
    headings = [line for line in out.splitlines() if line and not line.startswith(" ")]
    assert headings == [
        f"no-error-status: {KINDS['no-error-status']} (1)",
        f"undefined-server-variable: {KINDS['undefined-server-variable']} (1)",
        "2 defects: 1 no-error-status, 1 undefined-server-variable",
    ]
    assert (
        "  GET /things (listThings) documents no error status, only 200\n      at /paths/~1things/get/responses\n"
        in out
    )
    assert '      undefined: ["tenant"]\n' in out


def test_json_and_markdown_outputs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    report, notes = tmp_path / "lint.json", tmp_path / "lint.md"
    status, _, _ = lint_spec(capsys, FIXTURES / "ambiguous-oneof.yaml", "--json", report, "--markdown", notes)
    assert status == 1
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["spec"]["file"] == "ambiguous-oneof.yaml"
    assert data["counts"] == {kind: (4 if kind == "ambiguous-oneof" else 0) for kind in KINDS}
    pickup = next(d for d in data["defects"] if d["location"] == "/components/schemas/pickup/oneOf")
    assert pickup["kind"] == "ambiguous-oneof"
    assert pickup["evidence"]["body"] == {"lockerId": "x"}
    assert pickup["title"].startswith("pickup: the body")
    text = notes.read_text(encoding="utf-8")
    assert text.startswith("# Contract defects in ambiguous-oneof.yaml (1.0.0)\n")
    assert f"## {KINDS['ambiguous-oneof']} (4)" in text
    for defect in data["defects"]:
        assert f"  - at `{defect['location']}`" in text
    assert '  - body: `{"lockerId": "x"}`' in text


def test_json_for_a_clean_spec_lists_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    report = tmp_path / "lint.json"
    assert lint_spec(capsys, FIXTURES / "clean.yaml", "--json", report)[0] == 0
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["defects"] == []
    assert set(data["counts"].values()) == {0}


def test_a_missing_file_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, out, err = lint_spec(capsys, tmp_path / "nowhere.yaml")
    assert (status, out) == (2, "")
    assert_one_line_error(err, "nowhere.yaml", "cannot be read")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('swagger: "2.0"\ninfo: {title: old, version: "1"}\npaths: {}\n', "not an OpenAPI 3.x document (swagger: 2.0)"),
        ("- just\n- a list\n", "does not hold a mapping"),
        ("openapi: 3.0.3\npaths: [\n", "neither YAML nor JSON"),
    ],
    ids=["swagger-2", "a-list", "broken-yaml"],
)
def test_a_file_that_is_not_openapi_3_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, fragment: str
) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    status, out, err = lint_spec(capsys, spec)
    assert (status, out) == (2, "")
    assert_one_line_error(err, fragment)


def test_an_unresolvable_ref_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        TWO_KINDS.replace('"200": {description: ok}', '"200": {$ref: "#/components/responses/missing"}'),
        encoding="utf-8",
    )
    status, out, err = lint_spec(capsys, spec)
    assert (status, out) == (2, "")
    assert_one_line_error(err, "#/components/responses/missing", "cannot be resolved")


def test_an_unwritable_output_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = lint_spec(capsys, FIXTURES / "clean.yaml", "--markdown", tmp_path)
    assert status == 2
    assert_one_line_error(err, f"cannot write {tmp_path}")


def test_the_command_line_entry_point(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "conformance", "lint-spec", *args]
        return subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=60)  # noqa: S603

    found = run(str(FIXTURES / "required-not-a-list.yaml"))
    assert found.returncode == 1
    assert found.stdout.endswith("3 defects: 3 required-not-a-list\n")
    missing = run(str(tmp_path / "nowhere.yaml"))
    assert missing.returncode == 2
    assert missing.stdout == ""
    assert_one_line_error(missing.stderr, "nowhere.yaml")
