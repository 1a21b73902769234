"""Reading JSON and query strings from untrusted input: every refusal is a 400, never a crash.

The limits keep every later step (schema validation, copies in the store, the JSON answer)
well inside Python's recursion limit and its int-to-str limit.
"""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any
from urllib.parse import parse_qsl

from conformance.sandbox.errors import bad_request

MAX_DEPTH = 100
# A JSON number must fit a double, as it would for the API's JavaScript clients.
MAX_DIGITS = len(str(int(sys.float_info.max)))
_SURROGATE = re.compile("[\ud800-\udfff]")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


class _Refused(Exception):
    """Raised from inside json.loads hooks, which pass any exception through."""


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS or abs(value := int(text)) > sys.float_info.max:
        raise _Refused(text)
    return value


def _real(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(text)
    return value


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check_shape(value: Any) -> str | None:
    """Why ``value`` is refused (too deep, or a string that is not Unicode text), or None."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                return f"nests deeper than {MAX_DEPTH} levels"
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
        elif isinstance(item, str) and _SURROGATE.search(item):
            return "has a string with a lone UTF-16 surrogate (not Unicode text)"
    return None


def load_json(text: str | bytes, what: str = "Request body") -> Any:
    """Parse JSON text, or raise a 400 naming why it is refused."""
    try:
        decoded = text.decode("utf-8") if isinstance(text, bytes) else text
        value = json.loads(decoded, parse_int=_integer, parse_float=_real, parse_constant=_constant)
    except RecursionError:
        # json.loads recurses once per level; far past MAX_DEPTH it runs out of stack.
        raise bad_request(f"{what} nests deeper than {MAX_DEPTH} levels") from None
    except ValueError:
        raise bad_request(f"{what} is not valid JSON") from None
    except _Refused:
        raise bad_request(f"{what} has a number out of range (it must fit a double)") from None
    reason = _check_shape(value)
    if reason is not None:
        raise bad_request(f"{what} {reason}")
    return value


def parse_query(text: str) -> list[tuple[str, str]]:
    """Name-value pairs of a query string as sent; 400 when its percent-encoding is broken.

    ``text`` is the raw query in WSGI form (latin-1 characters standing for bytes).
    """
    if _BAD_ESCAPE.search(text):
        raise bad_request("Query string has a '%' that is not followed by two hexadecimal digits")
    try:
        return parse_qsl(text.encode("latin-1").decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeError:
        raise bad_request("Query string is not percent-encoded UTF-8") from None
