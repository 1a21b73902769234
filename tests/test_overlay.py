"""Each overlay correction holds on the committed schemas (import-spec checks it fails without)."""

from __future__ import annotations

import pytest

from conformance.contract import overlay, proofs
from conformance.contract.schemas import SCHEMA_DIR, shipped

OVERLAY = overlay.load(SCHEMA_DIR / "overlay.yaml")


@pytest.mark.parametrize("action", OVERLAY.actions, ids=[f"{a.number}: {a.description[:60]}" for a in OVERLAY.actions])
def test_each_correction_holds_on_the_committed_schemas(action):
    assert action.proof, "every correction carries a proof"
    assert proofs.holds(shipped(), action.proof) == []


def test_every_action_has_a_one_line_reason_and_a_proof():
    assert len(OVERLAY.actions) >= 20
    for action in OVERLAY.actions:
        assert action.description
        assert "\n" not in action.description
        assert action.proof


def test_the_import_recorded_this_overlay():
    assert shipped().index["overlay"]["sha256"] == OVERLAY.sha256
    assert shipped().index["overlay"]["actions"] == len(OVERLAY.actions)


def test_a_broken_proof_is_reported():
    broken = [{"schema": "components/page.json", "valid": [{"after": "a" * 24, "before": "b" * 24}]}]
    assert proofs.holds(shipped(), broken) == [
        '{"after": "aaaaaaaaaaaaaaaaaaaaaaaa", "before": "bbbbbbbbbbbbbbbbbbbbbbbb"} should be valid against '
        "components/page.json (request)"
    ]
    assert proofs.holds(shipped(), [{"operation": "GetApp", "statuses": [418]}]) == ["GetApp should document 418"]
    assert "unknown proof form" in proofs.holds(shipped(), [{"nonsense": 1}])[0]
