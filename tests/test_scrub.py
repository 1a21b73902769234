"""Scrubbing by structure: known values at any depth, type and length; placeholders that fit the schema."""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote, unquote_plus

import jsonschema
import jwt
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from vcr.request import Request
from vcr.serializers import yamlserializer

from conformance.contract.resources import resource
from conformance.contract.schemas import schema_uri, shipped
from conformance.scrubbing.placeholders import PLACEHOLDER, SECRET_PLACEHOLDER, fitting, placeholder
from conformance.scrubbing.redact import scrub_report
from conformance.scrubbing.scrubber import FRAGMENT, Scrubber, credential_fields
from conformance.session.session import ConformanceSession
from conformance.suites import flows
from conformance.transport.settings import Settings

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
        found.extend((kind, name) for name in sorted(credential_fields()) if shipped().property_schema(ref, name))
    return found


@pytest.mark.parametrize(("kind", "name"), credential_declarations())
def test_every_credential_placeholder_satisfies_its_schema(kind, name):
    schema = shipped().property_schema(f"components/{kind}.json", name)
    cls = jsonschema.Draft202012Validator
    checker = cls({**schema, "$id": schema_uri(f"components/{kind}.json")}, registry=shipped().registry)
    assert checker.is_valid(placeholder(name)), (name, placeholder(name))


def test_a_scrubbed_apple_response_still_validates():
    secret = "A" * 88
    body = {"integration": {"id": "5f0c", "type": "apple", "status": "active", "businessId": "b", "mspId": "m"}}
    body["integration"]["authenticationMessageSecret"] = secret
    scrubbed = json.loads(Scrubber([secret]).response(answer(body))["body"]["string"])
    assert scrubbed["integration"]["authenticationMessageSecret"] != secret
    assert list(shipped().validator("components/integrationResponse.json").iter_errors(scrubbed)) == []


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


# -- every form of a secret, through every output channel ----------------------------------------
#
# One row per form x channel: a canary, written in that form, goes through the channel as the tool
# uses it; what comes out is searched for the canary in every decoding a reader could apply.

CANARY = "cn-sécrét-€-🔑-KEYSECRET-9Qz"  # beyond Latin-1: misread as Latin-1 or cp1252 it changes shape
HTML_CANARY = "cn-<pa55&word>-'HTML'-\"q7\""  # every character HTML escapes
SHORT_CANARY = "cn-q7Wv-SPLIT"  # halves shorter than a fragment
CREATED = {"key": {"id": "app_cnCREATED0q7Wv", "displayName": "k", "secret": "cn-created-key-secret-q7Wv-01234567"}}
CREATED_ID, CREATED_SECRET = CREATED["key"]["id"], CREATED["key"]["secret"]


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _jwt(secret: str) -> str:
    return jwt.encode({"scope": "app"}, secret, algorithm="HS256", headers={"kid": CREATED_ID})


# Each form: the canary it hides, and the text (or, for "split", the JSON object) it is written as.
FORMS: dict[str, tuple[str, Callable[[], Any]]] = {
    "plain": (CANARY, lambda: CANARY),
    "json-escaped": (CANARY, lambda: json.dumps(CANARY)[1:-1]),
    "percent (upper)": (CANARY, lambda: quote(CANARY, safe="")),
    "percent (lower)": (CANARY, lambda: re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), quote(CANARY, safe=""))),
    "base64 at offset 0": (CANARY, lambda: b64(CANARY.encode())),
    "base64 at offset 1 (Basic u:secret)": (CANARY, lambda: "Basic " + b64(b"u:" + CANARY.encode())),
    "base64 at offset 2 (Basic user:secret)": (CANARY, lambda: "Basic " + b64(b"user:" + CANARY.encode())),
    "base64url at offset 1": (CANARY, lambda: base64.urlsafe_b64encode(b"xyzw" + CANARY.encode()).decode()),
    "hex (lower)": (CANARY, lambda: CANARY.encode().hex()),
    "hex (upper)": (CANARY, lambda: CANARY.encode().hex().upper()),
    "html named": (HTML_CANARY, lambda: html.escape(HTML_CANARY)),
    "html decimal": (HTML_CANARY, lambda: "".join(f"&#{ord(c)};" if c in "&<>'\"" else c for c in HTML_CANARY)),
    "html hex": (HTML_CANARY, lambda: "".join(f"&#x{ord(c):x};" if c in "&<>'\"" else c for c in HTML_CANARY)),
    "utf-8 read as latin-1": (CANARY, lambda: CANARY.encode().decode("latin-1")),
    "utf-8 read as cp1252": (CANARY, lambda: CANARY.encode().decode("cp1252", "replace")),
    "split in two fields": (CANARY, lambda: {"first": CANARY[:13], "second": CANARY[13:]}),
    "short, split in two fields": (SHORT_CANARY, lambda: {"first": SHORT_CANARY[:6], "second": SHORT_CANARY[6:]}),
    "created key's Basic credential": (
        CREATED_SECRET,
        lambda: "Basic " + b64(f"{CREATED_ID}:{CREATED_SECRET}".encode()),
    ),
    "JWT signed by a created key": (CREATED_SECRET, lambda: "Bearer " + _jwt(CREATED_SECRET)),
}


