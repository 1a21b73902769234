"""The session's parts stand alone: none reaches the session through its imports, each works without it."""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from conformance.checks.findings import Findings
from conformance.contract.resources import resource
from conformance.contract.schemas import shipped
from conformance.failures import StateMismatch
from conformance.model import Exchange, Expect
from conformance.session.ledger import Ledger
from conformance.session.teardown import Teardown, gone

PACKAGE = Path(__file__).resolve().parent.parent / "conformance"
SESSION = "conformance.session.session"
# Each part of the session, by module.
PARTS = [
    "conformance.variants.pins",
    "conformance.variants.resend",
    "conformance.checks.findings",
    "conformance.session.skips",
    "conformance.session.ledger",
    "conformance.session.teardown",
    "conformance.deliveries.inbox",
]


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(path: Path, modules: Mapping[str, Path]) -> set[str]:
    """The project's modules ``path`` imports anywhere in it: at module level, in functions, for typing."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return {name for name in names if name in modules}


def _reached(start: str, modules: Mapping[str, Path]) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += _imports(modules[name], modules)
    return seen - {start}


@pytest.mark.parametrize("part", PARTS)
def test_session_part_does_not_import_the_session(part: str) -> None:
    modules = _modules()
    reached = _reached(part, modules)
    assert SESSION not in reached, f"{part} reaches {SESSION} through its imports: an import cycle"


def _answer(operation_id: str, status: int, body: Any = None) -> Exchange:
    op = shipped().operation(operation_id)
    return Exchange(op, op.method, "http://x", op.path, None, status, {"Content-Type": "application/json"},
                    json.dumps(body), body=body, body_is_json=True, contract=shipped())  # fmt: skip


def test_teardown_deletes_what_the_ledger_holds_newest_first_and_keeps_a_failure_once() -> None:
    integration = resource("integration")
    ledger = Ledger()
    ledger.add(integration, {"integrationId": "first"})
    ledger.add(integration, {"integrationId": "second"})
    findings = Findings("t.yaml", "re-record")
    failure = StateMismatch(operation="DeleteIntegration", method="DELETE", path="/p", title="t", rule="r")
    findings.add(failure)
    sent: list[tuple[str, dict[str, str]]] = []

    def send(
        operation_id: str,
        *,
        path_params: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        expect: Expect | None = None,
    ) -> Exchange:
        sent.append((operation_id, dict(path_params or {})))
        if (path_params or {}).get("integrationId") == "first":
            raise failure  # already among the findings: kept once
        return _answer(operation_id, 200, {})

    Teardown(ledger, send, findings, shipped()).run()
    assert sent == [
        ("DeleteIntegration", {"integrationId": "second"}),
        ("DeleteIntegration", {"integrationId": "first"}),
    ]
    assert findings.failures == [failure]
    assert ledger.entries == []


def test_findings_mark_the_last_verdict_failed_with_a_state_failure() -> None:
    findings = Findings("t.yaml", "re-record: pytest t")
    findings.keep(_answer("ListApps", 200, {"apps": []}), None, [], Expect(200))
    failure = StateMismatch(operation="ListApps", method="GET", path="/v2/apps", title="t", rule="r")
    findings.fail(failure, verdict=True)
    (verdict,) = findings.verdicts
    assert not verdict.ok
    assert verdict.failures == [failure.as_dict()]
    assert failure.cassette == "t.yaml"
    assert findings.exchanges == 1


@pytest.mark.parametrize(("status", "deleted"), [(200, True), (202, True), (204, True), (404, True),
                                                 (400, False), (401, False), (409, False), (500, False)])  # fmt: skip
def test_teardown_counts_any_success_or_404_of_a_delete_as_gone(status: int, deleted: bool) -> None:
    assert gone(status) is deleted
