"""Cursor-paged lists: which operations the contract pages, and one walk that checks every page.

A list is paged when its query declares ``page`` with ``after``/``before``/``size`` members. A walk
follows ``meta.afterCursor`` (or ``beforeCursor``) and holds each page to what the contract says
of paging: no more items than ``page[size]``, a cursor whenever ``hasMore`` is true, and ``links``
that lead to the same list, with its filters, from the same cursor; and at the end of a list no way
to a next page. A test that
pages an operation says so with :func:`pages`; ``tests/test_paging_coverage.py`` holds every paged
operation of the contract to at least one such test.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

from conformance.contract.schemas import Contract, shipped
from conformance.model import Exchange, Expect
from conformance.session.session import ConformanceSession

PAGE_MEMBERS = ("after", "before", "size")
MAX_PAGES = 50  # bounded: a live app may hold many records
# The page size a paging test asks for: small, so that a few records make several pages.
PAGE_SIZE = 2
# The attribute a paging test carries: the operations it pages.
PAGES_ATTRIBUTE = "pages_operations"

F = TypeVar("F", bound=Callable[..., Any])


def paged_lists(contract: Contract | None = None) -> dict[str, frozenset[str]]:
    """operationId -> the page members (after, before, size) its query declares, for every paged list
    of ``contract`` (the shipped one if none is given)."""
    return _paged_lists(contract or shipped())


@cache
def _paged_lists(contract: Contract) -> dict[str, frozenset[str]]:
    found: dict[str, frozenset[str]] = {}
    for op_id, op in contract.operations.items():
        if op.query is None or op.parameter("page", "query") is None:
            continue
        page = contract.property_schema(op.query, "page")
        members = frozenset(PAGE_MEMBERS) & set(page.get("properties") or {})
        if members:
            found[op_id] = members
    return found


def pages(*operation_ids: str) -> Callable[[F], F]:
    """Mark a test as paging these list operations (forwards and backwards, with a bounded size)."""

    def mark(test: F) -> F:
        setattr(test, PAGES_ATTRIBUTE, (*getattr(test, PAGES_ATTRIBUTE, ()), *operation_ids))
        return test

    return mark


def _items(exchange: Exchange, collection: str) -> list[dict[str, Any]]:
    body = exchange.body if isinstance(exchange.body, dict) else {}
    return [item for item in body.get(collection) or [] if isinstance(item, dict)]


@dataclass(frozen=True)
class Walk:
    """What a walk through a list saw: the ``key`` of every item, in list order, and its pages in the
    order they were asked for."""

    ids: list[str]
    pages: list[Exchange]

    @property
    def last(self) -> Exchange:
        """The last page asked for: where a finding about the whole walk points."""
        return self.pages[-1]


def walk_pages(
    sunco: ConformanceSession,
    operation_id: str,
    path_params: Mapping[str, str],
    collection: str,
    query: Mapping[str, str],
    *,
    direction: str = "after",
    start: str | None = None,
    key: str = "id",
) -> Walk:
    """Every item a list shows, following its cursors, each page held to the paging rules.

    Forwards from the first page (or from a ``page[after]`` in ``query``), or (``direction="before"``)
    backwards from the list's default page, or from ``start``, which is then the last id of the
    result. A list the contract does not page is read once."""
    paged = operation_id in paged_lists(sunco.contract)
    current = dict(query)
    if direction == "before" and start is not None:
        current["page[before]"] = start
    seen: list[str] = [start] if direction == "before" and start is not None else []
    pages: list[Exchange] = []
    for _ in range(MAX_PAGES):
        page = sunco.call(operation_id, path_params=dict(path_params), query=current or None, expect=Expect(200))
        pages.append(page)
        items = _items(page, collection)
        found = [str(item.get(key)) for item in items]
        seen = [*found, *seen] if direction == "before" else [*seen, *found]
        if not paged:
            break
        cursor = check_page(sunco, page, collection, current, direction)
        if cursor is None:
            break
        current = {**query, f"page[{direction}]": cursor}
    return Walk(seen, pages)


def check_page(
    sunco: ConformanceSession, page: Exchange, collection: str, sent: Mapping[str, str], direction: str
) -> str | None:
    """Hold one page to the paging rules; the cursor to the next page, or None at the end."""
    items = _items(page, collection)
    size = sent.get("page[size]")
    if size is not None and size.isdigit():
        sunco.expect_state(
            page,
            len(items) <= int(size),
            title="returned more than page[size] items.",
            pointer=f"/{collection}",
            rule="page[size] bounds the page",
            expected=f"at most {size}",
            actual=len(items),
        )
    body = page.body if isinstance(page.body, dict) else {}
    meta: dict[str, Any] = body["meta"] if isinstance(body.get("meta"), dict) else {}
    cursor_name = "beforeCursor" if direction == "before" else "afterCursor"
    cursor = meta.get(cursor_name)
    link_name = "prev" if direction == "before" else "next"
    links: dict[str, Any] = body["links"] if isinstance(body.get("links"), dict) else {}
    if meta.get("hasMore") is not True:
        if direction == "after":
            # The contract: no afterCursor and no next link when there are no subsequent pages.
            sunco.expect_state(
                page,
                cursor is None and links.get("next") is None,
                title=f"said there are no more {collection} (hasMore false) but still gave a way to a next page.",
                pointer="/meta/afterCursor" if cursor is not None else "/links/next",
                rule="afterCursor and links.next are left out when there are no subsequent pages",
                expected="neither",
                actual={"afterCursor": cursor, "next": links.get("next")},
            )
        return None
    sunco.expect_state(
        page,
        isinstance(cursor, str) and bool(cursor),
        title=f"said there are more {collection} (hasMore) but gave no {cursor_name} to reach them.",
        pointer=f"/meta/{cursor_name}",
        rule=f"a page with hasMore true carries meta.{cursor_name}",
        expected="a cursor",
        actual=cursor,
    )
    link = links.get(link_name)
    if isinstance(link, str) and isinstance(cursor, str):
        wrong = link_problems(link, page.url, sent, f"page[{direction}]", cursor)
        sunco.expect_state(
            page,
            not wrong,
            title=f"gave a links.{link_name} that does not lead to the page meta.{cursor_name} names.",
            pointer=f"/links/{link_name}",
            rule="a page link names the same list, with its filters and the page's cursor",
            expected={"path": urlsplit(page.url).path, f"page[{direction}]": cursor, **_kept(sent)},
            actual=wrong,
        )
    return cursor if isinstance(cursor, str) and cursor else None


def _kept(sent: Mapping[str, str]) -> dict[str, str]:
    """What a link must repeat of a request: its filters (a link without them leads to another list).

    Not ``page[size]``: the vendor's own example links leave it out."""
    return {name: value for name, value in sent.items() if name.startswith("filter[")}


