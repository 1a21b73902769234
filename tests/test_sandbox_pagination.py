"""The sandbox over a real socket: listing integrations, cursors, links, filters and concurrent creates."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from sandbox_support import OTHER_ID, Api, body_of, checked, codes, titles

from conformance.sandbox import Sandbox

BOTH_CURSORS = "Only one of page[after] or page[before] may be provided"


# -- List and pagination -----------------------------------------------------------------------


def test_list_walks_forward_and_back_with_cursors(api: Api) -> None:
    ids = [api.create(body_of("telegram", displayName=f"bot {n}"))["id"] for n in range(7)]
    pages: list[Any] = []
    query = {"page[size]": "3"}
    while True:
        status, page = api.list(**query)
        assert status == 200
        pages.append(page)
        if not page["meta"]["hasMore"]:
            break
        query = {"page[size]": "3", "page[after]": page["meta"]["afterCursor"]}
    assert [[item["id"] for item in page["integrations"]] for page in pages] == [ids[0:3], ids[3:6], ids[6:7]]
    assert pages[0]["meta"] == {"hasMore": True, "afterCursor": ids[2]}
    assert pages[1]["meta"] == {"hasMore": True, "afterCursor": ids[5], "beforeCursor": ids[3]}
    assert pages[2]["meta"] == {"hasMore": False, "beforeCursor": ids[6]}
    assert "prev" not in pages[0]["links"]
    assert "next" not in pages[2]["links"]

    status, back = api.list(**{"page[size]": "3", "page[before]": ids[6]})
    assert [item["id"] for item in back["integrations"]] == ids[3:6]
    assert back["meta"] == {"hasMore": True, "afterCursor": ids[5], "beforeCursor": ids[3]}
    status, first = api.list(**{"page[size]": "3", "page[before]": back["meta"]["beforeCursor"]})
    assert [item["id"] for item in first["integrations"]] == ids[0:3]
    assert first["meta"] == {"hasMore": False, "afterCursor": ids[2]}


def test_list_links_can_be_followed(api: Api, sandbox: Sandbox) -> None:
    ids = [api.create(body_of("web"))["id"] for _ in range(5)]
    api.create(body_of("line"))
    _, page = api.list(**{"page[size]": "2", "filter[types]": "web"})
    seen = [item["id"] for item in page["integrations"]]
    while "next" in page["links"]:
        link = page["links"]["next"]
        assert link.startswith(f"{sandbox.url}/v2/apps/{sandbox.app_id}/integrations?")
        assert "page[size]=2" in link
        assert "filter[types]=web" in link
        page = checked("ListIntegrations", requests.get(link, auth=api.auth, timeout=10))
        seen += [item["id"] for item in page["integrations"]]
    assert seen == ids
    prev = checked("ListIntegrations", requests.get(page["links"]["prev"], auth=api.auth, timeout=10))
    assert [item["id"] for item in prev["integrations"]] == ids[2:4]


def test_list_defaults(api: Api) -> None:
    assert api.list() == (200, {"integrations": [], "meta": {"hasMore": False}, "links": {}})
    ids = [api.create(body_of("unity"))["id"] for _ in range(26)]
    _, page = api.list()
    assert [item["id"] for item in page["integrations"]] == ids[:25]
    assert page["meta"] == {"hasMore": True, "afterCursor": ids[24]}


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ({"page[after]": OTHER_ID, "page[before]": OTHER_ID}, BOTH_CURSORS),
        ({"page[size]": "0"}, "page[size] must be an integer from 1 to 100"),
        ({"page[size]": "101"}, "page[size] must be an integer from 1 to 100"),
        ({"page[size]": "-1"}, "page[size] must be an integer from 1 to 100"),
        ({"page[size]": "many"}, "page[size] must be an integer from 1 to 100"),
        ({"page[after]": OTHER_ID}, f"page[after] '{OTHER_ID}' does not point to a record in this list"),
        ({"page[before]": "short"}, "page[before] must be a record id"),
        ({"filter[types]": "web,fax"}, "filter[types]: 'fax' is not an integration type"),
        ({"page[size]": "1", "page": '{"size": 2}'}, "page[size] may be given only once"),
        ({"page": "[2]"}, "Query parameter page must be a JSON object, or be sent as page[...]=…"),
    ],
    ids=["both cursors", "size 0", "size 101", "size -1", "size many", "unknown cursor", "short cursor",
         "unknown type", "size twice", "page not an object"],
)  # fmt: skip
def test_list_rejects_invalid_queries(api: Api, query: dict[str, str], title: str) -> None:
    api.create(body_of("web"))
    status, answer = api.list(**query)
    assert status == 400
    assert set(codes(answer)) == {"bad_request"}
    assert title in titles(answer)


def test_list_filters_by_type_before_paginating(api: Api) -> None:
    made = {kind: [api.create(body_of(kind))["id"] for _ in range(3)] for kind in ("web", "custom", "line")}
    _, page = api.list(**{"filter[types]": "custom,line", "page[size]": "4"})
    assert [item["id"] for item in page["integrations"]] == made["custom"] + made["line"][:1]
    assert page["meta"]["hasMore"] is True
    _, page = api.list(**{"filter[types]": "web"})
    assert {item["type"] for item in page["integrations"]} == {"web"}
    assert len(page["integrations"]) == 3


def test_concurrent_creates_are_all_kept(api: Api) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        created = list(pool.map(lambda n: api.create(body_of("web", displayName=f"w{n}"))["id"], range(24)))
    _, page = api.list(**{"page[size]": "100"})
    assert len(set(created)) == 24
    assert sorted(item["id"] for item in page["integrations"]) == sorted(created)


def test_list_and_get_ignore_unknown_query_keys_alike(api: Api) -> None:
    ids = [api.create(body_of("web"))["id"] for _ in range(3)]
    unknown = "page[limit]=1&sort=-id&sort=id&%E2%9C%93=yes&pages=2"
    _, plain = api.list(**{"page[size]": "2"})
    listed = checked("ListIntegrations", requests.get(f"{api.url('ListIntegrations')}?page[size]=2&{unknown}",
                                                      auth=api.auth, timeout=10))  # fmt: skip
    assert listed == plain
    assert [item["id"] for item in listed["integrations"]] == ids[:2]
    assert "page[limit]" not in listed["links"]["next"]
    got = requests.get(f"{api.url('GetIntegration', integrationId=ids[0])}?{unknown}", auth=api.auth, timeout=10)
    assert got.status_code == 200
    assert checked("GetIntegration", got)["integration"]["id"] == ids[0]
    # A known key with a bad value is still refused.
    status, answer = api.list(**{"page[size]": "0", "page[limit]": "1"})
    assert (status, codes(answer)) == (400, ["bad_request"])


def test_a_deleted_records_cursor_still_pages(api: Api) -> None:
    ids = [api.create(body_of("line"))["id"] for _ in range(8)]
    _, first = api.list(**{"page[size]": "3"})
    cursor = first["meta"]["afterCursor"]
    assert cursor == ids[2]
    for gone in (ids[2], ids[3]):
        assert api.call("DeleteIntegration", integrationId=gone)[0] == 200
    status, after = api.list(**{"page[size]": "3", "page[after]": cursor})
    assert status == 200
    assert [item["id"] for item in after["integrations"]] == ids[4:7]
    assert after["meta"] == {"hasMore": True, "afterCursor": ids[6], "beforeCursor": ids[4]}
    _, before = api.list(**{"page[size]": "3", "page[before]": ids[3]})
    assert [item["id"] for item in before["integrations"]] == ids[0:2]
    assert before["meta"] == {"hasMore": False, "afterCursor": ids[1]}
    # Following a link whose cursor was deleted meanwhile works the same way.
    assert api.call("DeleteIntegration", integrationId=ids[6])[0] == 200
    page = checked("ListIntegrations", requests.get(after["links"]["next"], auth=api.auth, timeout=10))
    assert [item["id"] for item in page["integrations"]] == ids[7:]
    assert page["meta"]["hasMore"] is False


def test_a_cursor_outside_the_filter_pages_from_its_place(api: Api) -> None:
    made = [api.create(body_of(kind))["id"] for kind in ("web", "line", "web", "line", "web")]
    _, page = api.list(**{"filter[types]": "web", "page[after]": made[1]})
    assert [item["id"] for item in page["integrations"]] == [made[2], made[4]]
    _, page = api.list(**{"filter[types]": "web", "page[before]": made[3]})
    assert [item["id"] for item in page["integrations"]] == [made[0], made[2]]
