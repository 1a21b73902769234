"""Matching a method and path to an operation of the index, from its path templates alone."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from conformance.contract.schemas import Operation

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def compile_template(template: str) -> re.Pattern[str]:
    """``/v2/apps/{appId}`` -> a regex with one named group per parameter, each one segment."""
    pattern, last = "", 0
    for match in _PARAM.finditer(template):
        pattern += re.escape(template[last : match.start()]) + f"(?P<{match.group(1)}>[^/]+)"
        last = match.end()
    return re.compile(pattern + re.escape(template[last:]))


@dataclass(frozen=True)
class Match:
    operation: Operation | None
    params: dict[str, str]
    # Methods the path does answer when the operation is None, for a 405's Allow header.
    allowed: tuple[str, ...] = ()


class Router:
    def __init__(self, operations: Mapping[str, Operation]) -> None:
        by_template: dict[str, dict[str, Operation]] = {}
        for op in operations.values():
            by_template.setdefault(op.path, {})[op.method] = op
        # Literal segments before parameters: "/apps/{appId}/keys" must not lose to "/apps/{appId}/{x}".
        ordered = sorted(by_template.items(), key=lambda item: _PARAM.sub("\uffff", item[0]))
        self._routes = [(compile_template(template), methods) for template, methods in ordered]

    def match(self, method: str, path: str) -> Match | None:
        """The operation for ``method path``; a Match without one when only the method is wrong."""
        allowed: set[str] = set()
        for pattern, methods in self._routes:
            found = pattern.fullmatch(path)
            if found is None:
                continue
            op = methods.get(method.upper())
            if op is not None:
                return Match(op, {name: unquote(value) for name, value in found.groupdict().items()})
            allowed |= set(methods)
        return Match(None, {}, tuple(sorted(allowed))) if allowed else None
