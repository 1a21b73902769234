"""Why a request found no recording: the nearest recorded request and a field-by-field difference."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from vcr.request import Request

from conformance import pointer as pointers
from conformance.cassettes.recording import RequestKey, request_key
from conformance.pointer import MISSING


def json_diff(recorded: Any, sent: Any, pointer: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(pointer, recorded value, sent value) for every leaf that differs."""
    if isinstance(recorded, dict) and isinstance(sent, dict):
        for key in sorted(set(recorded) | set(sent)):
            yield from json_diff(recorded.get(key, MISSING), sent.get(key, MISSING), pointers.child(pointer, key))
    elif isinstance(recorded, list) and isinstance(sent, list) and len(recorded) == len(sent):
        for number, (a, b) in enumerate(zip(recorded, sent, strict=True)):
            yield from json_diff(a, b, pointers.child(pointer, number))
    elif recorded != sent or type(recorded) is not type(sent):
        yield pointer, recorded, sent


def _parse(body: str) -> Any:
    if body.startswith("raw:"):
        return body[4:]
    if body.startswith("multipart:"):
        return {"multipart": json.loads(body.removeprefix("multipart:"))}
    return json.loads(body) if body else MISSING


def _show(value: Any) -> str:
    return "(absent)" if value is MISSING else json.dumps(value, ensure_ascii=False)[:120]


@dataclass(frozen=True)
class Nearest:
    index: int
    key: RequestKey
    differences: list[str]

    def describe(self) -> str:
        method, path, query, _ = self.key
        shown = path + ("?" + "&".join(f"{k}={v}" for k, v in query) if query else "")
        lines = [f"nearest recorded request (#{self.index + 1}): {method} {shown}"]
        lines.extend(f"    {line}" for line in self.differences)
        return "\n".join(lines)


def differences(recorded: RequestKey, sent: RequestKey) -> list[str]:
    out: list[str] = []
    if recorded[0] != sent[0]:
        out.append(f"method: recorded {recorded[0]}, sent {sent[0]}")
    if recorded[1] != sent[1]:
        out.append(f"path: recorded {recorded[1]}, sent {sent[1]}")
    if recorded[2] != sent[2]:
        out.append(f"query: recorded {dict(recorded[2])}, sent {dict(sent[2])}")
    if recorded[3] != sent[3]:
        diffs = list(json_diff(_parse(recorded[3]), _parse(sent[3])))
        for pointer, was, now in diffs[:8]:
            out.append(f"body {pointer or '/'}: recorded {_show(was)}, sent {_show(now)}")
        if len(diffs) > 8:
            out.append(f"... and {len(diffs) - 8} more body differences")
    return out


def _distance(recorded: RequestKey, sent: RequestKey) -> tuple[int, int]:
    structural = (recorded[0] != sent[0]) * 8 + (recorded[1] != sent[1]) * 4 + (recorded[2] != sent[2]) * 2
    body = 0 if recorded[3] == sent[3] else 1 + len(list(json_diff(_parse(recorded[3]), _parse(sent[3]))))
    return structural, body


def nearest(requests: Sequence[Request], sent: Request) -> Nearest | None:
    """The recorded request closest to ``sent``: same method and path first, then fewest body changes."""
    if not requests:
        return None
    sent_key = request_key(sent)
    keys = [request_key(request) for request in requests]
    index = min(range(len(keys)), key=lambda i: _distance(keys[i], sent_key))
    found = differences(keys[index], sent_key)
    if not found:
        found = ["identical to a recorded request that was already played back (sent more times than recorded)"]
    return Nearest(index=index, key=keys[index], differences=found)
