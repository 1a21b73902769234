"""In-memory records, kept in insertion order, and the API's cursor pagination over them."""

from __future__ import annotations

import bisect
import copy
import random
import secrets
import threading
import time
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import urlencode

from conformance.sandbox.errors import bad_request

Record = dict[str, Any]

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
# Where a seeded sandbox's clock starts, so re-recorded times do not change.
SEEDED_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
PAGE_SIZE_TITLE = f"page[size] must be an integer from 1 to {MAX_PAGE_SIZE}"
# Titles for the generic query validation of any paginated operation, keyed by JSON pointer.
PAGE_TITLES = {
    "/page[size]": PAGE_SIZE_TITLE,
    "/page[after]": "page[after] must be a record id",
    "/page[before]": "page[before] must be a record id",
}


def new_id() -> str:
    """A record id shaped like the API's: 24 lowercase hexadecimal characters."""
    return secrets.token_hex(12)


class Scope:
    """Which test the request being answered comes from (``X-Conformance-Test``), per thread.

    A seeded sandbox draws ids, secrets and times from one stream per scope, so a test's recording
    is the same whether it runs alone or after other tests. Requests without one share the run's stream.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def current(self) -> str | None:
        name: str | None = getattr(self._local, "name", None)
        return name

    @contextmanager
    def of(self, name: str | None) -> Iterator[None]:
        """Answer the requests of this thread inside ``with`` as ``name``'s (None: the run's)."""
        before = self.current()
        self._local.name = name
        try:
            yield
        finally:
            self._local.name = before


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Tokens:
    """Ids and secrets: random by default, or a repeatable sequence for a seed, one per scope.

    A seeded sandbox answers a re-recording with the same ids, so re-recorded cassettes differ
    only where behaviour did.
    """

    def __init__(self, seed: int | None = None, *, object_ids: bool = False, scope: Scope | None = None) -> None:
        self._seed = seed
        self._scope = scope or Scope()
        self._streams: dict[str | None, random.Random] = {}
        self._ticks: dict[str | None, int] = {}
        # Every value drawn: a test recorded twice in one sandbox must not get the ids it had.
        self._drawn: set[str] = set()
        self._lock = threading.Lock()
        # Ids as the live service draws them (ObjectIds): the time in seconds, 5 random bytes, a counter.
        self._object_ids = object_ids
        self._process = secrets.token_hex(5)
        self._counter = secrets.randbelow(1 << 24)

    def _stream(self, scope: str | None) -> random.Random:
        """The scope's stream; the run's (no scope) is the seed's own, as before there were scopes."""
        if scope not in self._streams:
            self._streams[scope] = random.Random(self._seed if scope is None else f"{self._seed}:{scope}")
        return self._streams[scope]

    def hex(self, nbytes: int) -> str:
        if self._seed is None:
            return secrets.token_hex(nbytes)
        with self._lock:
            stream = self._stream(self._scope.current())
            while True:
                value = f"{stream.getrandbits(nbytes * 8):0{nbytes * 2}x}"
                if value not in self._drawn:
                    self._drawn.add(value)
                    return value

    def new_id(self) -> str:
        if not self._object_ids:
            return self.hex(12)
        with self._lock:
            self._counter = (self._counter + 1) % (1 << 24)
            counter = self._counter
        return f"{int(time.time()):08x}{self._process}{counter:06x}"

    def now(self) -> str:
        """An ISO 8601 timestamp in UTC with milliseconds: the wall clock, or for a seed a fixed
        start advanced one second per call in each scope, so a re-recording shows the same times."""
        if self._seed is None:
            return _stamp(datetime.now(UTC))
        with self._lock:
            scope = self._scope.current()
            self._ticks[scope] = self._ticks.get(scope, 0) + 1
            return _stamp(SEEDED_EPOCH + timedelta(seconds=self._ticks[scope]))


