"""The one module that touches vcrpy's and requests' private parts.

Each function below names what the project needs of them; ``tests/test_vcr_adapter.py`` holds
every part to what these functions assume, so an upgrade that renames or changes one fails there,
naming the part, and nowhere else. Why each part is used:

* ``Cassette._metadata``: read a cassette's metadata without adding the key (``get_metadata``
  stores its default), and replace a value already stored;
* ``Cassette._load``, ``_responses``, ``_before_record_response`` and ``_loaded_count``: the
  indexed cassette's lookups (``HookedCassette`` gives them names of ours);
* ``VCR._use_cassette`` and ``__class__``: pytest-recording builds a plain ``VCR``; the cassette
  class it opens is chosen by swapping the instance's class;
* ``Request._body`` and ``_to_dict``: a cheap copy of a request, and a request as it is saved;
* ``_store`` of vcrpy's ``HeadersDict`` and requests' ``CaseInsensitiveDict``: both map the
  lower-cased name to ``(name as first given, value)``; read and filled directly, as that is cheaper;
* ``Response._content`` and ``_content_consumed``: a body read already (bounded, or from a cassette).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator, Mapping
from typing import Any

import requests
from vcr import VCR
from vcr.cassette import Cassette
from vcr.request import Request


def stored_metadata(cassette: Any, key: str) -> Any:
    """The value a cassette holds under ``key``, or None; never adds the key (``get_metadata`` would)."""
    metadata = getattr(cassette, "_metadata", None)
    return metadata.get(key) if isinstance(metadata, dict) else None


def store_metadata(cassette: Any, key: str, value: Any) -> None:
    """Store ``value`` under ``key``, replacing what the cassette held (``get_metadata`` only adds)."""
    cassette._metadata[key] = value


class HookedCassette(Cassette):
    """vcrpy's cassette with the private hooks a subclass needs under names of ours.

    Override :meth:`answers_to` (every recorded answer to a request, with its index), never vcrpy's
    ``_responses``; :attr:`loading` is true while the cassette's file is being read.
    """

    loading = False

    def _load(self) -> None:
        self.loading = True
        try:
            super()._load()
        finally:
            self.loading = False

    def _responses(self, request: Request) -> Iterator[tuple[int, dict[str, Any]]]:
        return self.answers_to(request)

    def answers_to(self, request: Request) -> Iterator[tuple[int, dict[str, Any]]]:
        answers: Iterator[tuple[int, dict[str, Any]]] = super()._responses(request)
        return answers

    def filter_response(self, response: dict[str, Any]) -> dict[str, Any] | None:
        """The ``before_record_response`` filter (vcrpy has ``filter_request`` only)."""
        filtered: dict[str, Any] | None = self._before_record_response(response)
        return filtered

    @property
    def loaded_count(self) -> int:
        """How many interactions at the start of ``data`` came from the file."""
        return int(self._loaded_count)


class _ChosenCassetteVCR(VCR):
    """A VCR that opens ``cassette_class`` (stock vcrpy always opens ``Cassette``)."""

    cassette_class: type[Cassette] = Cassette

    def _use_cassette(self, with_current_defaults: bool = False, **kwargs: Any) -> Any:
        if with_current_defaults:
            return self.cassette_class.use(**self.get_merged_config(**kwargs))
        return self.cassette_class.use_arg_getter(functools.partial(self.get_merged_config, **kwargs))


def open_cassettes_as(vcr: VCR, cassette_class: type[Cassette]) -> None:
    """Make ``vcr`` open ``cassette_class``, keeping every setting it was given (pytest-recording made it)."""
    vcr.__class__ = _ChosenCassetteVCR
    vcr.cassette_class = cassette_class


def copy_request(request: Request, headers: Any) -> Request:
    """A copy of ``request`` with ``headers``; every other field is immutable and shared, but a streamed
    body's list of chunks, which is copied."""
    copied = copy.copy(request)
    copied.headers = headers
    if isinstance(request._body, list):
        copied._body = list(request._body)
    return copied


def request_as_dict(request: Request) -> dict[str, Any]:
    """The request as vcrpy saves it in a cassette: method, uri, body, and each header as a list."""
    saved: dict[str, Any] = request._to_dict()
    return saved


def header_store(headers: Mapping[str, Any]) -> dict[str, tuple[str, Any]] | None:
    """The lower-cased name -> ``(name as first given, value)`` store of a vcrpy or requests header
    dict; None for any other mapping."""
    store = getattr(headers, "_store", None)
    return store if isinstance(store, dict) else None


def set_read_content(response: requests.Response, content: bytes) -> None:
    """Give ``response`` a body read already: nothing is left on a connection to read or release."""
    response._content = content
    response._content_consumed = True  # type: ignore[attr-defined]