def canary_scrubber() -> Scrubber:
    """The run's scrubber after it created a key (as ConformanceSession learns from each answer)."""
    scrub = Scrubber([*SETTINGS.secrets, CANARY, HTML_CANARY, SHORT_CANARY], public=SETTINGS.public)
    scrub.learn(scrub.secrets_in(CREATED))
    return scrub


def as_text(written: Any) -> str:
    return written if isinstance(written, str) else json.dumps(written, ensure_ascii=False)


def recording_session(scrub: Scrubber, settings: Settings, lines: list[str]) -> ConformanceSession:
    """A recording session whose progress lines go into ``lines``."""
    return ConformanceSession(
        cassette=None,
        recording=True,
        settings=settings,
        scrubber=scrub,
        nodeid="t::x",
        record_command="pytest",
        progress=lines.append,
    )


def progress_channel(scrub: Scrubber, written: Any) -> list[str]:
    lines: list[str] = []
    recording_session(scrub, SETTINGS, lines)._say(
        f"CreateApp got no whole answer: invalid chunk size {as_text(written)}"
    )
    return lines


def failure_channel(scrub: Scrubber, written: Any) -> list[str]:
    report = pytest.TestReport(
        "t::x",
        ("t.py", 1, "x"),
        {},
        "failed",
        f"response: {as_text(written)}",
        "call",
        sections=[("Captured stdout call", as_text(written))],
    )
    scrub_report(report, scrub)
    return [str(report.longrepr), *(content for _, content in report.sections)]


def json_report_channel(scrub: Scrubber, written: Any) -> list[str]:
    # As Summary writes --conformance-report: scrubbed by structure, then dumped (ASCII escapes).
    data = {"failures": [{"detail": "echoed", "body": written}]}
    text = json.dumps(scrub.json_value(data), indent=2, sort_keys=True)
    return [text, json.dumps(json.loads(text), ensure_ascii=False)]


def junit_channel(scrub: Scrubber, written: Any) -> list[str]:
    # As the plugin adds its verdicts: a JSON string property, scrubbed with the report.
    report = pytest.TestReport(
        "t::x",
        ("t.py", 1, "x"),
        {},
        "passed",
        None,
        "call",
        user_properties=[("conformance_verdicts", json.dumps([{"body": written}])), ("echo", written)],
    )
    scrub_report(report, scrub)
    return [str(value) for _, value in report.user_properties] + [
        json.dumps(report.user_properties, ensure_ascii=False)
    ]


def cassette_channel(scrub: Scrubber, written: Any) -> list[str]:
    text = as_text(written)
    body = written if isinstance(written, dict) else {"note": text}
    request = scrub.request(req(body=body, headers={"X-Echo": text, "Content-Type": "application/json"}))
    plain = {
        "status": {"code": 400, "message": "Bad Request"},
        "headers": {"Content-Type": ["text/plain"], "X-Echo": [text]},
        "body": {"string": text.encode("utf-8", "replace")},
    }
    json_answer = answer({"error": body})
    responses = [scrub.response(plain), scrub.response(json_answer)]
    serialized = scrub.cassette_text({"requests": [request, request], "responses": responses}, yamlserializer)
    return [serialized, json.dumps(yaml.safe_load(serialized), ensure_ascii=False)]


CHANNELS_OUT: dict[str, Callable[[Scrubber, Any], list[str]]] = {
    "terminal progress line": progress_channel,
    "failure text": failure_channel,
    "JSON report": json_report_channel,
    "JUnit property": junit_channel,
    "cassette": cassette_channel,
}


def _unescape(text: str) -> str:
    """Backslash escapes undone once (a JSON string inside a JSON document is escaped twice)."""
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape", "replace")


