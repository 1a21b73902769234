"""The shipped cassettes replayed against another release's contract (``--schema-dir``).

Each contract here is the project's ``schemas/`` copied and changed the way a release changes it:
an operation gone, a query parameter newly required. A test that calls an operation the contract
lacks is skipped with one line naming the operation and the contract's version (a generated test
at collection, a hand-written one when it calls it); a replayed request that lacks a parameter the
contract now requires fails, naming the test and the command that re-records it; everything else
replays and passes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conformance.contract.schemas import SCHEMA_DIR

PROJECT = Path(__file__).resolve().parent.parent
APPS = "conformance/suites/test_apps.py"
NO_CREDENTIALS = "conformance/suites/test_auth.py::test_every_authenticated_operation_requires_credentials"
VERSION = "17.99.0"


def contract_with(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    folder = tmp_path / "schemas-next"
    shutil.copytree(SCHEMA_DIR, folder)
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    index["source"]["version"] = VERSION
    change(index)
    (folder / "index.json").write_text(json.dumps(index, indent=2), encoding="utf-8")
    return folder


def replay(tmp_path: Path, schemas: Path, *targets: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    report = tmp_path / "report.json"
    markdown = tmp_path / "report.md"
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [
            sys.executable,
            "-m",
            "pytest",
            *targets,
            f"--schema-dir={schemas}",
            f"--conformance-report={report}",
            f"--conformance-markdown={markdown}",
            "-p",
            "no:cacheprovider",
            "-q",
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result, json.loads(report.read_text(encoding="utf-8"))


def test_a_contract_without_an_operation_skips_the_tests_that_call_it_in_one_line(tmp_path):
    schemas = contract_with(tmp_path, lambda index: index["operations"].pop("ListAppKeys"))
    result, report = replay(tmp_path, schemas, APPS, NO_CREDENTIALS)
    line = f"the contract (spec {VERSION}) has no operation ListAppKeys"
    skipped = {test.rsplit("::", 1)[-1] for test, outcome in report["tests"].items() if outcome == "skipped"}
    # the generated lifecycle (at collection) and the hand-written credentials test (when it calls it)
    assert skipped == {"test_app_key_lifecycle", "test_every_authenticated_operation_requires_credentials"}
    assert {report["notRun"][test] for test in report["notRun"]} == {line}
    assert f"{line} (2): test_app_key_lifecycle, test_every_authenticated_operation_requires_credentials" in (
        result.stdout
    )
    # The credentials test still sent and judged every other operation before it was skipped.
    judged = {v["operation"]: v["ok"] for v in report["verdicts"] if v["test"] == NO_CREDENTIALS}
    index = json.loads((schemas / "index.json").read_text(encoding="utf-8"))
    authenticated = {op_id for op_id, op in index["operations"].items() if any(op["security"])}
    assert set(judged) == authenticated
    assert all(judged.values())
    others = {test: outcome for test, outcome in report["tests"].items() if outcome != "skipped"}
    assert others, result.stdout
    assert set(others.values()) == {"passed"}, result.stdout[-3000:]
    assert "KeyError" not in result.stdout
    assert "object at 0x" not in result.stdout
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert f"conformance tests: {len(others)} passed, 0 failed, 2 skipped" in markdown
    assert f"| `{NO_CREDENTIALS}` | {line} |" in markdown


def test_a_contract_requiring_a_new_query_parameter_names_the_tests_to_re_record(tmp_path):
    def brand_required(index: dict[str, Any]) -> None:
        parameter = {"name": "brandId", "in": "query", "required": True, "style": "form", "explode": True}
        index["operations"]["GetApp"]["parameters"].append(parameter)

    schemas = contract_with(tmp_path, brand_required)
    result, report = replay(tmp_path, schemas, APPS)
    failed = {test for test, outcome in report["tests"].items() if outcome == "failed"}
    # The lifecycle reads the app it made: a GetApp meant to succeed, recorded without brandId.
    assert f"{APPS}::test_app_lifecycle" in failed
    broken = [v for v in report["verdicts"] if not v["ok"]]
    assert not broken, "the answers still conform: only the requests are outdated"
    for test in failed:
        assert f"pytest {test} --record-mode=rewrite" in result.stdout
    title = (
        "GetApp (GET /v2/apps/{appId}) is replayed without the query parameter brandId, "
        f"which the contract (spec {VERSION}) requires."
    )
    assert title in result.stdout
    assert "query parameter(s) brandId" in result.stdout
    # A GetApp meant to be refused (an unknown app: 404) may leave it out: that test still passes.
    assert report["tests"][f"{APPS}::test_get_app_returns_404_for_unknown_id"] == "passed"
