"""Variant definitions for the Integrations operations: each strategy yields requests paired with
the outcome they must get. Field shapes come from the schemas; only what a schema cannot say
(plausible URLs, a mail domain that matches its address) is written down here.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from conformance.core.model import Expect, RawBody, Variant
from conformance.core.strategies import base_of, hex_id, not_of_type, required_fields, safe_text, valid_value
from conformance.spec.schemas import declared_fields, property_schema, resolve, write_only_fields

CREATE = "integration-create.request.json"
UPDATE = "integration-update.request.json"
RESOURCE_DEFS = "integration.json#/$defs"
TYPES: list[str] = resolve(f"{RESOURCE_DEFS}/types")["enum"]
TRIGGERS = ["conversation:message", "conversation:read", "conversation:create", "conversation:postback"]

HINTS = {
    "target": safe_text(1, 12).map(lambda slug: f"https://example.com/hooks/{slug}"),
    "triggers": st.lists(st.sampled_from(TRIGGERS), min_size=1, max_size=3, unique=True),
    "domain": safe_text(1, 12).map(lambda name: f"{name.strip('.-_') or 'mail'}.example.com"),
    "accountSid": hex_id().map(lambda h: "AC" + h + "00000000"),
}
BAD_REQUEST = "bad_request"
ECHO_CREATE = (("/type", "/integration/type"), ("/displayName", "/integration/displayName"))


def _fix_up(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    # Rules the spec states only in prose.
    if kind == "mailgun":
        body["incomingAddress"] = f"inbox@{body['domain']}"
    if kind == "twilio":
        body.setdefault("phoneNumberSid", "PN" + "0" * 32)
    return body


def display_names(min_size: int = 1, max_size: int = 100) -> st.SearchStrategy[str]:
    return safe_text(min_size, max_size)


def _optional_credentials(kind: str, required: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The type's own write-only, non-deprecated fields: credentials a real set-up would send."""
    own = resolve(f"{RESOURCE_DEFS}/{kind}").get("properties", {})
    return {
        name: schema
        for name, schema in own.items()
        if schema.get("writeOnly")
        and not schema.get("deprecated")
        and name not in required
        and name != "defaultResponderId"
    }


