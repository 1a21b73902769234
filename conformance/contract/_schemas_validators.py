"""Validator classes for the two views, and the ``x-conformance-*`` keywords JSON Schema has no word for.

OpenAPI's ``required`` depends on the direction: a ``readOnly`` property is never required in a
request, a ``writeOnly`` one never in a response (``dependentRequired`` follows the same rule).
A directed overlay correction sits under ``x-conformance-request`` or ``x-conformance-response``;
:func:`view_document` merges the view's own into each schema and drops the other's, so validators,
generators and the sandbox all read one plain schema per view.

Every validator checks ``format`` (``jsonschema[format-nongpl]`` supplies the checkers).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal

import jsonschema
from jsonschema import validators as jsonschema_validators

View = Literal["request", "response"]
VIEWS: tuple[View, ...] = ("request", "response")
VIEW_KEYS: dict[View, str] = {"request": "x-conformance-request", "response": "x-conformance-response"}


def view_document(node: Any, view: View) -> Any:
    """``node`` as ``view`` sees it: its ``x-conformance-<view>`` merged in, the other view's dropped."""
    if isinstance(node, list):
        return [view_document(item, view) for item in node]
    if not isinstance(node, dict):
        return node
    own = node.get(VIEW_KEYS[view])
    out = {key: view_document(value, view) for key, value in node.items() if key not in VIEW_KEYS.values()}
    if isinstance(own, dict):
        _conjoin(out, view_document(own, view))
    return out


def _conjoin(schema: dict[str, Any], extra: dict[str, Any]) -> None:
    """Add ``extra``'s keywords to ``schema`` so that both hold: side by side, or in an ``allOf``."""
    clashes: dict[str, Any] = {}
    for key, value in extra.items():
        if key not in schema or schema[key] is True or schema[key] == {}:
            schema[key] = value
        elif key == "required" and isinstance(value, list):
            schema[key] = [*schema[key], *(name for name in value if name not in schema[key])]
        elif key == "allOf" and isinstance(value, list):
            schema[key] = [*schema[key], *value]
        elif schema[key] != value:
            clashes[key] = value
    if clashes:
        schema["allOf"] = [*schema.get("allOf", []), clashes]


def _view_required(view: View) -> Any:
    hidden = "readOnly" if view == "request" else "writeOnly"

    def required(validator: Any, names: Any, instance: Any, schema: Any) -> Iterator[jsonschema.ValidationError]:
        if not validator.is_type(instance, "object"):
            return
        properties = schema.get("properties") or {}
        for name in names:
            flagged = isinstance(properties.get(name), dict) and properties[name].get(hidden) is True
            if name not in instance and not flagged:
                yield jsonschema.ValidationError(f"{name!r} is a required property")

    return required


def _view_dependent_required(view: View) -> Any:
    hidden = "readOnly" if view == "request" else "writeOnly"

    def dependent_required(
        validator: Any, rules: Any, instance: Any, schema: Any
    ) -> Iterator[jsonschema.ValidationError]:
        if not validator.is_type(instance, "object"):
            return
        properties = schema.get("properties") or {}
        for name, needed in rules.items():
            if name not in instance:
                continue
            for other in needed:
                flagged = isinstance(properties.get(other), dict) and properties[other].get(hidden) is True
                if other not in instance and not flagged:
                    yield jsonschema.ValidationError(f"{other!r} is a dependency of {name!r}")

    return dependent_required


def _same_domain(validator: Any, rule: Any, instance: Any, schema: Any) -> Iterator[jsonschema.ValidationError]:
    """``x-conformance-sameDomain: {address: incomingAddress, domain: domain}``: an address at that domain."""
    if not isinstance(instance, dict) or not isinstance(rule, dict):
        return
    address, domain = instance.get(rule.get("address")), instance.get(rule.get("domain"))
    if isinstance(address, str) and isinstance(domain, str) and not address.lower().endswith("@" + domain.lower()):
        yield jsonschema.ValidationError(
            f"{rule['address']} {address!r} is not an address at {rule['domain']} {domain!r}"
        )


def _max_json_bytes(validator: Any, limit: Any, instance: Any, schema: Any) -> Iterator[jsonschema.ValidationError]:
    """``x-conformance-maxJsonBytes: 4096``: the instance, as compact UTF-8 JSON, is at most that many bytes."""
    if instance is None or not isinstance(limit, int):
        return
    size = len(json.dumps(instance, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass"))
    if size > limit:
        yield jsonschema.ValidationError(f"is {size} bytes as JSON, more than the {limit} allowed")


def _validator_class(view: View) -> Any:
    return jsonschema_validators.extend(  # type: ignore[no-untyped-call]
        jsonschema.Draft202012Validator,
        {
            "required": _view_required(view),
            "dependentRequired": _view_dependent_required(view),
            "x-conformance-sameDomain": _same_domain,
            "x-conformance-maxJsonBytes": _max_json_bytes,
        },
    )


VALIDATORS: dict[View, Any] = {"request": _validator_class("request"), "response": _validator_class("response")}
