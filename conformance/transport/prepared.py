"""A request prepared as a plain ``requests.Session`` prepares it, for the replay client's own session.

``Session.request`` merges the session's cookies, auth, params, hooks and environment into every
request and looks the result up again after the answer. The replay client's session holds none of
them (only requests' default headers), so its requests are prepared here directly, step by step as
``Session.prepare_request`` takes them, less what finds nothing: an empty cookie jar adds no header,
no auth and no hooks add nothing. The merges are requests' own, without the runtime protocol checks
that made them most of a replayed exchange's cost, and a URL already prepared with the same query
is not parsed and encoded again: a replay sends most URLs more than once.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import requests
from requests.structures import CaseInsensitiveDict

# URLs a run prepares, kept: a replay of the suite sends about 800 different ones.
URLS_KEPT = 4096


def prepare(session: requests.Session, request: Mapping[str, Any]) -> requests.PreparedRequest:
    """``request`` (``Session.request``'s arguments) as ``session.prepare_request`` prepares it.

    The session must hold no cookies, auth or hooks of its own (the replay client's does not).
    """
    prepared = requests.PreparedRequest()
    prepared.prepare_method(str(request["method"]).upper())
    prepared.url = prepared_url(request["url"], merged(request.get("params"), session.params))
    prepared.prepare_headers(merged(request.get("headers"), session.headers, CaseInsensitiveDict))
    prepared.prepare_body(request.get("data"), None)
    prepared.prepare_auth(None, request["url"])
    prepared.prepare_hooks({})
    return prepared


def merged(given: Any, session_side: Any, kind: type = dict) -> Any:
    """requests' ``merge_setting`` for the mappings a client passes: the session's entries, then the
    request's (a name given in any case once), and none whose value is None."""
    if session_side is None:
        return given
    if given is None:
        return session_side
    if not (isinstance(session_side, Mapping) and isinstance(given, Mapping)):
        return given
    result = kind(session_side.items())
    result.update(given.items())
    for name in [name for name, value in result.items() if value is None]:
        del result[name]
    return result


def prepared_url(url: str, params: Any) -> str:
    """The URL ``PreparedRequest.prepare_url`` makes of ``url`` and ``params`` (None or a mapping),
    kept by both; anything else is prepared every time."""
    if params is None or isinstance(params, Mapping):
        try:
            return _prepared_url(url, None if params is None else tuple(params.items()))
        except TypeError:  # a value that cannot be part of a key (a list of values)
            pass
    return _prepare_url(url, params)


@functools.lru_cache(maxsize=URLS_KEPT)
def _prepared_url(url: str, items: tuple[tuple[Any, Any], ...] | None) -> str:
    return _prepare_url(url, None if items is None else dict(items))


def _prepare_url(url: str, params: Any) -> str:
    prepared = requests.PreparedRequest()
    prepared.prepare_url(url, params)
    return str(prepared.url)
