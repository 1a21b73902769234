"""Symbols in pinned variants: what a run chose (record ids, the target's URL, secrets) by name.

A pinned variant must be resendable to any server (``--variants-from``) and still replay exactly.
So when a variant is pinned, each value the run did not draw itself becomes a symbol, written
``{{kind:argument}}`` inside the string that held it; sending resolves each symbol again, against
the current run (live) or against the recorded exchanges (replay). The kinds are the session's
business (:mod:`conformance.variants.resend`); this module only writes and reads them. A literal
``{{`` in a drawn value is pinned as ``{{open}}``, so every other ``{{`` starts a symbol.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

OPEN = "open"  # the symbol that stands for a literal "{{"
_SYMBOL = re.compile(r"\{\{([^{}]*)\}\}")
_ONLY = re.compile(r"(?:\{\{[^{}]*\}\})+")
# Below this length a value is a symbol only where it is a whole string: as a part it could be anything.
DISTINCT = 8


class Unresolved(LookupError):
    """A symbol the current run cannot give a value for (a record it did not create, a setting it lacks)."""

    def __init__(self, symbol: str) -> None:
        super().__init__(symbol)
        self.symbol = symbol


def written(name: str) -> str:
    return "{{" + name + "}}"


def names_in(text: str) -> list[str]:
    """The symbols a pinned string holds, but for the escaped braces."""
    return [match.group(1) for match in _SYMBOL.finditer(text) if match.group(1) != OPEN]


def only_symbols(text: str) -> bool:
    """Whether a string is nothing but symbols (a secret's name, say), so scrubbing must leave it."""
    return bool(_ONLY.fullmatch(text)) and bool(names_in(text))


def abstracter(known: Mapping[str, str]) -> Callable[[str], str]:
    """A function that writes each ``known`` value (concrete value -> symbol name) in a string as its symbol.

    Longer values win over shorter ones they contain; a value shorter than DISTINCT only as a whole string.
    """
    whole = {value: name for value, name in known.items() if value}
    parts = sorted((value for value in whole if len(value) >= DISTINCT), key=lambda value: (-len(value), value))
    pattern = re.compile("|".join([*(re.escape(value) for value in parts), re.escape("{{")]))

    def abstract(text: str) -> str:
        if text in whole:
            return written(whole[text])
        return pattern.sub(lambda match: written(whole.get(match.group(0), OPEN)), text)

    return abstract


def resolver(lookup: Callable[[str], str | None]) -> Callable[[str], str]:
    """A function that writes each symbol of a pinned string as ``lookup`` gives it; None raises Unresolved."""

    def value(name: str) -> str:
        if name == OPEN:
            return "{{"
        found = lookup(name)
        if found is None:
            raise Unresolved(name)
        return found

    def resolve(text: str) -> str:
        return _SYMBOL.sub(lambda match: value(match.group(1)), text) if "{{" in text else text

    return resolve


def map_pinned(pinned: Mapping[str, Any], change: Callable[[str], str]) -> dict[str, Any]:
    """A pinned variant (``Variant.as_json``) with ``change`` applied to every value it sends.

    Those are the strings of a JSON body, a raw body, a form's or a multipart's field values, and
    the path and query parameters; never a name, a label, a content type or a file.
    """
    out = dict(pinned)
    body = dict(pinned.get("body") or {})
    if "json" in body:
        body["json"] = _strings(body["json"], change)
    if isinstance(body.get("raw"), str):
        body["raw"] = change(body["raw"])
    if "form" in body:
        body["form"] = [[name, change(value) if isinstance(value, str) else value] for name, value in body["form"]]
    if "multipart" in body:
        parts = dict(body["multipart"])
        parts["fields"] = [[name, change(value)] for name, value in parts.get("fields", ())]
        body["multipart"] = parts
    out["body"] = body
    if "params" in pinned:
        out["params"] = {
            kind: {name: change(value) if isinstance(value, str) else value for name, value in values.items()}
            for kind, values in pinned["params"].items()
        }
    return out


def _strings(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, dict):
        return {key: _strings(sub, change) for key, sub in value.items()}
    if isinstance(value, list):
        return [_strings(sub, change) for sub in value]
    return change(value) if isinstance(value, str) else value


def symbols_in(pinned: Mapping[str, Any]) -> list[str]:
    """Every symbol a pinned variant holds, in order."""
    found: list[str] = []

    def collect(text: str) -> str:
        found.extend(names_in(text))
        return text

    map_pinned(pinned, collect)
    return found
