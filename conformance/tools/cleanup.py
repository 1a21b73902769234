"""``python -m conformance cleanup [--dry-run]``: delete what interrupted runs left in a live app.

A run deletes what it creates at teardown; a run that was killed could not. Every record a run
creates carries the run tag (``RUN_TAG``) in its resource's tag field, so leftovers are found by
listing each resource that can be listed without a parent of its own, and only records carrying
the tag are deleted. The configured app itself is never deleted.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import requests

from conformance.core.client import Client
from conformance.core.failures import ConfigError
from conformance.core.settings import Settings
from conformance.spec.resources import RESOURCES, RUN_TAG, Resource, resource

MAX_PAGES = 200
PAGE_SIZE = "100"


@dataclass(frozen=True)
class Leftover:
    item: Resource
    record_id: str
    tag: str

    def describe(self) -> str:
        return f"{self.item.name} {self.record_id} ({self.item.tag_field} {self.tag!r})"


def cleanable() -> list[Resource]:
    """Resources with a tag field whose list needs no parent but the app and no filter."""
    out = []
    for item in RESOURCES:
        op = item.op("list")
        if item.tag_field is None or op is None or not item.has("delete"):
            continue
        needs_query = any(p.required for p in op.parameters if p.location == "query")
        if item.parent in (None, "app") and not needs_query:
            out.append(item)
    return out


def leftovers(client: Client, item: Resource) -> Iterator[Leftover]:
    op = item.op("list")
    assert op is not None
    paged = op.parameter("page", "query") is not None
    query = {"page[size]": PAGE_SIZE} if paged else {}
    for _ in range(MAX_PAGES):
        exchange = client.call(op.operation_id, query=query)
        if exchange.status != 200 or not isinstance(exchange.body, dict):
            raise CleanupError(f"{op.label} answered {exchange.status}: {exchange.text[:160]}")
        for record in exchange.body.get(item.collection) or []:
            tag = record.get(str(item.tag_field)) if isinstance(record, dict) else None
            if isinstance(tag, str) and tag.startswith(RUN_TAG) and record.get("id"):
                if item.name == "app" and record["id"] == client.settings.app_id:
                    continue  # the app the suite runs in is never the suite's to delete
                yield Leftover(item, str(record["id"]), tag)
        meta = exchange.body.get("meta") or {}
        if not paged or not meta.get("hasMore") or not meta.get("afterCursor"):
            return
        query = {"page[size]": PAGE_SIZE, "page[after]": str(meta["afterCursor"])}


class CleanupError(Exception):
    """The API refused a list: the message is one line."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="list what would be deleted, delete nothing")
    parser.add_argument(
        "--resource",
        action="append",
        default=None,
        metavar="NAME",
        help=f"only these resources (default: all that can be found: {', '.join(r.name for r in cleanable())})",
    )


def run(args: argparse.Namespace) -> int:
    allowed = [item.name for item in cleanable()]
    chosen = args.resource or allowed
    unknown = sorted(set(chosen) - set(allowed))
    if unknown:
        print(f"cleanup: error: cannot clean {', '.join(unknown)}: choose from {', '.join(allowed)}", file=sys.stderr)
        return 2
    try:
        settings = Settings.from_env(os.environ)
    except ConfigError as error:
        print(f"cleanup: error: {error}", file=sys.stderr)
        return 2
    client = Client(settings)
    found = deleted = failed = 0
    try:
        for name in chosen:
            item = resource(name)
            if item.scope == "account" and not settings.account_key_id:
                print(f"skipped {item.collection}: needs SUNCO_ACCOUNT_KEY_ID and SUNCO_ACCOUNT_KEY_SECRET")
                continue
            for leftover in list(leftovers(client, item)):
                found += 1
                if args.dry_run:
                    print(f"would delete {leftover.describe()}")
                    continue
                delete = item.op("delete")
                assert delete is not None
                answer = client.call(delete.operation_id, path_params={item.id_param: leftover.record_id})
                if answer.status == 200:
                    deleted += 1
                    print(f"deleted {leftover.describe()}")
                else:
                    failed += 1
                    print(f"could not delete {leftover.describe()}: {answer.status} {answer.text[:120]}")
    except (CleanupError, requests.RequestException) as error:
        print(f"cleanup: error: {str(error).splitlines()[0]}", file=sys.stderr)
        return 2
    verb = "would delete" if args.dry_run else "deleted"
    print(
        f"cleanup: {found} leftover(s) tagged {RUN_TAG!r}; {verb} {found if args.dry_run else deleted}, failed {failed}"
    )
    return 1 if failed else 0