def create_body(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    """A valid Create Integration body for one integration type."""
    fields = required_fields(CREATE, "type", kind, RESOURCE_DEFS)
    base = base_of(RESOURCE_DEFS)
    required = {name: valid_value(schema, name=name, base=base, hints=HINTS) for name, schema in fields.items()}
    # Sent every time: a real set-up of that channel sends them, and they exercise the scrubber.
    credentials = {
        name: valid_value(schema, name=name, base=base, hints=HINTS)
        for name, schema in _optional_credentials(kind, fields).items()
    }
    return st.fixed_dictionaries(
        {"type": st.just(kind), **required, **credentials}, optional={"displayName": display_names()}
    ).map(lambda body: _fix_up(kind, body))


def rejected(label: str, body: Any) -> Variant:
    return Variant(label=label, body=body, expect=Expect(400, BAD_REQUEST))


def create_valid() -> st.SearchStrategy[list[Variant]]:
    """One valid body per integration type, all sixteen in every draw."""
    return st.tuples(*(create_body(kind) for kind in TYPES)).map(
        lambda bodies: [Variant(f"valid {body['type']} body", body, Expect(201, echo=ECHO_CREATE)) for body in bodies]
    )


def any_create_body() -> st.SearchStrategy[dict[str, Any]]:
    return st.sampled_from(TYPES).flatmap(create_body)


def create_missing_type() -> st.SearchStrategy[Variant]:
    return any_create_body().map(lambda body: rejected("body without type", _without(body, "type")))


def create_unknown_type() -> st.SearchStrategy[Variant]:
    unknown = safe_text(1, 20).filter(lambda name: name not in TYPES)
    return unknown.map(lambda name: rejected(f"unknown type {name!r}", {"type": name}))


def create_wrong_json_types() -> st.SearchStrategy[Variant]:
    wrong_type = not_of_type("string").map(lambda value: ("type", value))
    wrong_name = not_of_type("string", "null").map(lambda value: ("displayName", value))
    return st.tuples(any_create_body(), st.one_of(wrong_type, wrong_name)).map(
        lambda pair: rejected(
            f"{pair[1][0]} of JSON type {type(pair[1][1]).__name__}", {**pair[0], pair[1][0]: pair[1][1]}
        )
    )


def create_long_display_name() -> st.SearchStrategy[Variant]:
    return st.tuples(any_create_body(), display_names(101, 300)).map(
        lambda pair: rejected(f"displayName of {len(pair[1])} characters", {**pair[0], "displayName": pair[1]})
    )


def _kinds_with_required() -> list[str]:
    return [kind for kind in TYPES if required_fields(CREATE, "type", kind, RESOURCE_DEFS)]


def create_missing_required_field() -> st.SearchStrategy[Variant]:
    def drop(kind: str) -> st.SearchStrategy[Variant]:
        names = sorted(required_fields(CREATE, "type", kind, RESOURCE_DEFS))
        return st.tuples(create_body(kind), st.sampled_from(names)).map(
            lambda pair: rejected(f"{kind} body without {pair[1]}", _without(pair[0], pair[1]))
        )

    return st.sampled_from(_kinds_with_required()).flatmap(drop)


def create_empty_object() -> st.SearchStrategy[Variant]:
    return st.just(rejected("empty object", {}))


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def not_json() -> st.SearchStrategy[Variant]:
    broken = st.sampled_from(TYPES).flatmap(
        lambda kind: st.sampled_from(
            [
                f'{{"type": "{kind}"',
                f"type={kind}&displayName=x",
                f"{{'type': '{kind}'}}",
                f'<integration type="{kind}"/>',
                f'{{"type": "{kind}",}}',
            ]
        )
    )
    return broken.filter(lambda text: not _is_json(text)).map(
        lambda text: rejected(f"body that is not JSON: {text[:30]!r}", RawBody(text))
    )


def _without(body: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != name}


# -- Update -------------------------------------------------------------------------------------

UPDATE_KIND = "web"
ECHO_UPDATE = tuple(
    (f"/{name}", f"/integration/{name}")
    for name in ("displayName", "brandColor", "fixedIntroPane", "businessName", "showAIDisclaimer")
)


def update_valid() -> st.SearchStrategy[Variant]:
    """Valid changes to a web integration (its update schema has the most fields)."""
    colour = st.text(alphabet="0123456789abcdef", min_size=6, max_size=6)
    body = st.fixed_dictionaries(
        {},
        optional={
            "displayName": st.one_of(display_names(), st.none()),
            "showAIDisclaimer": st.booleans(),
            "brandColor": colour,
            "fixedIntroPane": st.booleans(),
            "businessName": safe_text(1, 40),
        },
    ).filter(bool)
    return body.map(lambda b: Variant(f"update of {', '.join(sorted(b))}", b, Expect(200, echo=ECHO_UPDATE)))


def update_invalid() -> st.SearchStrategy[Variant]:
    return st.one_of(
        not_of_type("string", "null").map(lambda v: rejected("displayName of a wrong JSON type", {"displayName": v})),
        st.just(rejected("empty displayName", {"displayName": ""})),
        display_names(101, 200).map(lambda v: rejected(f"displayName of {len(v)} characters", {"displayName": v})),
        not_of_type("boolean").map(
            lambda v: rejected("showAIDisclaimer that is not a boolean", {"showAIDisclaimer": v})
        ),
        not_of_type("boolean").map(lambda v: rejected("fixedIntroPane that is not a boolean", {"fixedIntroPane": v})),
        st.just(rejected("array instead of an object", [])),
        not_json(),
    )


# Update fields left out of generated updates: they must name things that exist elsewhere (other
# integrations, responders) or be real third-party credentials.
UPDATE_SKIPPED = frozenset(
    {
        "defaultResponderId",
        "integrationOrder",
        "prechatCapture",
        "accountId",
        "accountManagementAccessToken",
        "pageAccessToken",
        "fromAddress",
        "authenticationMessageSecret",
    }
)
_COLOUR = st.text(alphabet="0123456789abcdef", min_size=6, max_size=6)
_URL = safe_text(1, 12).map(lambda slug: f"https://example.com/assets/{slug}.png")
UPDATE_HINTS = {
    **HINTS,
    "brandColor": _COLOUR,
    "conversationColor": _COLOUR,
    "actionColor": _COLOUR,
    "displayStyle": st.sampled_from(["button", "tab"]),
    "buttonIconUrl": _URL,
    "businessIconUrl": _URL,
    "backgroundImageUrl": _URL,
    "buttonWidth": st.sampled_from(["48", "58", "64"]),
    "buttonHeight": st.sampled_from(["48", "58", "64"]),
    "originWhitelist": st.lists(
        safe_text(1, 10).map(lambda h: f"https://{h.strip('.-_') or 'www'}.example.com"), min_size=1, max_size=2
    ),
    "hsmFallbackLanguage": st.sampled_from(["en_US", "fr_FR", "de_DE"]),
    "displayName": display_names(),
}


def update_fields(kind: str) -> dict[str, dict[str, Any]]:
    """The fields an update of ``kind`` may change: declared, writable, not deprecated, not skipped."""
    ref = f"{UPDATE}#/$defs/{kind}"
    names = declared_fields(ref) - write_only_fields(ref) - UPDATE_SKIPPED
    schemas = {name: property_schema(ref, name) for name in sorted(names)}
    return {name: schema for name, schema in schemas.items() if not schema.get("deprecated")}


def update_body(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    base = base_of(UPDATE)
    fields = {
        name: valid_value(schema, name=name, base=base, hints=UPDATE_HINTS)
        for name, schema in update_fields(kind).items()
        if name != "displayName"
    }
    # displayName always changes, so every update has something to verify.
    return st.fixed_dictionaries({"displayName": display_names()}, optional=fields)


def echo_of(body: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple((f"/{name}", f"/integration/{name}") for name in sorted(body))


def update_every_type() -> st.SearchStrategy[list[Variant]]:
    """One valid update per integration type, in the order of :data:`TYPES`."""
    return st.tuples(*(update_body(kind) for kind in TYPES)).map(
        lambda bodies: [
            Variant(f"update of a {kind} integration", body, Expect(200, echo=echo_of(body)))
            for kind, body in zip(TYPES, bodies, strict=True)
        ]
    )


def update_wrong_type_for_every_type() -> st.SearchStrategy[list[Variant]]:
    """For each type, one of its update fields set to a value of the wrong JSON type."""

    def wrong(kind: str) -> st.SearchStrategy[Variant]:
        typed = {name: schema for name, schema in update_fields(kind).items() if "type" in schema}
        return st.sampled_from(sorted(typed)).flatmap(
            lambda name: _not_schema_type(typed[name]).map(
                lambda value: rejected(f"{kind} update with {name} of a wrong JSON type", {name: value})
            )
        )

    return st.tuples(*(wrong(kind) for kind in TYPES)).map(list)


def _not_schema_type(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    return not_of_type(*types)


def unknown_ids() -> st.SearchStrategy[Variant]:
    return hex_id().map(
        lambda value: Variant("unknown integration id", None, Expect(404), params={"path": {"integrationId": value}})
    )