class Clock:
    """Timestamps as the API writes them (``2026-01-01T00:00:00.000Z``): the time now, or, for a seed,
    a fixed start that moves one millisecond per reading in each scope, so re-recordings stay byte-identical."""

    START = datetime(2026, 1, 1, tzinfo=UTC)

    def __init__(self, seed: int | None = None, *, scope: Scope | None = None) -> None:
        self._seeded = seed is not None
        self._scope = scope or Scope()
        self._ticks: dict[str | None, int] = {}
        self._lock = threading.Lock()

    def now(self) -> str:
        if not self._seeded:
            return _stamp(datetime.now(UTC))
        with self._lock:
            scope = self._scope.current()
            self._ticks[scope] = self._ticks.get(scope, 0) + 1
            return _stamp(self.START + timedelta(milliseconds=self._ticks[scope]))


class Store:
    """Collections of records keyed by id, each collection named by any hashable key.

    A key is a resource name (``"integrations"``) or a tuple for nested resources
    (``("messages", conversation_id)``). Records go in and come out as copies, so no caller
    can change stored state outside the lock.
    """

    def __init__(self, seed: int | None = None, *, object_ids: bool = False) -> None:
        self._lock = threading.RLock()
        self._collections: dict[Hashable, dict[str, Record]] = {}
        # Each id's place in insertion order, kept after a delete so its cursor still pages.
        self._positions: dict[Hashable, dict[str, int]] = {}
        self._inserted = 0
        # The test each request comes from: a seeded store's ids and times are drawn per test.
        self.scope = Scope()
        self.tokens = Tokens(seed, object_ids=object_ids, scope=self.scope)
        self.clock = Clock(seed, scope=self.scope)
        # Events webhooks may subscribe to, in the order they happened (see events.py).
        self.events: list[dict[str, Any]] = []

    def insert(self, collection: Hashable, record: Record) -> Record:
        with self._lock:
            records = self._collections.setdefault(collection, {})
            if record["id"] in records:
                raise KeyError(f"duplicate id {record['id']} in {collection!r}")
            records[record["id"]] = copy.deepcopy(record)
            self._inserted += 1
            self._positions.setdefault(collection, {})[record["id"]] = self._inserted
            return copy.deepcopy(record)

    def get(self, collection: Hashable, record_id: str) -> Record | None:
        with self._lock:
            record = self._collections.get(collection, {}).get(record_id)
            return copy.deepcopy(record) if record is not None else None

    def update(self, collection: Hashable, record_id: str, change: Callable[[Record], Record]) -> Record | None:
        """Replace a record by ``change(current)`` atomically; None when there is no such record."""
        with self._lock:
            records = self._collections.get(collection, {})
            if record_id not in records:
                return None
            updated = change(copy.deepcopy(records[record_id]))
            records[record_id] = copy.deepcopy(updated)
            return updated

    def delete(self, collection: Hashable, record_id: str) -> bool:
        with self._lock:
            return self._collections.get(collection, {}).pop(record_id, None) is not None

    def records(self, collection: Hashable, keep: Callable[[Record], bool] | None = None) -> list[Record]:
        with self._lock:
            records = list(self._collections.get(collection, {}).values())
            return [copy.deepcopy(r) for r in records if keep is None or keep(r)]

    def snapshot(self) -> dict[Hashable, list[Record]]:
        """Every collection's records, copied: what the sandbox holds, for a test or a debugger."""
        with self._lock:
            return {key: [copy.deepcopy(r) for r in records.values()] for key, records in self._collections.items()}

    def drop_children(self, parents: tuple[str, ...]) -> None:
        """Forget every collection nested under the record named by ``parents`` (its ids, outermost first)."""
        with self._lock:
            for key in [k for k in self._collections if isinstance(k, tuple) and k[1 : 1 + len(parents)] == parents]:
                del self._collections[key]
                self._positions.pop(key, None)

    def page(
        self,
        collection: Hashable,
        query: Mapping[str, str],
        *,
        base_url: str,
        path: str,
        keep: Callable[[Record], bool] | None = None,
        size: int | None = None,
        newest_first: bool = False,
    ) -> Page:
        """One page of the records ``keep`` accepts; a cursor naming a deleted record pages from where it was."""
        with self._lock:
            positions = dict(self._positions.get(collection, {}))
            records = self.records(collection, keep)
        return paginate(
            records, query, base_url=base_url, path=path, positions=positions, size=size, newest_first=newest_first
        )

    def clear(self) -> None:
        with self._lock:
            self._collections.clear()
            self._positions.clear()


