"""Teardown: delete what the test created, including what a cut-off create may have made.

The ledger says what the test made; teardown sends the deletes (and, for a create whose answer never
came whole, looks for the record by its tag) and strikes from the ledger what is gone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from conformance.contract.schemas import Contract, Operation, UnknownOperation
from conformance.failures import ConformanceFailure, FailureGroup
from conformance.model import Exchange, Expect
from conformance.session.ledger import Ledger, Unconfirmed

if TYPE_CHECKING:
    from conformance.checks.findings import Findings
    from conformance.contract.resources import Resource


class Send(Protocol):
    """How teardown sends a request: checked and kept like any other exchange of the test."""

    def __call__(
        self,
        operation_id: str,
        *,
        path_params: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        expect: Expect | None = None,
    ) -> Exchange: ...


class Teardown:
    """Deletes what ``ledger`` holds through ``send``; what a delete finds goes to ``findings``."""

    def __init__(self, ledger: Ledger, send: Send, findings: Findings, contract: Contract) -> None:
        self.contract = contract
        self.ledger = ledger
        self.send = send
        self.findings = findings

    def run(self) -> None:
        """Delete what the test created and did not delete itself, newest first."""
        for unconfirmed in self.ledger.drain_unconfirmed():
            self._quietly(partial(self._sweep, unconfirmed))
        for item, path in self.ledger.drain():
            self._quietly(partial(self._delete, item, path))

    def forget(self, path: str, path_for: Callable[[Operation, Mapping[str, str]], str]) -> None:
        """Forget what the ledger holds at ``path``: a broken-off DELETE most likely deleted it."""
        for item, params in list(self.ledger.entries):
            delete = item.operations.get("delete")
            if delete and path_for(self.contract.operation(delete), params) == path:
                self.ledger.forget(item, params, deleted=False)

    def _delete(self, item: Resource, path: dict[str, str]) -> None:
        """Delete one record; once it is gone (a 2xx, or 404: gone already) the run's ledger drops it."""
        op_id = item.operations.get("delete")
        if op_id is None:
            return
        if gone(self.send(op_id, path_params=path, expect=self._deleted(op_id)).status):
            self.ledger.done(item, path)

    def _deleted(self, op_id: str) -> Expect:
        """What a delete must answer: the success the contract documents for it (200 unless it says 204)."""
        documented = [s for s in self.contract.operation(op_id).documented_statuses if 200 <= s < 300]
        return Expect(min(documented) if documented else 200)

    def _quietly(self, step: Callable[[], Any]) -> None:
        """A teardown step: what it finds joins the test's failures, once."""
        try:
            step()
        except UnknownOperation:
            pass  # another release's contract lacks the delete: nothing to call (the unplayed check says so)
        except FailureGroup:
            pass  # a broken-off exchange: its failure is among the test's already
        except ConformanceFailure as failure:
            if failure not in self.findings.failures:
                self.findings.add(failure)

    def _sweep(self, unconfirmed: Unconfirmed) -> None:
        """Delete a record a cut-off create may have made: the one under its parents carrying its tag."""
        item = unconfirmed.item
        list_op, delete_op = item.operations.get("list"), item.operations.get("delete")
        if delete_op is None or item.tag_field is None:
            return
        if item.tag_field in item.alternate_ids:
            # The tag names the record in its path (a user's externalId): 200 if it was made, 404 if not.
            answer = self.send(delete_op, path_params={**unconfirmed.parents, item.id_param: unconfirmed.tag})
            if gone(answer.status):
                self.ledger.swept(unconfirmed)
            return
        if list_op is None or not unconfirmed.listable:
            return  # the ledger on disk keeps it: `cleanup` tells the user
        paged = self.contract.operation(list_op).parameter("page", "query") is not None
        query = {**unconfirmed.query, **({"page[size]": "100"} if paged else {})}
        listed = self.send(list_op, path_params=unconfirmed.parents, query=query or None, expect=Expect(200))
        records = listed.body.get(item.collection) if isinstance(listed.body, dict) else None
        for record in records or []:
            if isinstance(record, dict) and record.get(item.tag_field) == unconfirmed.tag and record.get("id"):
                path = {**unconfirmed.parents, item.id_param: str(record["id"])}
                self.ledger.found(item, path)
                if gone(self.send(delete_op, path_params=path, expect=self._deleted(delete_op)).status):
                    self.ledger.done(item, path)
        if listed.status == 200:
            self.ledger.swept(unconfirmed)


def gone(status: int) -> bool:
    """A delete's answer that means the record is no longer there: any success, or 404 (gone already)."""
    return 200 <= status < 300 or status == 404
