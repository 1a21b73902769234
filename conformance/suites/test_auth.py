"""Credentials: every operation that the contract marks authenticated refuses a request without them."""

from __future__ import annotations

import re

from hypothesis import strategies as st

from conformance.core.model import Expect, Variant
from conformance.core.session import ConformanceSession
from conformance.core.strategies import hex_id
from conformance.spec.schemas import contract

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _unauthenticated() -> st.SearchStrategy[list[Variant]]:
    """One request per authenticated operation, with made-up ids: credentials are checked first."""
    ops = sorted((op for op in contract().operations.values() if op.authenticated), key=lambda op: op.operation_id)
    ids = st.lists(hex_id(), min_size=len(ops), max_size=len(ops))
    return ids.map(
        lambda drawn: [
            Variant(
                f"{op.operation_id} without credentials",
                None,
                Expect(401, "unauthorized"),
                params={"path": {name: drawn[n] for name in _PARAM.findall(op.path) if name != "appId"}},
            )
            for n, op in enumerate(ops)
        ]
    )


def test_every_authenticated_operation_requires_credentials(sunco: ConformanceSession) -> None:
    ops = sorted(op.operation_id for op in contract().operations.values() if op.authenticated)
    for op_id, variant in zip(ops, sunco.variants("no-credentials", _unauthenticated(), len(ops)), strict=True):
        sunco.call(op_id, variant=variant, authenticate=False)
    sunco.finish()
