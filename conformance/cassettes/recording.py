"""Record and replay on top of vcrpy, as pytest-recording sets it up.

Three things are added to stock vcrpy, through pytest-recording's ``pytest_recording_configure``
hook rather than a fork of either:

* a canonical request key (method, path, sorted query, JSON body with keys sorted, multipart body
  by its parts whatever the boundary), used both as
  the registered ``conformance`` matcher and as a hash index, so finding a recorded response costs
  the same at 10 interactions as at 10,000 (stock vcrpy scans every interaction per request);
* a persister that refuses to let a known secret reach the disk, writes only whole files, and
  reads a damaged cassette as one line naming it;
* an explanation of an unmatched request: the nearest recorded one and what differs.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from vcr import VCR, filters
from vcr.persisters.filesystem import CassetteNotFoundError, FilesystemPersister
from vcr.record_mode import RecordMode
from vcr.request import HeadersDict, Request
from vcr.serializers import compat

from conformance.cassettes import files as cassettes
from conformance.cassettes.cache import CassetteCache
from conformance.cassettes.vcr_adapter import HookedCassette, copy_request, open_cassettes_as
from conformance.scrubbing.scrubber import Scrubber
from conformance.transport.headers import header_items, headers_dict

MATCHER = "conformance"
MULTIPART = "multipart/form-data"
MAX_SHOWN_PART = 256
SKIPPED_PATCHERS = ("boto3", "httplib2", "tornado", "aiohttp", "httpx", "httpx2")
RequestKey = tuple[str, str, tuple[tuple[str, str], ...], str]


def _body_text(body: bytes | str | None) -> str:
    if body is None:
        return ""
    return body.decode("utf-8", "replace") if isinstance(body, bytes) else body


def canonical_body(body: bytes | str | None, content_type: str = "") -> str:
    """JSON bodies compare by value (key order and spacing ignored), multipart bodies by their parts
    (whatever boundary the client chose); anything else as text."""
    text = _body_text(body)
    if not text:
        return ""
    multipart = canonical_multipart(text, content_type)
    if multipart is not None:
        return multipart
    try:
        return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except ValueError:
        return "raw:" + text


def _boundary(text: str, content_type: str) -> str | None:
    media, _, params = content_type.partition(";")
    if media.strip().lower() == MULTIPART:
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "boundary" and value.strip().strip('"'):
                return value.strip().strip('"')
    # Without the header (an old recording), a body that opens with a delimiter line names its boundary.
    first = text.split("\r\n", 1)[0]
    if not content_type and first.startswith("--") and 2 < len(first) <= 72 and text.rstrip().endswith(first + "--"):
        return first[2:]
    return None


def canonical_multipart(text: str, content_type: str = "") -> str | None:
    """``multipart:`` and each part's name, file name, media type and content (a digest when long), by name."""
    boundary = _boundary(text, content_type)
    if boundary is None:
        return None
    head = f'Content-Type: {MULTIPART}; boundary="{boundary}"\r\n\r\n'.encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + text.encode("utf-8", "surrogateescape"))
    if not message.is_multipart():
        return None
    parts = []
    for part in message.iter_parts():
        content = part.get_payload(decode=True)
        data = content if isinstance(content, bytes) else b""
        shown = data.decode("utf-8", "replace") if len(data) <= MAX_SHOWN_PART else None
        parts.append(
            {
                "name": part.get_param("name", header="content-disposition"),
                "filename": part.get_filename(),
                # RFC 7578: a part without a Content-Type is text/plain.
                "type": part.get_content_type() if "content-type" in part else "text/plain",
                "content": shown if shown is not None else "sha256:" + hashlib.sha256(data).hexdigest(),
            }
        )
    # Clients order the parts as they like (fields first, or files); parts of one name keep theirs.
    parts.sort(key=lambda part: str(part["name"]))
    return "multipart:" + json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _content_type(request: Request) -> str:
    headers = request.headers or {}
    if isinstance(headers, HeadersDict):
        value = headers.get("content-type")
        return "" if value is None else str(value[0] if isinstance(value, list) and value else value)
    # A plain dict of headers: look the name up in any case.
    for name, value in headers.items():
        if str(name).lower() == "content-type":
            return str(value[0] if isinstance(value, list) and value else value)
    return ""


