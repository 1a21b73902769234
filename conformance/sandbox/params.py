"""Query strings read the way the operation index says each parameter is serialized.

``page[size]=3`` (deepObject) becomes ``{"page": {"size": 3}}``; values are coerced to the types
the parameter's schema asks for, then validated against the operation's query schema. Keys the
operation does not define are ignored, by List and Get alike. The vendor's generated Python
client sends deepObject parameters as JSON (``page={"size": 3}``); that form is read too.
"""

from __future__ import annotations

import re
from typing import Any

from conformance.contract.schemas import Contract, Operation, schema_uri
from conformance.sandbox.errors import bad_request, query_location, schema_error
from conformance.sandbox.parsing import load_json, parse_query

_DEEP = re.compile(r"^([^\[\]]+)\[([^\[\]]*)\]$")
PAGE_SIZE_TITLE = "page[size] must be an integer from 1 to 100"
# Titles for cursor pagination, the same for every paginated operation, by JSON pointer.
PAGE_TITLES = {
    "/page/size": PAGE_SIZE_TITLE,
    "/page/after": "page[after] must be a record id",
    "/page/before": "page[before] must be a record id",
    "/page": "Only one of page[after] or page[before] may be provided",
}


def _types(schema: Any) -> list[str]:
    kind = schema.get("type") if isinstance(schema, dict) else None
    return [kind] if isinstance(kind, str) else list(kind or [])


def coerce(contract: Contract, value: str, schema: Any) -> Any:
    """A query string value as the schema's type, when it reads as one (else left as text for validation)."""
    schema, _ = contract.deref(schema, "") if isinstance(schema, dict) and "$ref" in schema else (schema, "")
    types = _types(schema)
    text = value.strip()
    if "integer" in types and re.fullmatch(r"[+-]?\d{1,18}", text):
        return int(text)
    if "number" in types:
        try:
            return float(text)
        except ValueError:
            return value
    if "boolean" in types and text in ("true", "false"):
        return text == "true"
    if "array" in types:
        return [coerce(contract, item, (schema or {}).get("items") or {}) for item in value.split(",") if item != ""]
    return value


def _schema_of(contract: Contract, op: Operation, name: str) -> dict[str, Any]:
    if op.query is None:
        return {}
    properties = contract.resolve(op.query).get("properties") or {}
    found = properties.get(name) or {}
    if isinstance(found, dict) and "$ref" in found:
        resolved, _ = contract.deref(found, schema_uri(op.query).split("#")[0])
        return resolved if isinstance(resolved, dict) else {}
    return found if isinstance(found, dict) else {}


def read_query(contract: Contract, op: Operation, text: str) -> dict[str, Any]:
    """The operation's query parameters from ``text``, typed and validated (400 bad_request if not)."""
    defined = {p.name: p for p in op.parameters if p.location == "query"}
    query: dict[str, Any] = {}
    for key, value in parse_query(text):
        deep = _DEEP.match(key)
        name, member = (deep.group(1), deep.group(2)) if deep else (key, None)
        param = defined.get(name)
        if param is None:
            continue
        schema = _schema_of(contract, op, name)
        if member is not None or param.style == "deepObject":
            target = query.setdefault(name, {})
            if not isinstance(target, dict):
                raise bad_request(f"{name} is given both as a value and as {name}[…]")
            members = schema.get("properties") or {}
            given = (
                _json_object(contract, name, value, schema)
                if member is None
                else {member: coerce(contract, value, members.get(member) or {})}
            )
            for sub, item in given.items():
                if members and sub not in members:
                    continue  # an undeclared member is ignored, like an undeclared key
                if sub in target:
                    raise bad_request(f"{name}[{sub}] may be given only once")
                target[sub] = item
        else:
            if name in query:
                raise bad_request(f"{name} may be given only once")
            query[name] = coerce(contract, value, schema)
    if op.query is not None:
        validator = contract.validator(op.query, "request")
        error = schema_error(validator, query, noun="query parameter", where=query_location, titles=PAGE_TITLES)
        if error is not None:
            raise error
    return query


def _json_object(contract: Contract, name: str, value: str, schema: dict[str, Any]) -> dict[str, Any]:
    parsed = load_json(value, f"Query parameter {name}")
    if not isinstance(parsed, dict):
        raise bad_request(f"Query parameter {name} must be a JSON object, or be sent as {name}[...]=…")
    members = schema.get("properties") or {}
    return {
        key: coerce(contract, item, members.get(key) or {}) if isinstance(item, str) else item
        for key, item in parsed.items()
        if item is not None
    }


def flat(query: dict[str, Any]) -> dict[str, Any]:
    """``{"page": {"size": 3}}`` -> ``{"page[size]": 3}``, for links that repeat a request's query."""
    out: dict[str, Any] = {}
    for name, value in query.items():
        if isinstance(value, dict):
            out.update({f"{name}[{member}]": item for member, item in value.items()})
        elif isinstance(value, list):
            out[name] = ",".join(map(str, value))
        else:
            out[name] = value
    return out
