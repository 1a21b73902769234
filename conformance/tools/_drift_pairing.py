"""Reading cassettes for drift and pairing their exchanges: by the pinned variant and operation, else by request.

An attempt the client retried is left out, so two recordings pair by what each exchange finally
got. Values that differ between any two recordings by nature (record ids, hosts) are normalised,
so that a request naming a record the run created (``/keys/app_…``) pairs with its counterpart.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.cassettes import files as cassettes
from conformance.cassettes.files import CorruptCassette
from conformance.cassettes.recording import canonical_body
from conformance.session import runs
from conformance.transport.client import IDEMPOTENT, recorded_break, retryable

# A record id anywhere in a request, after a key prefix too (``app_``, ``int_``: "_" is a word character).
_ID = re.compile(r"(?<![0-9a-f])[0-9a-f]{24}(?![0-9a-f])")
_ORIGIN = re.compile(r"https?://[^/\s\"]+")
Key = tuple[str, str, int]  # (operation or request, variant or request body, its number among equals)


class DriftError(Exception):
    """An input that cannot be compared at all; the message is one line."""


def normalise(text: str) -> str:
    # Record ids, hosts and run ids differ between two recordings of the same variants.
    return runs.without_run_ids(_ID.sub("{id}", _ORIGIN.sub("", text)))


def without_origins(text: str) -> str:
    return _ORIGIN.sub("", text)


def normalise_json(value: Any, normal: Callable[[str], str] = normalise) -> Any:
    """Every string in ``value`` normalised (by default: origins out, record ids as ``{id}``)."""
    if isinstance(value, dict):
        return {key: normalise_json(item, normal) for key, item in value.items()}
    if isinstance(value, list):
        return [normalise_json(item, normal) for item in value]
    return normal(value) if isinstance(value, str) else value


@dataclass
class Cassette:
    interactions: list[dict[str, Any]]
    pins: dict[str, Any]


def load_cassette(path: Path, root: Path | None = None) -> Cassette:
    """One cassette file; anything that is not one is a DriftError naming the file (and how to re-record it)."""
    if not path.is_file():
        raise DriftError(f"the cassette {path} does not exist")
    try:
        data = cassettes.load_file(path)
    except CorruptCassette as error:
        raise DriftError(error.describe(rerecord_command(path, root))) from None
    interactions = data.get("interactions")
    if not isinstance(interactions, list) or not all(_is_interaction(item) for item in interactions):
        raise DriftError(f"the cassette {path} is not a recording: it holds no list of requests and responses")
    pins = (data.get("metadata") or {}).get("conformance") if isinstance(data.get("metadata"), dict) else None
    return Cassette(interactions, pins if isinstance(pins, dict) else {})


def rerecord_command(path: Path, root: Path | None = None) -> str:
    """The command that records the test whose cassette ``path`` is, into the folder it was read from."""
    folder = root or path.parent.parent
    test = f"conformance/suites/{path.parent.name}.py::{path.stem}"
    settings = "SUNCO_API_URL=… SUNCO_APP_ID=… SUNCO_KEY_ID=… SUNCO_KEY_SECRET=…"
    return f"{settings} pytest {test} --record-mode=rewrite --cassette-dir={folder}"


def _is_interaction(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("request"), dict)
        and isinstance(item.get("response"), dict)
        and isinstance((item["response"].get("status") or {}).get("code"), int)
    )


@dataclass(frozen=True)
class Paired:
    """One exchange as drift sees it: its final request and answer, retries left out."""

    label: str
    request: dict[str, Any]
    response: dict[str, Any]
    variant: str | None = None


def _retried(interaction: dict[str, Any]) -> bool:
    """An attempt the client retried: a 429, or a 5xx or broken-off exchange of an idempotent request."""
    method = str(interaction["request"]["method"]).upper()
    response = interaction["response"]
    if recorded_break(response) is not None:
        return method in IDEMPOTENT
    return retryable(method, int(response["status"]["code"]))


def final_attempts(interactions: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Each exchange's last attempt, and how many retried attempts were left out.

    The client retries by its own policy (``retryable``); a retried attempt is followed by the same
    request, so two recordings pair by what each exchange finally got, however often it was retried.
    """
    kept: list[dict[str, Any]] = []
    for interaction in interactions:
        if kept and _retried(kept[-1]) and request_shape(kept[-1]["request"]) == request_shape(interaction["request"]):
            kept[-1] = interaction
        else:
            kept.append(interaction)
    return kept, len(interactions) - len(kept)


def request_label(request: dict[str, Any]) -> str:
    uri = str(request.get("uri"))
    path, mark, query = uri.partition("?")
    # Query parameters in any order ask the same thing (a resent variant may order them otherwise).
    ordered = path + mark + "&".join(sorted(query.split("&"))) if mark else uri
    return f"{request.get('method')} {normalise(ordered)}"


def request_shape(request: dict[str, Any]) -> tuple[str, str]:
    return request_label(request), normalise(canonical_body(request.get("body")))


def noted_exchanges(cassette: Cassette) -> list[dict[str, Any]] | None:
    """The session's list of exchanges, when it accounts for every interaction."""
    noted = cassette.pins.get("exchanges")
    if not isinstance(noted, list) or not all(
        isinstance(e, dict) and isinstance(e.get("operation"), str) and isinstance(e.get("attempts"), int)
        for e in noted
    ):
        return None
    attempts = [entry["attempts"] for entry in noted]
    if any(count < 1 for count in attempts) or sum(attempts) != len(cassette.interactions):
        return None
    return noted


def exchanges(cassette: Cassette, by_metadata: bool) -> tuple[dict[Key, Paired], int]:
    """Exchanges by key, and how many retried answers were left out."""
    found: dict[Key, Paired] = {}
    seen: Counter[tuple[str, str]] = Counter()
    retried = 0
    noted = noted_exchanges(cassette) if by_metadata else None
    if noted is not None:
        position, context = 0, ""
        for entry in noted:
            final = cassette.interactions[position + entry["attempts"] - 1]
            retried += entry["attempts"] - 1
            position += entry["attempts"]
            variant = entry.get("variant") if isinstance(entry.get("variant"), str) else None
            # A step without a variant belongs to the flow of the variant before it (get what it created).
            context = variant or context
            ident = (entry["operation"], variant or (f"after {context}" if context else ""))
            label = " ".join(filter(None, ident))
            found[(*ident, seen[ident])] = Paired(label, final["request"], final["response"], variant)
            seen[ident] += 1
        return found, retried
    items, retried = final_attempts(cassette.interactions)
    for item in items:
        ident = request_shape(item["request"])
        found[(*ident, seen[ident])] = Paired(ident[0], item["request"], item["response"])
        seen[ident] += 1
    return found, retried
