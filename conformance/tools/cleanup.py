"""``python -m conformance cleanup [--dry-run] [--run ID] [--resource NAME]``: delete what the suite's runs left.

A live run deletes what it creates at teardown; a killed run, or a delete that failed, leaves
records behind. Each run writes what it creates to its ledger in the state folder
(``session/run_ledger.py``) and tags each record with its run id (``session/runs.py``). Cleanup deletes,
in this order:

1. what the ledgers written against this API host name, newest first (a cut-off create by its
   tag: a user by its tagged ``externalId``, other records found in their list);
2. records whose run tag holds a run id that a ledger knows, or that ``--run`` names, found by
   listing what can be listed without a filter (apps, the configured app's keys and integrations).

It never deletes the configured app (``SUNCO_APP_ID``), the keys it runs with, an app no ledger
names, or anything that is neither in a ledger nor tagged by a run ``--run`` names.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import requests

from conformance.cassettes.provenance import host_of
from conformance.contract.resources import RESOURCES, Resource, needs_filter, resource
from conformance.failures import ConfigError
from conformance.scrubbing.scrubber import Scrubber
from conformance.session import runs
from conformance.session.run_ledger import Entry, LedgerFile, ledgers, state_dir
from conformance.session.teardown import gone
from conformance.transport.client import Client
from conformance.transport.settings import Settings

MAX_PAGES = 200
PAGE_SIZE = "100"


@dataclass(frozen=True)
class Doomed:
    """One record cleanup deletes, and why; ``entry`` is the ledger entry dropped once it is gone."""

    item: Resource
    record_id: str
    app: str
    why: str
    path: dict[str, str]
    entry: tuple[LedgerFile, Entry] | None = None

    def describe(self) -> str:
        return f"{self.item.name} {self.record_id} (app {self.app}): {self.why}"


@dataclass
class Plan:
    """What goes, what is kept on purpose, and the cut-off creates that were looked for."""

    doomed: list[Doomed] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    looked: list[tuple[LedgerFile, Entry]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def planned(self, item: Resource, record_id: str) -> bool:
        return any(d.item is item and d.record_id == record_id for d in self.doomed)


def deletable() -> list[Resource]:
    """Resources a run creates and can delete: what --resource may name."""
    return [item for item in RESOURCES if item.has("create") and item.has("delete")]


def cleanable() -> list[Resource]:
    """Resources with a tag field whose list needs no parent but the app and no filter: the tag sweep's."""
    out = []
    for item in RESOURCES:
        op = item.op("list")
        if item.tag_field is None or op is None or not item.has("delete"):
            continue
        needs_query = any(p.required for p in op.parameters if p.location == "query")
        if item.parent in (None, "app") and not needs_query:
            out.append(item)
    return out


class CleanupError(Exception):
    """The API refused a list: the message is one line."""