def request_key(request: Request) -> RequestKey:
    parts = urlsplit(request.uri)
    query = tuple(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return (request.method.upper(), parts.path or "/", query, canonical_body(request.body, _content_type(request)))


def match_requests(r1: Request, r2: Request) -> None:
    """vcrpy matcher: raises AssertionError naming the first part that differs."""
    k1, k2 = request_key(r1), request_key(r2)
    for label, a, b in zip(("method", "path", "query", "body"), k1, k2, strict=True):
        if a != b:
            raise AssertionError(f"{label} differs: {a!r} != {b!r}")


class ReplayRequest(Request):
    """A vcrpy request that is cheap to deep-copy, as vcrpy does before filtering each request it meets.

    Every field but the headers is immutable (text, bytes, a parsed URI), and filters replace
    rather than edit them, so a copy with its own headers is as good as a deep one.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> Request:
        return copy_request(self, headers_dict(header_items(self.headers)))


def _recorded_request(recorded: dict[str, Any]) -> ReplayRequest:
    headers = headers_dict((recorded.get("headers") or {}).items())
    return ReplayRequest(recorded["method"], recorded["uri"], recorded.get("body"), headers)


def decode_compressed(response: dict[str, Any]) -> dict[str, Any]:
    """vcrpy's ``decode_compressed_response``, which copies every response first, for the few that are compressed."""
    headers = response.get("headers") or {}
    if any(str(name).lower() == "content-encoding" for name in headers):
        decoded: dict[str, Any] = filters.decode_response(response)
        return decoded
    return response


class IndexedCassette(HookedCassette):
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
        filtered = self.filter_request(request)
        key = request_key(filtered) if filtered else None
        self._memo = (request, marker, filtered, key)
        return filtered, key

    def append(self, request: Request, response: dict[str, Any]) -> None:
        before = len(self.data)
        if self.loading and self.record_mode == RecordMode.NONE:
            # vcrpy's append without its copy of the response: one just read from the file is no one
            # else's, and nothing of a pure replay is ever saved.
            filtered = self.filter_request(request)
            answer = self.filter_response(response) if filtered else None
            if answer is not None:
                self.data.append((filtered, answer))
        else:
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

    def answers_to(self, request: Request) -> Iterator[tuple[int, dict[str, Any]]]:
        filtered, key = self._filtered(request)
        if not filtered or key is None:
            return
        # While recording, only what the file held: an answer recorded in this session (a 429 or a 503
        # before its retry, under new_episodes) must not answer the retry in the server's place.
        recording = self.record_mode != RecordMode.NONE
        loaded = self.loaded_count if recording else len(self.data)
        for index in self._index.get(key, ()):
            if index < loaded:
                yield index, self.data[index][1]


class ScrubbingPersister(FilesystemPersister):
    """Reads cassettes with one-line errors; writes them whole, after one last pass for known secrets.

    A path that :func:`cassettes.is_virtual` recognises is a re-recording: nothing is loaded, and
    the text goes to the temporary file beside the cassette, which the plugin renames over it once
    the test has finished and its replay has been verified.
    """

    scrubber: Scrubber = Scrubber(fields=frozenset())
    cache: CassetteCache = CassetteCache(None)

    @classmethod
    def load_cassette(cls, cassette_path: str, serializer: Any) -> tuple[list[Any], ...]:
        path = Path(cassette_path)
        if cassettes.is_virtual(path):
            raise CassetteNotFoundError()
        try:
            raw = cassettes.read_bytes(path)
        except FileNotFoundError:
            raise CassetteNotFoundError() from None
        data = cls.cache.load(
            raw,
            getattr(serializer, "__name__", type(serializer).__name__),
            lambda: cassettes.parse(path, cassettes.decode(path, raw), serializer.deserialize),
            lambda found: cassettes.whole(found) is None,
        )
        interactions = data["interactions"]
        requests = [_recorded_request(item["request"]) for item in interactions]
        responses = [compat.convert_to_bytes(item["response"]) for item in interactions]
        return (requests, responses, data["metadata"]) if data.get("metadata") else (requests, responses)

    @classmethod
    def save_cassette(cls, cassette_path: str, cassette_dict: dict[str, Any], serializer: Any) -> None:
        text = cls.scrubber.cassette_text(cassette_dict, serializer)
        if cassettes.is_virtual(cassette_path):
            cassettes.write_synced(cassettes.real_recording(cassette_path), text)
        else:
            cassettes.write_whole(Path(cassette_path), text)


# Libraries vcrpy tries to import around every recorded request (vcr.patch.reset_patchers).
OPTIONAL_HTTP_LIBRARIES = ("botocore", "httplib2", "tornado", "httpx", "httpx_curl_cffi", "httpx2")


def mark_absent_http_libraries() -> None:
    """Let an import of an HTTP library that is not installed fail at once, not after a path search.

    vcrpy retries those imports for each request it records; a failed import is not cached, and
    the searches were a tenth of a recording's time. ``None`` in ``sys.modules`` is Python's own
    "known to be missing" mark; an installed library is left alone.
    """
    for name in OPTIONAL_HTTP_LIBRARIES:
        if name not in sys.modules and importlib.util.find_spec(name) is None:
            sys.modules[name] = None  # type: ignore[assignment]


def configure_vcr(vcr: VCR, scrubber: Scrubber, cache: CassetteCache | None = None) -> None:
    """Called from ``pytest_recording_configure`` for every cassette a test opens."""
    mark_absent_http_libraries()
    open_cassettes_as(vcr, IndexedCassette)
    vcr.register_matcher(MATCHER, match_requests)
    bound = {"scrubber": scrubber, "cache": cache or CassetteCache(None)}
    persister = type("BoundScrubbingPersister", (ScrubbingPersister,), bound)
    vcr.register_persister(persister)


def vcr_options(scrubber: Scrubber) -> dict[str, Any]:
    """What the plugin's ``vcr_config`` fixture returns."""
    return {
        "match_on": [MATCHER],
        # Functions, not bound methods: pytest-recording deep-copies the options for each test, and a
        # copy of the scrubber would miss the secrets it learns during the test.
        "before_record_request": lambda request: scrubber.request(request),
        "before_record_response": lambda response: scrubber.response(decode_compressed(response)),
        # The client speaks through requests/urllib3/http.client; patching other libraries on every
        # cassette open and close is pure overhead.
        "skip_patchers": SKIPPED_PATCHERS,
    }
