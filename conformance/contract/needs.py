"""Which operations a test needs, so a contract that lacks one (another release) skips it at collection.

A generated test names the operations of its resource it calls (:func:`uses`); the plugin marks it
skipped, with one line naming the operation and the contract's version, when the run's contract
lacks one. A test that calls such an operation without saying so is skipped when it calls it (the
contract raises :class:`~conformance.contract.schemas.UnknownOperation`, which the plugin turns into the
same skip).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from conformance.contract.schemas import Contract, UnknownOperation

ATTRIBUTE = "conformance_operations"
F = TypeVar("F", bound=Callable[..., Any])


def uses(*operation_ids: str) -> Callable[[F], F]:
    """Mark a test as calling these operations."""

    def mark(test: F) -> F:
        setattr(test, ATTRIBUTE, (*getattr(test, ATTRIBUTE, ()), *operation_ids))
        return test

    return mark


def absent(test: Any, contract: Contract) -> str | None:
    """The one line a test is skipped with when ``contract`` lacks an operation it uses; None when it has all."""
    known = contract.operations
    for operation_id in getattr(test, ATTRIBUTE, ()):
        if operation_id not in known:
            return UnknownOperation(operation_id, contract.version, known).absent
    return None
