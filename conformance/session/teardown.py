"""A session's teardown: delete what the test created, including what a cut-off create may have made.

Part of :class:`conformance.session.session.ConformanceSession`, kept apart to keep that module small.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from conformance.contract.resources import Resource
from conformance.contract.schemas import UnknownOperation
from conformance.failures import ConformanceFailure, FailureGroup
from conformance.model import Expect
from conformance.session.ledger import Unconfirmed

if TYPE_CHECKING:
    from conformance.session.session import ConformanceSession


def cleanup(session: ConformanceSession) -> None:
    """Delete what the test created and did not delete itself, newest first."""
    if session._inbox is not None:
        session._inbox.close()
    for unconfirmed in session.ledger.drain_unconfirmed():
        quietly(session, partial(sweep, session, unconfirmed))
    for item, path in session.ledger.drain():
        quietly(session, partial(delete, session, item, path))


def delete(session: ConformanceSession, item: Resource, path: dict[str, str]) -> None:
    """Delete one record the test made; once it is gone (200, or 404: gone already) the run's ledger drops it."""
    op_id = item.operations.get("delete")
    if op_id is None:
        return
    if session.call(op_id, path_params=path, expect=Expect(200)).status in (200, 404):
        session.ledger.done(item, path)


def quietly(session: ConformanceSession, step: Callable[[], Any]) -> None:
    """A teardown step: what it finds joins the test's failures, once."""
    try:
        step()
    except UnknownOperation:
        pass  # another release's contract lacks the delete: nothing to call (the unplayed check says so)
    except FailureGroup:
        pass  # a broken-off exchange: its failure is among the session's already
    except ConformanceFailure as failure:
        if failure not in session.failures:
            session.failures.append(failure)


def sweep(session: ConformanceSession, unconfirmed: Unconfirmed) -> None:
    """Delete a record a cut-off create may have made: the one under its parents carrying its tag."""
    item = unconfirmed.item
    list_op, delete_op = item.operations.get("list"), item.operations.get("delete")
    if delete_op is None or item.tag_field is None:
        return
    if item.tag_field in item.alternate_ids:
        # The tag names the record in its path (a user's externalId): 200 if it was made, 404 if not.
        answer = session.call(delete_op, path_params={**unconfirmed.parents, item.id_param: unconfirmed.tag})
        if answer.status in (200, 404):
            session.ledger.swept(unconfirmed)
        return
    if list_op is None or not unconfirmed.listable:
        return  # the ledger on disk keeps it: `cleanup` tells the user
    paged = session.contract.operation(list_op).parameter("page", "query") is not None
    query = {**unconfirmed.query, **({"page[size]": "100"} if paged else {})}
    listed = session.call(list_op, path_params=unconfirmed.parents, query=query or None, expect=Expect(200))
    records = listed.body.get(item.collection) if isinstance(listed.body, dict) else None
    for record in records or []:
        if isinstance(record, dict) and record.get(item.tag_field) == unconfirmed.tag and record.get("id"):
            path = {**unconfirmed.parents, item.id_param: str(record["id"])}
            session.ledger.found(item, path)
            if session.call(delete_op, path_params=path, expect=Expect(200)).status in (200, 404):
                session.ledger.done(item, path)
    if listed.status == 200:
        session.ledger.swept(unconfirmed)


def forget(session: ConformanceSession, path: str) -> None:
    """Forget what the ledger holds at ``path``: a broken-off DELETE most likely deleted it."""
    for item, params in list(session.ledger.entries):
        delete = item.operations.get("delete")
        if delete and session.client.path_for(session.contract.operation(delete), params) == path:
            session.ledger.forget(item, params, deleted=False)
