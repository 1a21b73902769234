"""The errors envelope, and readable titles for JSON Schema validation errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import jsonschema

from conformance import pointer as pointers

MAX_REPR = 40
MAX_TITLE = 200
MAX_ERRORS = 20
# Validators whose limit helps the reader more than the message alone does.
LIMITS = ("maxLength", "minLength", "maximum", "minimum", "maxItems", "minItems", "multipleOf")


class ApiError(Exception):
    """An error answer: raised by any step of handling a request, rendered as the errors envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {title}")
        self.status = status
        self.errors = errors or [{"code": code, "title": title}]
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"errors": self.errors}


def bad_request(title: str) -> ApiError:
    return ApiError(400, "bad_request", title)


def envelope(code: str, title: str) -> dict[str, Any]:
    return {"errors": [{"code": code, "title": title}]}


def schema_error(
    validator: jsonschema.protocols.Validator,
    instance: Any,
    *,
    titles: Mapping[str, str] | None = None,
    noun: str = "field",
    where: Callable[[Iterable[Any]], str] | None = None,
) -> ApiError | None:
    """A 400 with one entry per validation error, or None when ``instance`` is valid.

    ``titles`` replaces the generic title of an error at a JSON pointer (``/type``) with a fixed one.
    """
    found = sorted(validator.iter_errors(instance), key=lambda e: ([str(p) for p in e.absolute_path], e.message))
    if not found:
        return None
    entries: list[dict[str, str]] = []
    for title in _titles(found, titles or {}, noun, where or location):
        entry = {"code": "bad_request", "title": title}
        if entry not in entries:
            entries.append(entry)
    return ApiError(400, "bad_request", entries[0]["title"], errors=entries[:MAX_ERRORS])


def _titles(
    errors: Iterable[jsonschema.ValidationError],
    titles: Mapping[str, str],
    noun: str,
    where: Callable[[Iterable[Any]], str],
) -> Iterable[str]:
    for error in errors:
        leaf = _leaf(error)
        fixed = titles.get(pointers.join(leaf.absolute_path))
        yield fixed if fixed is not None else title_of(leaf, noun, where)


def _leaf(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    # anyOf/oneOf only say "not valid under any"; the closest branch says why.
    while error.context:
        error = jsonschema.exceptions.best_match(error.context) or error.context[0]
    return error


def location(path: Iterable[Any]) -> str:
    """``webhooks[0].target`` style, for titles people read."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def short(value: Any) -> str:
    """A value as a title shows it: strings quoted as jsonschema quotes them, the rest as JSON, cut short."""
    if isinstance(value, str):
        text = repr(value)
        return text if len(text) <= MAX_REPR else repr(value[: MAX_REPR - 10])[:-1] + "…" + text[-1]
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_REPR else text[: MAX_REPR - 1] + "…"


def query_location(path: Iterable[Any]) -> str:
    """``page[size]`` style, as query parameters are sent."""
    parts = [str(part) for part in path]
    return parts[0] + "".join(f"[{part}]" for part in parts[1:]) if parts else ""


def title_of(
    error: jsonschema.ValidationError, noun: str = "field", locate: Callable[[Iterable[Any]], str] = location
) -> str:
    where = locate(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        # One error per missing name; the message names it.
        required: list[str] = list(error.validator_value)  # type: ignore[arg-type]
        absent = [name for name in required if name not in error.instance]
        missing = next((name for name in absent if repr(name) in error.message), ", ".join(absent))
        return f"{where + '.' if where else ''}{missing} is required"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set((error.schema.get("properties") or {}).keys()) if isinstance(error.schema, dict) else set()
        extras = ", ".join(repr(name) for name in sorted(error.instance) if name not in allowed)
        return f"{where}: unknown {noun} {extras}" if where else f"Unknown {noun} {extras}"
    if error.validator == "not" and isinstance(error.validator_value, dict):
        together = error.validator_value.get("required")
        if isinstance(together, list) and len(together) == 2 and len(error.validator_value) == 1:
            return f"Only one of {together[0]} or {together[1]} may be provided"
    # jsonschema's messages lead with the instance's Python repr.
    message = error.message.replace(repr(error.instance), short(error.instance), 1)
    if error.validator in LIMITS:
        message += f" ({error.validator} {error.validator_value})"
    title = f"{where}: {message}" if where else message
    return title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1] + "…"