def _api_path(path: str) -> str:
    """A path from its ``/v2/`` on: a link may name the API under another host and prefix (``/sc``)."""
    at = path.find("/v2/")
    return path[at:] if at >= 0 else path


def link_problems(link: str, url: str, sent: Mapping[str, str], cursor_param: str, cursor: str) -> dict[str, Any]:
    """How a page link differs from the request it should repeat (empty when it leads where it should)."""
    parts = urlsplit(link)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    wrong: dict[str, Any] = {}
    if parts.path and _api_path(parts.path) != _api_path(urlsplit(url).path):
        wrong["path"] = parts.path
    if query.get(cursor_param) != cursor:
        wrong[cursor_param] = query.get(cursor_param)
    for name, value in _kept(sent).items():
        if query.get(name) != value:
            wrong[name] = query.get(name)
    return wrong


def check_cover(sunco: ConformanceSession, walk: Walk, ours: Collection[str], collection: str, what: str) -> list[str]:
    """Every record the test made shows exactly once, and no item shows twice; ours, in list order."""
    seen = walk.ids
    mine = [found for found in seen if found in ours]
    repeated = sorted({found for found in seen if seen.count(found) > 1})
    sunco.expect_state(
        walk.last,
        sorted(mine) == sorted(ours) and not repeated,
        title=f"paging {what} missed or repeated {collection}.",
        pointer=f"/{collection}",
        rule="cursor pages cover every record exactly once",
        expected=sorted(ours),
        actual={"seen": mine, "repeated": repeated},
    )
    return mine