class Cleanup:
    def __init__(self, client: Client, chosen: set[str], named_runs: set[str]) -> None:
        self.client = client
        self.settings = client.settings
        self.chosen = chosen
        self.named_runs = named_runs
        self.plan = Plan()
        self.host = host_of(self.settings.api_url)
        # ids of apps a ledger names: the only apps but none other than SUNCO_APP_ID that may go
        self.ledger_apps: set[str] = set()

    def refusal(self, item: Resource, record_id: str) -> str | None:
        """Why a record must stay whatever names it."""
        if item.name == "app" and record_id == self.settings.app_id:
            return "the app this cleanup runs in (SUNCO_APP_ID)"
        if record_id in self.running_keys:
            return "the key this cleanup runs with"
        return None

    @property
    def running_keys(self) -> dict[str, str]:
        """The keys this cleanup runs with, by id: the setting that names each (ids are never printed)."""
        keys = {self.settings.key_id: "SUNCO_KEY_ID"}
        if self.settings.account_key_id:
            keys[self.settings.account_key_id] = "SUNCO_ACCOUNT_KEY_ID"
        return keys

    def doom(self, doomed: Doomed) -> None:
        refused = self.refusal(doomed.item, doomed.record_id)
        if refused is not None:
            named = self.running_keys.get(doomed.record_id, doomed.record_id)
            self.plan.kept.append(f"kept {doomed.item.name} {named} (app {doomed.app}): {refused}")
        elif not self.plan.planned(doomed.item, doomed.record_id):
            self.plan.doomed.append(doomed)

    # -- 1. the ledgers ---------------------------------------------------------------------------

    def from_ledgers(self, found: list[LedgerFile]) -> set[str]:
        """Plan what the ledgers name; the run ids they know."""
        known: set[str] = set()
        entries = [(ledger, entry) for ledger in found for entry in ledger.entries()]
        others = sorted({entry.host for _, entry in entries if entry.host != self.host})
        if others:
            self.plan.notes.append(f"left alone: ledger entries of other API hosts ({', '.join(others)})")
        mine = [(ledger, entry) for ledger, entry in entries if entry.host == self.host]
        for _, entry in mine:
            known.add(entry.run)
            if entry.resource == "app" and entry.record_id is not None:
                self.ledger_apps.add(entry.record_id)
        for ledger, entry in reversed(mine):  # newest first: what a record holds goes before it
            try:
                item = resource(entry.resource)
            except KeyError:
                continue
            if item.name not in self.chosen or not item.has("delete"):
                continue
            if entry.record_id is not None:
                path = {"appId": entry.app, **entry.path} if item.parent is not None else {"appId": entry.record_id}
                why = f"in the ledger of run {entry.run} ({entry.operation})"
                self.doom(Doomed(item, entry.record_id, entry.app, why, path, (ledger, entry)))
            else:
                self.cut_off(item, ledger, entry)
        return known

    def cut_off(self, item: Resource, ledger: LedgerFile, entry: Entry) -> None:
        """A create of a ledger's run whose answer was cut off: delete the record if it was made."""
        assert entry.tag is not None
        parents = {"appId": entry.app, **entry.path}
        why = f"a cut-off {entry.operation} of run {entry.run}, tagged {entry.tag!r}"
        if item.tag_field in item.alternate_ids:
            # The tag names the record in its path (a user's externalId): 404 if it was never made.
            path = {**parents, item.id_param: entry.tag}
            self.doom(Doomed(item, entry.tag, entry.app, why + ", by its externalId", path, (ledger, entry)))
            return
        if not item.has("list") or (needs_filter(item) and not entry.query):
            self.plan.notes.append(f"cannot look for {why}: its list needs a filter the ledger does not hold")
            return
        for record in self.listed(item, parents if item.parent is not None else {}, dict(entry.query), gone_ok=True):
            if record.get(item.tag_field or "") == entry.tag and record.get("id"):
                record_id = str(record["id"])
                path = {**parents, item.id_param: record_id} if item.parent is not None else {"appId": record_id}
                self.doom(Doomed(item, record_id, entry.app, why, path))
                if item.name == "app":
                    self.ledger_apps.add(record_id)
        self.plan.looked.append((ledger, entry))

    # -- 2. the run tags --------------------------------------------------------------------------

    def by_tag(self, known: set[str]) -> None:
        for item in cleanable():
            if item.name not in self.chosen:
                continue
            if item.scope == "account" and not self.settings.account_key_id:
                self.plan.notes.append(
                    f"skipped {item.collection}: needs SUNCO_ACCOUNT_KEY_ID and SUNCO_ACCOUNT_KEY_SECRET"
                )
                continue
            for record in self.listed(item, {}, {}):
                tag, record_id = record.get(str(item.tag_field)), str(record.get("id") or "")
                run = runs.run_of(tag)
                if run is None or run not in known or not record_id:
                    continue
                how = "a ledger knows" if run not in self.named_runs else "named with --run"
                why = f"tagged {tag!r}: run {run}, {how}"
                if item.name == "app":
                    if record_id != self.settings.app_id and record_id not in self.ledger_apps:
                        self.plan.kept.append(
                            f"kept app {record_id} (app {record_id}): {why}, but an app other than SUNCO_APP_ID "
                            "goes only when a ledger names it"
                        )
                        continue
                    self.doom(Doomed(item, record_id, record_id, why, {"appId": record_id}))
                else:
                    path = {"appId": self.settings.app_id, item.id_param: record_id}
                    self.doom(Doomed(item, record_id, self.settings.app_id, why, path))

    def listed(
        self, item: Resource, parents: dict[str, str], query: dict[str, str], *, gone_ok: bool = False
    ) -> Iterator[dict[str, Any]]:
        """The records of a list; ``gone_ok``: a 404 (its parent, or the participant it is filtered by,
        is gone, and so is what it held) lists nothing."""
        op = item.op("list")
        assert op is not None
        paged = op.parameter("page", "query") is not None and item.sized_pages
        ask = {**query, **({"page[size]": PAGE_SIZE} if paged else {})}
        for _ in range(MAX_PAGES):
            exchange = self.client.call(op.operation_id, path_params=parents, query=ask or None)
            if gone_ok and exchange.status == 404:
                return
            if exchange.status != 200 or not isinstance(exchange.body, dict):
                raise CleanupError(f"{op.label} answered {exchange.status}: {exchange.text[:160]}")
            for record in exchange.body.get(item.collection) or []:
                if isinstance(record, dict):
                    yield record
            meta = exchange.body.get("meta") or {}
            if not paged or not meta.get("hasMore") or not meta.get("afterCursor"):
                return
            ask = {**query, "page[size]": PAGE_SIZE, "page[after]": str(meta["afterCursor"])}

    # -- deleting ----------------------------------------------------------------------------------

    def delete(self, doomed: Doomed) -> int:
        op = doomed.item.op("delete")
        assert op is not None
        answer = self.client.call(op.operation_id, path_params=doomed.path)
        if gone(answer.status) and doomed.entry is not None:
            ledger, entry = doomed.entry
            ledger.deleted(entry)
        return answer.status


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="list what would be deleted, delete nothing")
    parser.add_argument(
        "--run",
        dest="run_ids",
        action="append",
        default=[],
        metavar="ID",
        help="also delete records tagged with this run id that no ledger names (apps excepted); repeatable",
    )
    parser.add_argument(
        "--resource",
        action="append",
        default=None,
        metavar="NAME",
        help=f"only these resources (default: all: {', '.join(r.name for r in deletable())})",
    )


