"""Scrubbing by structure: known values at any depth, type and length; placeholders that fit the schema."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import jsonschema
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from vcr.request import Request
from vcr.serializers import yamlserializer

from conformance import flows
from conformance.core.placeholders import PLACEHOLDER, SECRET_PLACEHOLDER, fitting, placeholder
from conformance.core.redact import scrub_report
from conformance.core.scrub import Scrubber, credential_fields
from conformance.core.settings import Settings
from conformance.spec.resources import resource
from conformance.spec.schemas import contract, property_schema, schema_uri, validator

TYPES = flows.shapes(resource("integration"))

BASE = "https://api.example.test/v2/apps/5d8cff3cd55b040010928b5b/integrations"
NESTED = "https://hooks.private.example/in"
CHANNELS = {
    "custom": {"webhooks": [{"target": NESTED, "triggers": ["conversation:message"]}]},
    "messenger": {"pageId": 918273645, "pageAccessToken": "pat"},
    "messagebird": {"originator": "Ψ~q"},
}
SETTINGS = Settings(
    "http://127.0.0.1:1", "5d8cff3cd55b040010928b5b", "app_keyid-0123", "key-secret-Zx9Qv", channels=CHANNELS
)
TRUNCATED = "cn-long-canary-that-the-sandbox-cuts-short-q7Wv-0123456789"


def req(method: str = "POST", uri: str = BASE, body: object = None, headers: dict | None = None) -> Request:
    raw = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body).encode()
    return Request(method, uri, raw, headers or {})


def answer(payload: object) -> dict[str, Any]:
    return {
        "status": {"code": 201, "message": "Created"},
        "headers": {"Content-Type": ["application/json"]},
        "body": {"string": json.dumps(payload).encode()},
    }


def stored(request: Request) -> Any:
    return json.loads(request.body)


# -- by structure -------------------------------------------------------------------------------


def test_channel_values_are_scrubbed_at_any_depth_type_and_length():
    scrub = Scrubber(SETTINGS.secrets)
    custom = stored(scrub.request(req(body={"type": "custom", **CHANNELS["custom"]})))
    messenger = stored(scrub.request(req(body={"type": "messenger", **CHANNELS["messenger"]})))
    bird = stored(scrub.request(req(body={"type": "messagebird", "accessKey": "a", **CHANNELS["messagebird"]})))
    # Every value in the file counts as secret, but a trigger name is one of the API's own words
    # (an enum value of the contract), so it stays: scrubbing it would break replay, and hide nothing.
    assert custom["webhooks"][0] == {"target": PLACEHOLDER, "triggers": ["conversation:message"]}
    assert messenger == {"type": "messenger", "pageId": 0, "pageAccessToken": PLACEHOLDER}
    assert bird["originator"] == PLACEHOLDER
    echoed = {"integration": {"type": "messenger", "pageId": 918273645, "pageName": "918273645"}}
    body = json.loads(scrub.response(answer(echoed))["body"]["string"])
    assert body["integration"] == {"type": "messenger", "pageId": 0, "pageName": PLACEHOLDER}


def test_secrets_include_every_leaf_of_the_channels_file_and_the_encoded_credentials():
    secrets = SETTINGS.secrets
    assert {NESTED, 918273645, "pat", "Ψ~q", "app_keyid-0123", "key-secret-Zx9Qv"} <= set(secrets)
    assert base64.b64encode(b"app_keyid-0123:key-secret-Zx9Qv").decode() in secrets
    assert "conversation:message" in secrets


def test_settings_repr_shows_no_secret():
    shown = repr(SETTINGS)
    assert "key-secret-Zx9Qv" not in shown
    assert "app_keyid-0123" not in shown
    assert NESTED not in shown


def test_a_secret_that_is_an_api_word_leaves_paths_and_field_names_alone():
    scrub = Scrubber(["integration", "apps", "type"])
    body = {"integration": {"type": "web", "displayName": "integration"}}
    original = req("GET", BASE + "/5f0c?page[size]=2", body, {"Authorization": "Basic aW50ZWdyYXRpb24="})
    cleaned = scrub.request(original)
    assert cleaned.uri == original.uri
    assert stored(cleaned) == body
    assert cleaned.headers == {"Authorization": f"Basic {PLACEHOLDER}"}


def test_secrets_in_path_parameters_and_query_values_go_but_literals_and_names_stay():
    scrub = Scrubber(["sekrit-value-123", "ab"])
    cleaned = scrub.request(req("GET", BASE + "/sekrit-value-123?filter=ab&other=xaby&ab=1"))
    assert cleaned.uri == (f"{BASE}/{SECRET_PLACEHOLDER}?filter={SECRET_PLACEHOLDER}&other=xaby&ab=1")


def test_non_json_bodies_and_headers_lose_the_exact_secret():
    scrub = Scrubber(["sekrit-value-123"])
    cleaned = scrub.request(req(body=b"token=sekrit-value-123&x=1", headers={"X-Echo": "sekrit-value-123"}))
    assert cleaned.body == f"token={SECRET_PLACEHOLDER}&x=1".encode()
    assert cleaned.headers["X-Echo"] == SECRET_PLACEHOLDER


def test_free_text_loses_every_form_and_fragments_of_a_secret():
    secret = "cn-sécrét-€-🔑-KEYSECRET-9Qz"
    scrub = Scrubber([secret, TRUNCATED, "Ψ~q"])
    forms = [secret, json.dumps(secret)[1:-1], quote(secret, safe=""), base64.b64encode(secret.encode()).decode()]
    for form in forms:
        assert form not in scrub.text(f"password = {form!r}")
    echoed = f"tier: {TRUNCATED[:30]!r}… is not one of ['standard']"
    assert TRUNCATED[:16] not in scrub.text(echoed)
    assert scrub.text("originator: 'Ψ~q' is too short") == f"originator: '{SECRET_PLACEHOLDER}' is too short"
    # A short secret goes only as a whole word.
    assert scrub.text("xΨ~qx") == "xΨ~qx"


def test_a_cassette_keeps_its_keys_while_every_value_loses_the_secret(tmp_path):
    secret = "interactions-9f8e7d"
    scrub = Scrubber([secret])
    text = scrub.cassette_text(
        {"requests": [req(body={"note": secret})], "responses": [answer({"x": secret})], "metadata": {"m": secret}},
        yamlserializer,
    )
    assert secret not in text
    data = yaml.safe_load(text)
    assert set(data) == {"version", "interactions", "metadata"}
    assert data["metadata"] == {"m": SECRET_PLACEHOLDER}


# -- placeholders -------------------------------------------------------------------------------


def credential_declarations() -> list[tuple[str, str]]:
    found = []
    for kind in TYPES:
        ref = f"components/{kind}.json"
        found.extend((kind, name) for name in sorted(credential_fields()) if property_schema(ref, name))
    return found


@pytest.mark.parametrize(("kind", "name"), credential_declarations())
def test_every_credential_placeholder_satisfies_its_schema(kind, name):
    schema = property_schema(f"components/{kind}.json", name)
    cls = jsonschema.Draft202012Validator
    checker = cls({**schema, "$id": schema_uri(f"components/{kind}.json")}, registry=contract().registry)
    assert checker.is_valid(placeholder(name)), (name, placeholder(name))


def test_a_scrubbed_apple_response_still_validates():
    secret = "A" * 88
    body = {"integration": {"id": "5f0c", "type": "apple", "status": "active", "businessId": "b", "mspId": "m"}}
    body["integration"]["authenticationMessageSecret"] = secret
    scrubbed = json.loads(Scrubber([secret]).response(answer(body))["body"]["string"])
    assert scrubbed["integration"]["authenticationMessageSecret"] != secret
    assert list(validator("components/integrationResponse.json").iter_errors(scrubbed)) == []


DECLARED = "https://schemas.sunco-conformance.test/fixture.json"


@pytest.mark.parametrize(
    ("schema", "kind"),
    [
        ({"type": "string", "minLength": 88}, "string"),
        ({"type": "string", "maxLength": 4}, "string"),
        ({"type": "string", "pattern": "^AC[0-9a-f]{32}$"}, "string"),
        ({"type": "string", "pattern": "^[0-9]+$", "minLength": 30}, "string"),
        ({"type": "string", "format": "email"}, "string"),
        ({"type": "string", "enum": ["standard", "enterprise"]}, "string"),
        ({"type": "integer", "minimum": 5, "maximum": 9}, "number"),
    ],
)
def test_placeholders_fit_lengths_patterns_formats_and_ranges(schema, kind):
    value = fitting([(schema, DECLARED)], kind)
    cls = jsonschema.Draft202012Validator
    assert cls({**schema, "$id": DECLARED}, format_checker=cls.FORMAT_CHECKER).is_valid(value), value
    assert fitting([(schema, DECLARED)], kind) == value


# -- idempotence --------------------------------------------------------------------------------

SECRETS = ["key-secret-Zx9Qv", TRUNCATED, "Ψ~q", "42", "integration", "sécrét"]
pieces = st.one_of(
    st.sampled_from(SECRETS),
    st.sampled_from(SECRETS).map(lambda s: s[1:]),
    st.sampled_from([SECRET_PLACEHOLDER, PLACEHOLDER, "<scrubbed--->", " ", "'", "/", "-", "x"]),
    st.text(max_size=5),
)
texts = st.lists(pieces, max_size=8).map("".join)
json_values = st.recursive(
    st.one_of(texts, st.sampled_from([918273645, 42, 7, True, None])),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["target", "token", "pageId", "title", "authenticationMessageSecret"]), inner),
    ),
    max_leaves=8,
)
SCRUB = Scrubber([*SECRETS, 918273645])


@given(texts)
def test_scrubbing_text_twice_changes_nothing_and_leaves_no_distinct_secret(text):
    once = SCRUB.text(text)
    assert SCRUB.text(once) == once
    assert SCRUB.guard(SCRUB.guard(text)) == SCRUB.guard(text)
    assert "key-secret-Zx9Qv" not in once
    assert TRUNCATED[:16] not in once


@given(json_values)
def test_scrubbing_json_twice_changes_nothing(value):
    once = SCRUB.json_value(value)
    assert SCRUB.json_value(once) == once
    request = req(body=value if value is not None else {"v": None})
    assert SCRUB.request(SCRUB.request(request)).body == SCRUB.request(request).body


# -- reports ------------------------------------------------------------------------------------


def test_a_report_loses_secrets_from_its_text_output_and_properties():
    scrub = Scrubber(SETTINGS.secrets)
    report = pytest.TestReport(
        "t::x",
        ("t.py", 1, "x"),
        {},
        "failed",
        f"password = 'key-secret-Zx9Qv'\nchannels = {CHANNELS!r}",
        "call",
        sections=[("Captured stdout call", "app_keyid-0123 printed")],
        user_properties=[("leak", {"token": "x", "note": NESTED}), ("seen", 918273645)],
    )
    scrub_report(report, scrub)
    text = str(report.longrepr) + repr(report.sections) + repr(report.user_properties)
    for secret in ("key-secret-Zx9Qv", "app_keyid-0123", NESTED, "918273645", "Ψ~q", "'pat'"):
        assert secret not in text
    assert report.user_properties[0] == ("leak", {"token": PLACEHOLDER, "note": PLACEHOLDER})


def test_a_key_id_minted_beside_its_app_id_leaves_the_app_id_whole():
    app_id, key_id = "5d8cff3cd55b040010928b5b", "app_5d8cff3cd55b040010928b5c"
    scrub = Scrubber([key_id], public=[app_id, "https://api.smooch.io"])
    link = {"links": {"next": f"https://api.smooch.io/v2/apps/{app_id}/integrations?page[after]=x"}}
    assert scrub.json_value(link) == link
    assert scrub.text(f"kid={key_id}") == f"kid={SECRET_PLACEHOLDER}"


def test_a_proxys_credentials_never_reach_the_cassette():
    # requests sends them when HTTP_PROXY names a user and password: no hostile server is needed.
    credential = base64.b64encode(b"proxy-user:proxy-pa55word").decode()
    original = req("GET", BASE, None, {"Proxy-Authorization": f"Basic {credential}"})
    cleaned = Scrubber().request(original)
    assert cleaned.headers == {"Proxy-Authorization": f"Basic {PLACEHOLDER}"}
    assert credential not in str(cleaned.headers)
