"""The Markdown summary says what the terminal says: undocumented statuses, exercised operations, and
for each failure its cassette and next step."""

from __future__ import annotations

from conformance.report.summary import Summary


def verdict(operation: str, status: int, *, ok: bool = True, documented: bool = True, expected: bool = True) -> dict:
    failures = (
        []
        if ok
        else [
            {
                "kind": "schema",
                "operation": operation,
                "status": status,
                "pointer": "/integration/status",
                "rule": "enum",
                "expected": ["active"],
                "actual": "enabled",
                "cassette": "cassettes/test_integrations/test_integration_lifecycle.yaml",
                "next_step": "re-record this test: pytest … --record-mode=rewrite",
            }
        ]
    )
    return {
        "operation": operation,
        "status": status,
        "variant": None,
        "ok": ok,
        "documented": documented,
        "expected": expected,
        "failures": failures,
        "test": "conformance/suites/test_integrations.py::test_integration_lifecycle",
    }


def summary_with(tmp_path, verdicts: list[dict]) -> Summary:
    summary = Summary(None, recording=False, cassette_root=tmp_path)  # type: ignore[arg-type]
    summary.tests = {"conformance/suites/test_integrations.py::test_integration_lifecycle": "failed"}
    summary.verdicts = verdicts
    return summary


def test_the_markdown_summary_carries_the_terminals_status_and_coverage_lines(tmp_path):
    summary = summary_with(
        tmp_path,
        [
            verdict("CreateIntegration", 401, documented=False, expected=True),
            verdict("UpdateIntegration", 400, documented=False, expected=False),
            verdict("GetIntegration", 200),
        ],
    )
    text = summary.markdown()
    terminal = summary.lines()
    said = [line for line in terminal if line.startswith(("statuses the documentation", "operations this run"))]
    assert len(said) == 3
    for line in said:
        assert f"- {line}" in text


def test_the_markdown_failures_table_names_the_cassette_and_the_next_step(tmp_path):
    text = summary_with(tmp_path, [verdict("GetIntegration", 200, ok=False)]).markdown()
    header = "| test | operation | status | pointer | rule | expected | actual | cassette | next step |"
    assert header in text
    row = next(line for line in text.splitlines() if line.startswith("| `conformance/suites/"))
    assert "`cassettes/test_integrations/test_integration_lifecycle.yaml`" in row
    assert row.endswith("| re-record this test: pytest … --record-mode=rewrite |")
