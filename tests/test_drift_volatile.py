"""Drift compares the values a server chooses (ids, timestamps, secrets, cursors) by shape, not by value.

Each case is a pair of one-exchange cassettes that differ in one answer body: a volatile value with
the same shape is counted apart and is not drift; a changed shape, type or a field gone is breaking;
any other changed value is reported as it always was.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.tools.drift import compare

PROJECT = Path(__file__).resolve().parent.parent
KEY_URI = "http://127.0.0.1:47151/v2/apps/5a4db0c5a4db0c5a4db0c5a4/keys/app_0123456789abcdef01234567"
OTHER_KEY_URI = "http://localhost:9/v2/apps/5a4db0c5a4db0c5a4db0c5a4/keys/app_fedcba9876543210fedcba98"


def cassette(folder: Path, body: dict[str, Any], uri: str = KEY_URI, status: int = 200) -> Path:
    """One GetAppKey exchange answering ``body``, as a recording session writes it."""
    data = {
        "interactions": [
            {
                "request": {"method": "GET", "uri": uri, "body": None, "headers": {}},
                "response": {
                    "status": {"code": status, "message": "OK"},
                    "headers": {"Content-Type": ["application/json; charset=utf-8"]},
                    "body": {"string": json.dumps(body)},
                },
            }
        ],
        "metadata": {"conformance": {"exchanges": [{"operation": "GetAppKey", "variant": None, "attempts": 1}]}},
        "version": 1,
    }
    path = folder / "test_apps" / "test_app_key_lifecycle.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    return path


KEY = {"id": "app_0123456789abcdef01234567", "displayName": "conformance-key", "secret": "<scrubbed>"}
MESSAGE = {
    "id": "5a4db0c5a4db0c5a4db0c5b1",
    "received": "2024-01-01T00:00:01.000Z",
    "author": {"userId": "5a4db0c5a4db0c5a4db0c5b2", "type": "user"},
    "content": {"type": "text", "text": "hello"},
}
CONVERSATION = {
    "id": "5a4db0c5a4db0c5a4db0c5b3",
    "createdAt": "2024-01-01T00:00:01.000Z",
    "lastUpdatedAt": "2024-01-01T00:00:02.000Z",
    "metadata": {"plan": "gold", "lastOrder": "2024-01-01T00:00:01.000Z"},
}
PAGE = {
    "conversations": [CONVERSATION],
    "meta": {"hasMore": True, "afterCursor": "5a4db0c5a4db0c5a4db0c5b3"},
    "links": {"next": "http://127.0.0.1:47151/v2/apps/x/conversations?page[after]=5a4db0c5a4db0c5a4db0c5b3"},
}


def changed(base: dict[str, Any], pointer: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``base`` with the field at ``pointer`` set to ``value`` (or removed, for REMOVE)."""
    copy = json.loads(json.dumps(base))
    *parents, last = pointer.strip("/").split("/")
    node = copy
    for token in parents:
        node = node[int(token)] if isinstance(node, list) else node[token]
    if value is REMOVE:
        del node[last]
    else:
        node[int(last) if isinstance(node, list) else last] = value
    return copy


REMOVE = object()
NEW_TIME = "2026-12-06T01:24:33.517Z"