def readings(text: str) -> list[bytes]:
    """``text`` as every reader could decode it: as is, HTML- and percent-unescaped, re-decoded from
    Latin-1 or cp1252, and every base64 or hex run in it decoded at every alignment."""
    once = _unescape(text)
    views = [text, html.unescape(text), unquote(text), unquote_plus(text), once, _unescape(once)]
    found = [view.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode() for view in views]
    found += [view.encode(codec, "ignore") for view in views for codec in ("latin-1", "cp1252")]
    for run in re.findall(r"[A-Za-z0-9+/_-]{8,}", text):
        run = run.replace("-", "+").replace("_", "/")
        for skip in range(4):
            part = run[skip:]
            found.append(base64.b64decode(part[: len(part) // 4 * 4]))
    for run in re.findall(r"[0-9a-fA-F]{8,}", text):
        found += [bytes.fromhex(run[skip:][: (len(run) - skip) // 2 * 2]) for skip in range(2)]
    return found


def exposed(canary: str, outputs: list[str]) -> list[str]:
    """Each way the canary can be read back from ``outputs``: whole, cut in two halves, or a long run of it."""
    leaks = []
    for output in outputs:
        for view in (raw.decode("utf-8", "replace") for raw in readings(output)):
            if canary in view:
                leaks.append(f"whole in {view[:80]!r}")
            elif canary[: len(canary) // 2] in view and canary[len(canary) // 2 :] in view:
                leaks.append(f"both halves in {view[:80]!r}")
            elif any(canary[i : i + FRAGMENT] in view for i in range(len(canary) - FRAGMENT + 1)):
                leaks.append(f"a fragment in {view[:80]!r}")
        tokens = re.findall(r"eyJ[\w-]*\.[\w-]*\.[\w-]+", output)
        leaks += [f"a JWT: {token[:40]}" for token in tokens if token == _jwt(canary)]
    return leaks


SCRUBBED = canary_scrubber()


@pytest.mark.parametrize("channel", CHANNELS_OUT)
@pytest.mark.parametrize("form", FORMS)
def test_no_form_of_a_secret_survives_any_output_channel(form, channel):
    canary, write = FORMS[form]
    written = write()
    unscrubbed = CHANNELS_OUT[channel](Scrubber(), written)
    # The row can fail: without the scrubber the canary is read back from this channel.
    assert exposed(canary, unscrubbed), (form, channel)
    assert exposed(canary, CHANNELS_OUT[channel](SCRUBBED, written)) == []


def test_a_jwt_signed_with_a_known_secret_goes_whole_and_others_stay():
    token = _jwt(CREATED_SECRET)
    other = _jwt("an-unrelated-secret-nobody-configured-0123")
    assert SCRUBBED.text(f"Authorization: Bearer {token}") == f"Authorization: Bearer {SECRET_PLACEHOLDER}"
    assert SCRUBBED.text(f"Bearer {other}") == f"Bearer {other}"
    assert SCRUBBED.header(token) == SECRET_PLACEHOLDER


def test_a_body_that_is_not_utf8_loses_a_secret_sent_in_latin_1():
    # A server that answers a non-ASCII secret in Latin-1 (text/plain, no charset).
    scrub = Scrubber([CANARY, "sécrét-latin-1-only"])
    raw = "error: bad key sécrét-latin-1-only".encode("latin-1")
    cleaned = scrub.body(raw)
    assert isinstance(cleaned, bytes)
    assert b"latin-1-only" not in cleaned
    assert SECRET_PLACEHOLDER.encode() in cleaned
    # A binary body that holds no secret is read as before (as UTF-8, what is not UTF-8 replaced).
    binary = b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x80"
    assert scrub.body(binary) == binary.decode("utf-8", "replace").encode()


def test_a_header_loses_encoded_forms_and_halves_not_only_the_exact_secret():
    hex_form = CANARY.encode().hex()
    cleaned = SCRUBBED.request(req(headers={"X-Echo": f"k={hex_form}", "X-Half": f"k={CANARY[:15]}"}))
    assert cleaned.headers == {"X-Echo": f"k={SECRET_PLACEHOLDER}", "X-Half": f"k={SECRET_PLACEHOLDER}"}


def test_a_common_start_of_a_secret_stays_in_free_text():
    # Halves go only when 12 characters or longer: "https://" of a short webhook URL is no leak.
    scrub = Scrubber(["https://a.b/hook-1"])
    assert scrub.text("see https://example.test/x") == "see https://example.test/x"
    assert scrub.text("cut: https://a.b/ho") == f"cut: {SECRET_PLACEHOLDER}"
