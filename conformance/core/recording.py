"""Record and replay on top of vcrpy, as pytest-recording sets it up.

Three things are added to stock vcrpy, through pytest-recording's ``pytest_recording_configure``
hook rather than a fork of either:

* a canonical request key (method, path, sorted query, JSON body with keys sorted), used both as
  the registered ``conformance`` matcher and as a hash index, so finding a recorded response costs
  the same at 10 interactions as at 10,000 (stock vcrpy scans every interaction per request);
* a persister that refuses to let a known secret reach the disk, writes only whole files, and
  reads a damaged cassette as one line naming it;
* an explanation of an unmatched request: the nearest recorded one and what differs.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from vcr import VCR
from vcr.cassette import Cassette
from vcr.persisters.filesystem import CassetteNotFoundError, FilesystemPersister
from vcr.record_mode import RecordMode
from vcr.request import Request
from vcr.serializers import compat

from conformance.core import cassettes
from conformance.core.scrub import Scrubber

MATCHER = "conformance"
SKIPPED_PATCHERS = ("boto3", "httplib2", "tornado", "aiohttp", "httpx", "httpx2")
RequestKey = tuple[str, str, tuple[tuple[str, str], ...], str]


def _body_text(body: bytes | str | None) -> str:
    if body is None:
        return ""
    return body.decode("utf-8", "replace") if isinstance(body, bytes) else body


def canonical_body(body: bytes | str | None) -> str:
    """JSON bodies compare by value (key order and spacing ignored); anything else as text."""
    text = _body_text(body)
    if not text:
        return ""
    try:
        return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except ValueError:
        return "raw:" + text


def request_key(request: Request) -> RequestKey:
    parts = urlsplit(request.uri)
    query = tuple(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return (request.method.upper(), parts.path or "/", query, canonical_body(request.body))


def match_requests(r1: Request, r2: Request) -> None:
    """vcrpy matcher: raises AssertionError naming the first part that differs."""
    k1, k2 = request_key(r1), request_key(r2)
    for label, a, b in zip(("method", "path", "query", "body"), k1, k2, strict=True):
        if a != b:
            raise AssertionError(f"{label} differs: {a!r} != {b!r}")


class IndexedCassette(Cassette):
    """A vcrpy cassette whose lookups go through a dict keyed by :func:`request_key`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._index: dict[RequestKey, list[int]] = {}
        self._memo: tuple[Request, tuple[Any, ...], Request | None, RequestKey | None] | None = None
        super().__init__(*args, **kwargs)

    def _filtered(self, request: Request) -> tuple[Request | None, RequestKey | None]:
        """Scrub and key a request once: vcrpy asks about the same request three times in a row."""
        marker = (request.method, request.uri, request.body)
        memo = self._memo
        if memo is not None and memo[0] is request and memo[1] == marker:
            return memo[2], memo[3]
        filtered = self._before_record_request(request)
        key = request_key(filtered) if filtered else None
        self._memo = (request, marker, filtered, key)
        return filtered, key

    def append(self, request: Request, response: dict[str, Any]) -> None:
        before = len(self.data)
        super().append(request, response)
        if len(self.data) > before:
            self._index.setdefault(request_key(self.data[-1][0]), []).append(before)

    def can_play_response_for(self, request: Request) -> bool:
        filtered, _ = self._filtered(request)
        return bool(
            filtered
            and request in self
            and self.record_mode != RecordMode.ALL
            and (self.rewound or self.allow_playback_repeats)
        )

    def _responses(self, request: Request) -> Iterator[tuple[int, dict[str, Any]]]:
        filtered, key = self._filtered(request)
        if not filtered or key is None:
            return
        # While recording, only what the file held: an answer recorded in this session (a 429 or a 503
        # before its retry, under new_episodes) must not answer the retry in the server's place.
        recording = self.record_mode != RecordMode.NONE
        loaded = getattr(self, "_loaded_count", len(self.data)) if recording else len(self.data)
        for index in self._index.get(key, ()):
            if index < loaded:
                yield index, self.data[index][1]


class IndexedVCR(VCR):
    def _use_cassette(self, with_current_defaults: bool = False, **kwargs: Any) -> Any:
        if with_current_defaults:
            return IndexedCassette.use(**self.get_merged_config(**kwargs))
        return IndexedCassette.use_arg_getter(functools.partial(self.get_merged_config, **kwargs))


class ScrubbingPersister(FilesystemPersister):
    """Reads cassettes with one-line errors; writes them whole, after one last pass for known secrets.

    A path that :func:`cassettes.is_virtual` recognises is a re-recording: nothing is loaded, and
    the text goes to the temporary file beside the cassette, which the plugin renames over it once
    the test has finished and its replay has been verified.
    """

    scrubber: Scrubber = Scrubber(fields=frozenset())

    @classmethod
    def load_cassette(cls, cassette_path: str, serializer: Any) -> tuple[list[Any], ...]:
        path = Path(cassette_path)
        if cassettes.is_virtual(path):
            raise CassetteNotFoundError()
        try:
            text = cassettes.read_text(path)
        except FileNotFoundError:
            raise CassetteNotFoundError() from None
        data = cassettes.parse(path, text, serializer.deserialize)
        interactions = data["interactions"]
        requests = [Request._from_dict(item["request"]) for item in interactions]
        responses = [compat.convert_to_bytes(item["response"]) for item in interactions]
        return (requests, responses, data["metadata"]) if data.get("metadata") else (requests, responses)

    @classmethod
    def save_cassette(cls, cassette_path: str, cassette_dict: dict[str, Any], serializer: Any) -> None:
        text = cls.scrubber.cassette_text(cassette_dict, serializer)
        if cassettes.is_virtual(cassette_path):
            cassettes.write_synced(cassettes.real_recording(cassette_path), text)
        else:
            cassettes.write_whole(Path(cassette_path), text)


def configure_vcr(vcr: VCR, scrubber: Scrubber) -> None:
    """Called from ``pytest_recording_configure`` for every cassette a test opens."""
    # pytest-recording builds a plain VCR; swapping its class keeps every setting it made and
    # changes only which cassette class gets opened.
    vcr.__class__ = IndexedVCR
    vcr.register_matcher(MATCHER, match_requests)
    persister = type("BoundScrubbingPersister", (ScrubbingPersister,), {"scrubber": scrubber})
    vcr.register_persister(persister)


def vcr_options(scrubber: Scrubber) -> dict[str, Any]:
    """What the plugin's ``vcr_config`` fixture returns."""
    return {
        "match_on": [MATCHER],
        "before_record_request": scrubber.request,
        "before_record_response": scrubber.response,
        "decode_compressed_response": True,
        # The client speaks through requests/urllib3/http.client; patching other libraries on every
        # cassette open and close is pure overhead.
        "skip_patchers": SKIPPED_PATCHERS,
    }
