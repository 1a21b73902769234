"""JSON pointers (RFC 6901): the one place that escapes, joins and resolves them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "(absent)", "__bool__": lambda self: False})()


def escape(token: object) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def join(path: Iterable[object]) -> str:
    """``["a", 0, "b/c"]`` -> ``/a/0/b~1c``; the empty path is the whole document, ``""``."""
    return "".join("/" + escape(part) for part in path)


def child(pointer: str, token: object) -> str:
    return f"{pointer}/{escape(token)}"


def tokens(pointer: str) -> list[str]:
    return [unescape(token) for token in pointer.split("/")[1:]] if pointer else []


def resolve(document: Any, pointer: str) -> Any:
    """The value at ``pointer``, or :data:`MISSING`."""
    current = document
    for token in tokens(pointer):
        if isinstance(current, dict) and token in current:
            current = current[token]
        elif isinstance(current, list) and token.isdigit() and int(token) < len(current):
            current = current[int(token)]
        else:
            return MISSING
    return current


def remove(document: Any, pointer: str) -> bool:
    """Delete the value at ``pointer`` in place; False when there was none."""
    *parents, last = tokens(pointer) or [""]
    holder = resolve(document, join(parents))
    if isinstance(holder, dict) and last in holder:
        del holder[last]
        return True
    if isinstance(holder, list) and last.isdigit() and int(last) < len(holder):
        del holder[int(last)]
        return True
    return False
