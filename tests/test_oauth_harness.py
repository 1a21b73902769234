"""The harness's side of OAuth: tokens and codes scrubbed by structure, the settings that enable the
tests, redirects read rather than followed, and a redirect without a Location caught."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from vcr.request import Request

from conformance.checks.exchange import check_exchange
from conformance.contract.schemas import shipped
from conformance.failures import BrokenRedirect, ConfigError
from conformance.model import Exchange, Expect, FormBody, body_as_json
from conformance.sandbox import Sandbox, seeded
from conformance.scrubbing.scrubber import Scrubber
from conformance.transport.client import Client, accepted
from conformance.transport.settings import OAUTH_TAG, OAuthClient, Settings

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzY29wZSI6ImludGVncmF0aW9uIn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
CODE = "658965"
GOOD = {
    "SUNCO_API_URL": "https://acme.zendesk.com/sc",
    "SUNCO_APP_ID": "5d8cff3cd55b040010928b5b",
    "SUNCO_KEY_ID": "app_5d8cff3cd55b040010928b5c",
    "SUNCO_KEY_SECRET": "s3cr3t-value",
}
OAUTH = {
    "SUNCO_OAUTH_CLIENT_ID": "5e4af71a81966cfff3ef6550",
    "SUNCO_OAUTH_CLIENT_SECRET": "5XJ85yjUtRcaQu_pDINblPZb",
    "SUNCO_OAUTH_REDIRECT_URI": "https://partner.example.com/oauth/callback",
}


def token_request(**change: str) -> dict[str, str]:
    return {"code": CODE, "grant_type": "authorization_code", "client_id": "c1", "client_secret": "cs-1", **change}


def answer(payload: Any, headers: dict[str, list[str]] | None = None, text: str | None = None) -> dict[str, Any]:
    body = text if text is not None else json.dumps(payload)
    return {"status": {"code": 200, "message": "OK"}, "headers": headers or {}, "body": {"string": body.encode()}}


# -- scrubbing -------------------------------------------------------------------------------------


def test_an_access_token_in_a_response_becomes_a_placeholder() -> None:
    scrubbed = Scrubber().response(answer({"access_token": TOKEN, "token_type": "Bearer"}))
    assert json.loads(scrubbed["body"]["string"]) == {"access_token": "<scrubbed>", "token_type": "Bearer"}


def test_the_code_and_secret_of_a_token_request_go_but_an_error_code_stays() -> None:
    scrub = Scrubber()
    assert scrub.json_value(token_request()) == token_request(code="<scrubbed>", client_secret="<scrubbed>")
    envelope = {"errors": [{"code": "invalid_grant", "title": "no"}]}
    assert scrub.json_value(envelope) == envelope


def test_a_form_encoded_token_request_is_scrubbed_by_its_field_names() -> None:
    raw = "code=658965&grant_type=authorization_code&client_id=c1&client_secret=cs-1"
    request = Request(
        "POST", "https://x.test/oauth/token", raw.encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    )
    scrubbed = Scrubber().request(request)
    assert parse_qs(scrubbed.body.decode()) == {
        "code": ["<scrubbed>"],
        "grant_type": ["authorization_code"],
        "client_id": ["c1"],
        "client_secret": ["<scrubbed>"],
    }
    assert Scrubber().request(scrubbed).body == scrubbed.body  # replay scrubs again: nothing changes
    # The same fields pinned as a variant's form body lose the same values.
    pinned = body_as_json(FormBody(tuple(token_request().items())), Scrubber().json_value)
    assert dict(pinned["form"]) == token_request(code="<scrubbed>", client_secret="<scrubbed>")


def test_a_redirects_code_goes_from_its_location_and_its_body() -> None:
    location = f"https://partner.example.com/cb?code={CODE}&state=s%201"
    recorded = Scrubber().response(answer(None, {"Location": [location]}, text=f"Found. Redirecting to {location}"))
    (scrubbed,) = recorded["headers"]["Location"]
    assert parse_qs(urlsplit(scrubbed).query) == {"code": ["<scrubbed>"], "state": ["s 1"]}
    assert CODE not in recorded["body"]["string"].decode()
    again = Scrubber().response({**recorded, "headers": {"Location": [scrubbed]}})
    assert again["headers"]["Location"] == [scrubbed]


def test_secrets_handed_out_are_learned_and_leave_free_text() -> None:
    scrub = Scrubber()
    found = scrub.secrets_in({"access_token": TOKEN}, {"Location": f"https://p.example.com/cb?code={CODE}"})
    assert found == {TOKEN, CODE}
    scrub.learn(found)
    text = scrub.text(f"the token {TOKEN} and the code {CODE} leaked")
    assert TOKEN not in text
    assert f" {CODE} " not in text
    scrub.learn(["<scrubbed>"])  # placeholders met in replay are not secrets
    assert "<scrubbed>" not in scrub.values


def test_the_oauth_client_secret_is_a_known_secret_but_its_id_is_public() -> None:
    settings = Settings.from_env({**GOOD, **OAUTH})
    assert OAUTH["SUNCO_OAUTH_CLIENT_SECRET"] in settings.secrets
    assert OAUTH["SUNCO_OAUTH_CLIENT_ID"] not in settings.secrets
    assert OAUTH["SUNCO_OAUTH_CLIENT_SECRET"] not in repr(settings)


# -- settings --------------------------------------------------------------------------------------


def test_optional_settings_are_read_when_given() -> None:
    settings = Settings.from_env(
        {
            **GOOD,
            **OAUTH,
            "SUNCO_OAUTH_URL": "https://oauth-bridge.zendesk.com/sc/",
            "SUNCO_SDK_USER_ID": "visitor-1",
            "SUNCO_ZENDESK_ID": "35436",
        }
    )
    assert settings.oauth == OAuthClient(
        OAUTH["SUNCO_OAUTH_CLIENT_ID"], OAUTH["SUNCO_OAUTH_CLIENT_SECRET"], OAUTH["SUNCO_OAUTH_REDIRECT_URI"]
    )
    assert (settings.sdk_user_id, settings.zendesk_id) == ("visitor-1", "35436")
    assert settings.base_url(OAUTH_TAG) == "https://oauth-bridge.zendesk.com/sc"
    assert settings.base_url("Users") == "https://acme.zendesk.com/sc"
    bare = Settings.from_env(GOOD)
    assert (bare.oauth, bare.sdk_user_id, bare.zendesk_id) == (None, None, None)
    assert bare.base_url(OAUTH_TAG) == GOOD["SUNCO_API_URL"]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"SUNCO_OAUTH_CLIENT_SECRET": ""}, "SUNCO_OAUTH_CLIENT_SECRET"),
        ({"SUNCO_OAUTH_CLIENT_ID": ""}, "SUNCO_OAUTH_CLIENT_ID"),
        ({"SUNCO_OAUTH_REDIRECT_URI": "partner.example.com/cb"}, "SUNCO_OAUTH_REDIRECT_URI"),
        ({"SUNCO_OAUTH_REDIRECT_URI": "https://partner.example.com/cb#frag"}, "SUNCO_OAUTH_REDIRECT_URI"),
        ({"SUNCO_OAUTH_CLIENT_SECRET": "has space"}, "SUNCO_OAUTH_CLIENT_SECRET"),
        ({"SUNCO_OAUTH_URL": "oauth-bridge.zendesk.com"}, "SUNCO_OAUTH_URL"),
        ({"SUNCO_ZENDESK_ID": "zd-35436"}, "SUNCO_ZENDESK_ID"),
        ({"SUNCO_SDK_USER_ID": "two words"}, "SUNCO_SDK_USER_ID"),
    ],
)
def test_a_malformed_optional_setting_is_one_line_naming_it(change: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**GOOD, **OAUTH, **change})
    message = str(caught.value)
    assert named in message
    assert "\n" not in message


# -- redirects -------------------------------------------------------------------------------------


def test_the_client_reads_a_redirect_instead_of_following_it() -> None:
    with Sandbox() as sandbox:
        settings = Settings(sandbox.url, sandbox.app_id, sandbox.key_id, sandbox.key_secret)
        query = {"client_id": seeded.OAUTH_CLIENT_ID, "response_type": "code", "state": "s"}
        exchange = Client(settings).call("Authorize", query=query, authenticate=False)
    assert exchange.status == 302
    assert exchange.media_type == "text/plain"
    assert exchange.headers["Location"].startswith(seeded.OAUTH_REDIRECT_URI + "?code=")
    assert check_exchange(exchange, Expect(302)) == []
    assert accepted(shipped().operation("Authorize")) == "application/json, text/plain"
    assert accepted(shipped().operation("GetUser")) == "application/json"


def redirect(headers: dict[str, str]) -> Exchange:
    op = shipped().operation("Authorize")
    return Exchange(
        op, op.method, "http://x", op.path, None, 302, headers, "", body=None, body_is_json=False, contract=shipped()
    )


def test_a_redirect_without_a_location_is_a_failure_naming_the_rule() -> None:
    (failure,) = check_exchange(redirect({"Content-Type": "text/plain"}), Expect(302))
    assert isinstance(failure, BrokenRedirect)
    assert "without a Location header" in failure.title
    assert "RFC 9110" in failure.rule
    assert check_exchange(redirect({"Content-Type": "text/plain", "Location": "https://p.example.com/cb"})) == []


def test_the_oauth_endpoints_go_to_the_oauth_url_and_the_rest_to_the_api_url() -> None:
    with Sandbox() as bridge:
        settings = Settings("http://127.0.0.1:9", bridge.app_id, bridge.key_id, bridge.key_secret, oauth_url=bridge.url)
        client = Client(settings)
        exchange = client.call("GetTokenInfo", authenticate=False)
        assert exchange.url == f"{bridge.url}/v2/tokenInfo"
        assert exchange.status == 401
    assert client.settings.base_url(shipped().operation("GetUser").tag) == "http://127.0.0.1:9"