# (case, baseline body, candidate body, volatile fields counted, breaking wheres)
CASES = [
    ("key id", {"key": KEY}, {"key": changed(KEY, "/id", "app_fedcba9876543210fedcba98")}, {"id": 1}, []),
    (
        "message id, author and received time",
        {"messages": [MESSAGE]},
        {
            "messages": [
                changed(
                    changed(changed(MESSAGE, "/id", "675282b1e4b0a1b2c3d4e5f6"), "/received", NEW_TIME),
                    "/author/userId",
                    "675282b1e4b0a1b2c3d4e5f7",
                )
            ]
        },
        {"id": 1, "received": 1, "userId": 1},
        [],
    ),
    (
        "timestamps, cursor and link",
        PAGE,
        {
            "conversations": [
                changed(
                    changed(changed(CONVERSATION, "/createdAt", NEW_TIME), "/lastUpdatedAt", NEW_TIME),
                    "/id",
                    "675282b1e4b0a1b2c3d4e5f8",
                )
            ],
            "meta": {"hasMore": True, "afterCursor": "675282b1e4b0a1b2c3d4e5f8"},
            "links": {"next": "http://localhost:9/v2/apps/x/conversations?page[after]=675282b1e4b0a1b2c3d4e5f8"},
        },
        {"id": 1, "createdAt": 1, "lastUpdatedAt": 1, "afterCursor": 1, "next (ids in text)": 1},
        [],
    ),
    ("id of another shape", {"key": KEY}, {"key": changed(KEY, "/id", "key-7")}, {}, ["body /key/id"]),
    ("id of another type", {"key": KEY}, {"key": changed(KEY, "/id", 7)}, {}, ["body /key/id"]),
    ("id gone", {"key": KEY}, {"key": changed(KEY, "/id", REMOVE)}, {}, ["body /key/id"]),
    (
        "timestamp in another form",
        {"messages": [MESSAGE]},
        {"messages": [changed(MESSAGE, "/received", "2024-01-01 00:05:43")]},
        {},
        ["body /messages/0/received"],
    ),
    (
        "timestamp gone",
        {"conversation": CONVERSATION},
        {"conversation": changed(CONVERSATION, "/createdAt", REMOVE)},
        {},
        ["body /conversation/createdAt"],
    ),
    (
        "a timestamp the client set is not the server's to change",
        {"conversation": CONVERSATION},
        {"conversation": changed(CONVERSATION, "/metadata/lastOrder", NEW_TIME)},
        {},
        ["body /conversation/metadata/lastOrder"],
    ),
    (
        "ordinary value",
        {"messages": [MESSAGE]},
        {"messages": [changed(MESSAGE, "/content/text", "goodbye")]},
        {},
        ["body /messages/0/content/text"],
    ),
    (
        "server-set word",
        {"key": KEY},
        {"key": changed(KEY, "/displayName", "renamed")},
        {},
        ["body /key/displayName"],
    ),
]


@pytest.mark.parametrize(
    ("baseline", "candidate", "volatile", "breaking"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_drift_counts_volatile_values_apart_and_reports_shape_changes(
    tmp_path, baseline, candidate, volatile, breaking
):
    # The candidate was also recorded on another host and port, and named its own key: pairing holds.
    cassette(tmp_path / "a", baseline)
    cassette(tmp_path / "b", candidate, uri=OTHER_KEY_URI)
    report = compare(tmp_path / "a", tmp_path / "b")
    assert report.not_comparable == []
    assert report.compared == 1
    assert dict(report.volatile) == volatile
    assert [c.where for c in report.changes if c.klass == "breaking"] == breaking
    assert [c for c in report.changes if c.klass != "breaking"] == []


def test_a_request_naming_another_key_id_pairs_with_its_counterpart(tmp_path):
    cassette(tmp_path / "a", {"key": KEY})
    cassette(tmp_path / "b", {"key": KEY}, uri=OTHER_KEY_URI)
    report = compare(tmp_path / "a", tmp_path / "b")
    assert (report.compared, report.not_comparable, report.changes) == (1, [], [])


def test_query_parameters_in_another_order_pair(tmp_path):
    cassette(tmp_path / "a", {"key": KEY}, uri=KEY_URI + "?a=1&b=2")
    cassette(tmp_path / "b", {"key": KEY}, uri=KEY_URI + "?b=2&a=1")
    assert compare(tmp_path / "a", tmp_path / "b").not_comparable == []


def test_drift_reports_count_volatile_fields_apart_in_every_format(tmp_path):
    cassette(tmp_path / "a", PAGE)
    cassette(tmp_path / "b", changed(changed(PAGE, "/conversations/0/createdAt", NEW_TIME), "/meta/hasMore", False))
    out, md = tmp_path / "drift.json", tmp_path / "drift.md"
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "conformance", "drift", str(tmp_path / "a"), str(tmp_path / "b"),
         "--json", str(out), "--markdown", str(md)],
        cwd=PROJECT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "1 change(s) (1 breaking, 0 additive, 0 cosmetic)" in result.stdout
    assert "1 volatile value(s) compared by shape only" in result.stdout
    assert "volatile (values the server chose, same shape; not drift): createdAt 1" in result.stdout
    data = json.loads(out.read_text())
    assert data["counts"] == {"breaking": 1, "additive": 0, "cosmetic": 0}
    assert data["volatile"] == {"count": 1, "byField": {"createdAt": 1}}
    text = md.read_text()
    assert "## Volatile values" in text
    assert "| `createdAt` | 1 |" in text
