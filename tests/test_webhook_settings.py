"""Webhook settings (SUNCO_WEBHOOK_URL, SUNCO_WEBHOOK_PORT) and the headers for keys a test creates."""

from __future__ import annotations

import base64

import jwt
import pytest
from test_settings import GOOD

from conformance.failures import ConfigError
from conformance.scrubbing.scrubber import Scrubber
from conformance.session.session import ConformanceSession
from conformance.transport.settings import Settings

SECRET = "an-integration-key-secret-of-32-bytes-or-more"


def test_the_receiver_is_reachable_through_a_public_url_or_on_this_machine():
    assert not Settings.from_env(GOOD).webhooks_reachable
    forwarded = Settings.from_env({**GOOD, "SUNCO_WEBHOOK_URL": "https://abc.tunnel.example/hooks"})
    assert forwarded.webhooks_reachable
    assert forwarded.webhook_url == "https://abc.tunnel.example/hooks"
    for local in ("http://127.0.0.1:8080", "http://localhost:9000", "http://[::1]:8080"):
        assert Settings.from_env({**GOOD, "SUNCO_API_URL": local}).webhooks_reachable, local


def test_the_receiver_port_is_free_by_default_or_chosen():
    assert Settings.from_env(GOOD).webhook_port == 0
    assert Settings.from_env({**GOOD, "SUNCO_WEBHOOK_PORT": "8765"}).webhook_port == 8765


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"SUNCO_WEBHOOK_URL": "abc.tunnel.example"}, "SUNCO_WEBHOOK_URL"),
        ({"SUNCO_WEBHOOK_URL": "ftp://abc.tunnel.example"}, "SUNCO_WEBHOOK_URL"),
        ({"SUNCO_WEBHOOK_PORT": "70000"}, "SUNCO_WEBHOOK_PORT"),
        ({"SUNCO_WEBHOOK_PORT": "eighty"}, "SUNCO_WEBHOOK_PORT"),
        ({"SUNCO_WEBHOOK_PORT": "-1"}, "SUNCO_WEBHOOK_PORT"),
    ],
)
def test_bad_webhook_settings_are_one_line_naming_the_variable(change, name):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**GOOD, **change})
    assert name in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_key_a_test_made_signs_as_the_configured_mode_does():
    basic = Settings.from_env(GOOD).authorization_with("int_abc", "pässword", "integration")
    assert base64.b64decode(basic.removeprefix("Basic ")).decode("utf-8") == "int_abc:pässword"
    bearer = Settings.from_env({**GOOD, "SUNCO_AUTH": "jwt"}).authorization_with("int_abc", SECRET, "integration")
    token = bearer.removeprefix("Bearer ")
    assert jwt.get_unverified_header(token)["kid"] == "int_abc"
    assert jwt.decode(token, SECRET, algorithms=["HS256"]) == {"scope": "integration"}


def scoped_session(env: dict[str, str], *, recording: bool = True) -> ConformanceSession:
    return ConformanceSession(
        cassette=None,
        recording=recording,
        settings=Settings.from_env({**GOOD, **env}),
        scrubber=Scrubber(),
        nodeid="t::x",
        record_command="pytest",
    )


def test_an_account_scope_token_does_not_run_webhook_tests_live():
    account = scoped_session({"SUNCO_AUTH": "jwt", "SUNCO_JWT_SCOPE": "account"})
    with pytest.raises(pytest.skip.Exception, match="not run live: needs a key of app or integration scope"):
        account.require_scope("CreateUser", "CreateWebhook")
    account.require_scope("CreateUser", "CreateApp", "ListCustomIntegrationKeys")  # these take account keys
    scoped_session({"SUNCO_AUTH": "jwt"}).require_scope("CreateWebhook")
    scoped_session({}).require_scope("CreateWebhook")
