"""Variant definitions for the Integrations operations: each strategy yields requests paired with
the outcome they must get. Field shapes come from the schemas; only what a schema cannot say
(plausible URLs, a mail domain that matches its address) is written down here.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from conformance.client import RawBody
from conformance.generate import base_of, hex_id, not_of_type, required_fields, safe_text, valid_value
from conformance.schemas import resolve
from conformance.variants import Expect, Variant

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
        if schema.get("writeOnly") and not schema.get("deprecated") and name not in required
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


def unknown_ids() -> st.SearchStrategy[Variant]:
    return hex_id().map(
        lambda value: Variant("unknown integration id", None, Expect(404), params={"path": {"integrationId": value}})
    )
