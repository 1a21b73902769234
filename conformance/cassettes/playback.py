"""Replay without a socket: a requests transport that answers from the open vcrpy cassette.

vcrpy replays by patching http.client and urllib3's connections, so a replayed request still
goes through urllib3's pool, a stub connection, and a header block written out and parsed back
by the email parser; that was most of a replayed exchange's cost. In replay (record mode
``none``) the client mounts this adapter instead. The cassette is asked exactly as vcrpy's stub
asks it (``can_play_response_for``, then ``play_response``), so matching, scrubbing, play counts
and the "unplayed exchanges" check are vcrpy's and the cassette's own; a request it cannot play
raises vcrpy's own ``CannotOverwriteExistingCassetteException``. Only the transport is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.record_mode import RecordMode

from conformance.cassettes.recording import ReplayRequest
from conformance.cassettes.vcr_adapter import set_read_content
from conformance.transport.headers import header_items, headers_dict


class CassetteAdapter(BaseAdapter):
    """Answers each request with the cassette's recorded response, as vcrpy's stub connection would."""

    def __init__(self, cassette: Any) -> None:
        super().__init__()
        self.cassette = cassette
        self._fallback: HTTPAdapter | None = None

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        sent = ReplayRequest(request.method, request.url, request.body, headers_dict(header_items(request.headers)))
        cassette = self.cassette
        if cassette.can_play_response_for(sent):
            return response_from(request, cassette.play_response(sent))
        if cassette.write_protected and cassette.filter_request(sent):
            raise CannotOverwriteExistingCassetteException(cassette=cassette, failed_request=sent)
        # A request the cassette lets through (an ignored host): the ordinary transport, under vcrpy.
        if self._fallback is None:
            self._fallback = HTTPAdapter()
        return self._fallback.send(request, *args, **kwargs)

    def close(self) -> None:
        if self._fallback is not None:
            self._fallback.close()


def replays(cassette: Any) -> bool:
    """Whether ``cassette`` only plays back (record mode ``none``), so the adapter may stand in."""
    return cassette is not None and getattr(cassette, "record_mode", None) == RecordMode.NONE


def response_from(request: requests.PreparedRequest, recorded: Mapping[str, Any]) -> requests.Response:
    """A requests Response as vcrpy's stub and requests would build it from the recorded answer.

    Header values are joined with ", " per name, as urllib3 joins repeated headers, and
    Transfer-Encoding is dropped, as vcrpy drops it (the body is whole).
    """
    headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()
    for name, values in (recorded.get("headers") or {}).items():
        if name.lower() == "transfer-encoding":
            continue
        joined = ", ".join(str(value) for value in (values if isinstance(values, list) else [values]))
        headers[name] = f"{headers[name]}, {joined}" if name in headers else joined
    content = (recorded.get("body") or {}).get("string")
    response = requests.Response()
    response.status_code = int(recorded["status"]["code"])
    response.reason = recorded["status"].get("message")
    response.headers = headers
    response.encoding = get_encoding_from_headers(headers)
    # Read already: nothing is left on a connection to release (there is none).
    set_read_content(response, content.encode("utf-8") if isinstance(content, str) else (content or b""))
    response.url = request.url or ""
    response.request = request
    return response
