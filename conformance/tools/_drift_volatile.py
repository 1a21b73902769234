"""Values the server chooses (ids, timestamps, secrets, cursors): drift compares them by shape, not by value.

A field is the server's to choose when the resource table names it server-set, the contract marks it
``readOnly`` or gives it the ``date-time`` format, or its name says so (an id or a reference to one,
a timestamp, a secret, a cursor). Two recordings of one server differ there by nature. Such a value
is reduced to its shape (a timestamp's form, so many hex digits after a prefix, a token's length);
the same shape in both recordings is a volatile difference, counted apart. Another shape, another
type, or a field gone is drift like any other.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from conformance.contract.resources import RESOURCES
from conformance.contract.schemas import shipped
from conformance.pointer import MISSING
from conformance.tools._drift_pairing import normalise

# Names that say "the server picked this": ids and references to them, timestamps, secrets, cursors.
_NAMED = re.compile(
    r"^(id|guid|version|received|lastSeen|lastRead|secret)$|Ids?$|At$|LastRead$|Cursor$|Secret$|Token$|_token$"
)
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$")
_HEX = re.compile(r"^([A-Za-z]+_)?([0-9a-f]{8,})$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_\-+/=.~]{16,}$")


def _walk(schema: Any, name: str | None, found: set[str]) -> None:
    if isinstance(schema, dict):
        if name and (schema.get("readOnly") is True or schema.get("format") == "date-time"):
            found.add(name)
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                for prop, sub in value.items():
                    _walk(sub, str(prop), found)
            else:
                # allOf/oneOf/anyOf parts describe the same property; anything deeper is another one.
                _walk(value, name if key in ("allOf", "oneOf", "anyOf") else None, found)
    elif isinstance(schema, list):
        for item in schema:
            _walk(item, name, found)


@cache
def server_chosen_names() -> frozenset[str]:
    """Field names whose values the server sets: from the resource table and the contract's annotations."""
    found: set[str] = {name for item in RESOURCES for name in item.server_fields}
    for document in shipped().documents.values():
        _walk(document, None, found)
    return frozenset(found)


def field_name(pointer: str) -> str:
    """The field a JSON pointer ends at, array positions left out: ``/keys/0/id`` -> ``id``."""
    tokens = [t for t in pointer.split("/") if t and not t.isdigit()]
    return tokens[-1].replace("~1", "/").replace("~0", "~") if tokens else ""


def server_chosen(name: str) -> bool:
    return bool(_NAMED.search(name)) or name in server_chosen_names()


def shape(value: Any) -> str | None:
    """The form of a value the server may choose afresh each time; None for any other value."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return "integer"
    if not isinstance(value, str):
        return None
    if _TIMESTAMP.match(value):
        return "timestamp " + re.sub(r"\d", "9", value)
    if _UUID.match(value):
        return "uuid"
    hex_id = _HEX.match(value)
    if hex_id:
        return f"{hex_id.group(1) or ''}{len(hex_id.group(2))} hex digits"
    if _TOKEN.match(value):
        return f"token of {len(value)} characters"
    return None


def volatile(pointer: str, before: Any, after: Any) -> str | None:
    """What the two values are, when they differ only as values the server chooses: the field, else None."""
    if before is MISSING or after is MISSING or type(before) is not type(after):
        return None
    name = field_name(pointer)
    if server_chosen(name):
        form = shape(before)
        if form is not None and form == shape(after):
            return name
    if isinstance(before, str) and isinstance(after, str) and normalise(before) == normalise(after):
        # Record ids inside text: a link's cursor, an id a message names.
        return f"{name or '/'} (ids in text)"
    return None