class Page(NamedTuple):
    items: list[Record]
    meta: dict[str, Any]
    links: dict[str, str]


def page_size(query: Mapping[str, str]) -> int:
    raw = query.get("page[size]")
    if raw is None:
        return DEFAULT_PAGE_SIZE
    text = str(raw).strip()
    # isascii: int() refuses some of what isdigit() accepts ("²"), and very long digit strings.
    if not (text.isascii() and text.isdigit() and len(text) <= 3 and 1 <= int(text) <= MAX_PAGE_SIZE):
        raise bad_request(PAGE_SIZE_TITLE)
    return int(text)


def paginate(
    records: Sequence[Record],
    query: Mapping[str, str],
    *,
    base_url: str,
    path: str,
    positions: Mapping[str, int] | None = None,
    size: int | None = None,
    newest_first: bool = False,
) -> Page:
    """One page of ``records`` (already filtered, in order) as ``page[after]``/``page[before]`` ask.

    ``positions`` (each id's place in insertion order, deleted ids included) lets a cursor that
    is no longer in ``records`` page from where its record was. ``links`` repeat the request's
    other query parameters (``page[size]``, ``filter[...]``), so following them keeps the same
    page size and filter. A fixed ``size`` ignores ``page[size]``; ``newest_first`` answers the
    last page when no cursor is given, and its ``hasMore`` then looks backwards (messages).
    """
    after, before = query.get("page[after]"), query.get("page[before]")
    if after is not None and before is not None:
        raise bad_request("Only one of page[after] or page[before] may be provided")
    size = page_size(query) if size is None else size
    ids = [record["id"] for record in records]
    if after is not None:
        start = _cut(ids, after, "page[after]", positions, after=True)
        end = min(start + size, len(records))
    elif before is not None:
        end = _cut(ids, before, "page[before]", positions, after=False)
        start = max(end - size, 0)
    elif newest_first:
        start, end = max(len(records) - size, 0), len(records)
    else:
        start, end = 0, min(size, len(records))
    items = [copy.deepcopy(record) for record in records[start:end]]
    more_after, more_before = end < len(records), start > 0
    backwards = before is not None or (newest_first and after is None)
    meta: dict[str, Any] = {"hasMore": more_before if backwards else more_after}
    links: dict[str, str] = {}
    if items and more_after:
        meta["afterCursor"] = items[-1]["id"]
        links["next"] = _link(base_url, path, query, "page[after]", items[-1]["id"])
    if items and more_before:
        meta["beforeCursor"] = items[0]["id"]
        links["prev"] = _link(base_url, path, query, "page[before]", items[0]["id"])
    return Page(items, meta, links)


def _cut(ids: list[str], cursor: str, name: str, positions: Mapping[str, int] | None, *, after: bool) -> int:
    """Where in ``ids`` the page starts (``after``) or ends (before) for ``cursor``."""
    if cursor in ids:
        return ids.index(cursor) + (1 if after else 0)
    place = positions.get(cursor) if positions else None
    if place is None or positions is None:
        raise bad_request(f"{name} {cursor!r} does not point to a record in this list")
    # Records listed before the cursor's place; ids missing from positions sort first.
    return bisect.bisect_left([positions.get(i, 0) for i in ids], place)


def _link(base_url: str, path: str, query: Mapping[str, str], cursor: str, value: str) -> str:
    kept = {name: text for name, text in query.items() if name not in ("page[after]", "page[before]")}
    # Brackets and commas stay literal, as in the API's own links.
    return f"{base_url}{path}?{urlencode({**kept, cursor: value}, safe='[],')}"
