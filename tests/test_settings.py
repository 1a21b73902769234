"""SUNCO_* settings: every bad value is one line naming the variable."""

from __future__ import annotations

import pytest

from conformance.failures import ConfigError
from conformance.transport.settings import Settings, api_url_from_env

GOOD = {
    "SUNCO_API_URL": "https://api.smooch.io",
    "SUNCO_APP_ID": "5d8cff3cd55b040010928b5b",
    "SUNCO_KEY_ID": "app_5d8cff3cd55b040010928b5c",
    "SUNCO_KEY_SECRET": "s3cr3t-value",
}


def test_settings_read_every_variable():
    settings = Settings.from_env({**GOOD, "SUNCO_AUTH": "JWT", "SUNCO_JWT_SCOPE": "account"})
    assert settings.api_url == "https://api.smooch.io"
    assert settings.app_id == GOOD["SUNCO_APP_ID"]
    assert (settings.auth, settings.scope) == ("jwt", "account")
    token = settings.authorization().removeprefix("Bearer ")
    assert settings.secrets == (GOOD["SUNCO_KEY_ID"], GOOD["SUNCO_KEY_SECRET"], token)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SUNCO_API_URL": "https://acme.zendesk.com/sc/"}, "https://acme.zendesk.com/sc"),
        ({"SUNCO_API_URL": "us"}, "https://api.smooch.io"),
        ({"SUNCO_API_URL": "EU-1"}, "https://api.eu-1.smooch.io"),
        ({"SUNCO_SUBDOMAIN": "acme"}, "https://acme.zendesk.com/sc"),
        ({"SUNCO_API_URL": "http://127.0.0.1:8080"}, "http://127.0.0.1:8080"),
    ],
)
def test_api_url_accepts_any_region_or_url(env, expected):
    assert api_url_from_env(env) == expected


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"SUNCO_API_URL": ""}, "SUNCO_API_URL"),
        ({"SUNCO_API_URL": "ftp://example.com"}, "SUNCO_API_URL"),
        ({"SUNCO_API_URL": "api.smooch.io"}, "SUNCO_API_URL"),
        ({"SUNCO_API_URL": "https://api.smooch.io/?x=1"}, "SUNCO_API_URL"),
        ({"SUNCO_APP_ID": ""}, "SUNCO_APP_ID"),
        ({"SUNCO_APP_ID": "not-an-id"}, "SUNCO_APP_ID"),
        ({"SUNCO_KEY_ID": ""}, "SUNCO_KEY_ID"),
        ({"SUNCO_KEY_SECRET": "has space"}, "SUNCO_KEY_SECRET"),
        ({"SUNCO_AUTH": "oauth"}, "SUNCO_AUTH"),
        ({"SUNCO_JWT_SCOPE": "user"}, "SUNCO_JWT_SCOPE"),
        ({"SUNCO_MAX_MESSAGES": "0"}, "SUNCO_MAX_MESSAGES"),
        ({"SUNCO_MESSAGE_PAGE_SIZE": "many"}, "SUNCO_MESSAGE_PAGE_SIZE"),
    ],
)
def test_bad_setting_is_one_line_naming_the_variable(change, names):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**GOOD, **change})
    message = str(caught.value)
    assert names in message
    assert "\n" not in message


def test_bad_choice_lists_the_allowed_values():
    with pytest.raises(ConfigError, match="basic, jwt"):
        Settings.from_env({**GOOD, "SUNCO_AUTH": "digest"})


def test_channel_settings_are_read_and_their_values_count_as_secrets(tmp_path):
    path = tmp_path / "channels.json"
    path.write_text('{"telegram": {"token": "123456:real-bot-token"}, "twilio": {"accountSid": "AC42"}}')
    settings = Settings.from_env({**GOOD, "SUNCO_CHANNELS": str(path)})
    assert settings.channels["telegram"] == {"token": "123456:real-bot-token"}
    assert "123456:real-bot-token" in settings.secrets
    assert "AC42" in settings.secrets


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot be read"),
        ("{not json", "not valid JSON"),
        ('["telegram"]', "object of objects"),
        ('{"pigeon": {"token": "x"}}', "unknown channel types ['pigeon']: use android, apple"),
    ],
)
def test_bad_channel_settings_are_one_line_errors(tmp_path, content, message):
    path = tmp_path / "channels.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match="SUNCO_CHANNELS") as caught:
        Settings.from_env({**GOOD, "SUNCO_CHANNELS": str(path)}, channel_types=("android", "apple", "web"))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_message_limits_default_to_the_documented_ones_and_can_be_lowered():
    default = Settings.from_env(GOOD)
    assert (default.max_messages, default.message_page_size) == (30_000, 100)
    lowered = Settings.from_env({**GOOD, "SUNCO_MAX_MESSAGES": "15", "SUNCO_MESSAGE_PAGE_SIZE": " 5 "})
    assert (lowered.max_messages, lowered.message_page_size) == (15, 5)


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("SUNCO_API_URL", "https://qa:hunter2-pa55@api.smooch.io"),
        ("SUNCO_API_URL", "http://hunter2-pa55@127.0.0.1:8080/sc"),
        ("SUNCO_API_URL", "ftp://qa:hunter2-pa55@example.com"),
        ("SUNCO_WEBHOOK_URL", "https://qa:hunter2-pa55@tunnel.example.test/hooks"),
    ],
)
def test_a_url_with_a_user_or_password_is_refused_without_showing_them(name, url):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({**GOOD, name: url})
    message = str(caught.value)
    assert message.startswith(f"{name} must not carry a user or password")
    assert "hunter2-pa55" not in message
    assert "qa:" not in message
    assert "\n" not in message