def run(args: argparse.Namespace) -> int:
    allowed = [item.name for item in deletable()]
    chosen = args.resource or allowed
    unknown = sorted(set(chosen) - set(allowed))
    if unknown:
        print(f"cleanup: error: cannot clean {', '.join(unknown)}: choose from {', '.join(allowed)}", file=sys.stderr)
        return 2
    try:
        named = {runs.check_run_id(value.strip(), "--run") for value in args.run_ids}
        settings = Settings.from_env(os.environ)
    except ConfigError as error:
        print(f"cleanup: error: {error}", file=sys.stderr)
        return 2
    folder = state_dir(os.environ)
    if folder.exists() and not folder.is_dir():
        print(f"cleanup: error: the state folder {folder} is a file: set SUNCO_STATE_DIR to a folder", file=sys.stderr)
        return 2
    scrub = Scrubber(settings.secrets, public=settings.public).text

    def say(line: str, *, error: bool = False) -> None:
        # What the API answers may echo a credential: nothing printed holds one.
        print(scrub(line), file=sys.stderr if error else sys.stdout)

    work = Cleanup(Client(settings), set(chosen), named)
    found = ledgers(folder)
    try:
        known = work.from_ledgers(found) | named
        if known:
            work.by_tag(known)
    except (CleanupError, requests.RequestException) as error:
        say(f"cleanup: error: {str(error).splitlines()[0]}", error=True)
        return 2
    plan = work.plan
    for line in [*plan.notes, *plan.kept]:
        say(line)
    deleted = gone = failed = 0
    try:
        for doomed in plan.doomed:
            if args.dry_run:
                say(f"would delete {doomed.describe()}")
                continue
            status = work.delete(doomed)
            if status == 200:
                deleted += 1
                say(f"deleted {doomed.describe()}")
            elif status == 404:
                gone += 1
                say(f"already gone {doomed.describe()}")
            else:
                failed += 1
                say(f"could not delete {doomed.describe()}: answered {status}")
    except requests.RequestException as error:
        say(f"cleanup: error: {str(error).splitlines()[0]}", error=True)
        return 2
    if not args.dry_run and not failed:
        for ledger, entry in plan.looked:
            ledger.deleted(entry)
    where = f"{len(found)} ledger(s) in {folder}" + (f", runs named {', '.join(sorted(named))}" if named else "")
    if args.dry_run:
        say(f"cleanup: {where}; would delete {len(plan.doomed)}, kept {len(plan.kept)}")
        return 0
    say(f"cleanup: {where}; deleted {deleted}, already gone {gone}, failed {failed}, kept {len(plan.kept)}")
    return 1 if failed else 0
