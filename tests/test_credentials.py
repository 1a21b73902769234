"""Basic credentials are UTF-8 on both sides, over a real socket; an unusable secret is one line."""

from __future__ import annotations

import base64
import subprocess
import sys

import pytest
from test_roundtrip import APP_ID, PROJECT, clean_env, live_env, pytest_run

from conformance.failures import ConfigError
from conformance.sandbox import Sandbox
from conformance.transport.client import Client
from conformance.transport.settings import Settings

KEY_ID = "app_0123456789abcdef01234567"
NON_ASCII = {
    "latin-1": "sécrétÿ",
    "beyond latin-1": "ключ-секрет-€",
    "emoji": "🔑-clé-🗝️-secret",
}
# os.environ holds bytes that are not UTF-8 as lone surrogates.
NOT_UTF8 = "secret-\udcff"


# PyJWT's advice about short HMAC keys is beside the point here.
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("auth", ["basic", "jwt"])
@pytest.mark.parametrize("secret", NON_ASCII.values(), ids=NON_ASCII.keys())
def test_non_ascii_secrets_authenticate_against_the_sandbox(secret, auth):
    with Sandbox("127.0.0.1", 0, APP_ID, KEY_ID, secret) as sandbox:
        good = Client(Settings(sandbox.url, APP_ID, KEY_ID, secret, auth=auth))
        bad = Client(Settings(sandbox.url, APP_ID, KEY_ID, secret + "x", auth=auth))
        assert good.call("ListIntegrations").status == 200
        refused = bad.call("ListIntegrations")
    assert refused.status == 401
    assert refused.body["errors"][0]["code"] == "unauthorized"


@pytest.mark.parametrize("secret", NON_ASCII.values(), ids=NON_ASCII.keys())
def test_basic_credentials_are_the_utf8_bytes_of_id_and_secret(secret):
    header = Client(Settings("http://127.0.0.1:1", APP_ID, KEY_ID, secret)).authorization()
    scheme, _, token = header.partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(token) == f"{KEY_ID}:{secret}".encode()


@pytest.mark.parametrize(
    ("variable", "value"), [("SUNCO_KEY_SECRET", NOT_UTF8), ("SUNCO_KEY_ID", "app_\udc80"), ("SUNCO_KEY_ID", "a:b")]
)
def test_an_unusable_credential_is_a_one_line_settings_error(variable, value):
    env = {
        "SUNCO_API_URL": "http://127.0.0.1:1",
        "SUNCO_APP_ID": APP_ID,
        "SUNCO_KEY_ID": KEY_ID,
        "SUNCO_KEY_SECRET": "fine",
        variable: value,
    }
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    message = str(caught.value)
    assert message.startswith(variable)
    assert "\n" not in message
    assert value not in message


def test_a_secret_that_is_not_utf8_stops_a_recording_with_one_line(tmp_path):
    result = pytest_run(
        "conformance",
        "--record-mode=rewrite",
        f"--cassette-dir={tmp_path}",
        env=live_env("http://127.0.0.1:9", SUNCO_KEY_SECRET=NOT_UTF8),
    )
    assert result.returncode == 4
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "SUNCO_KEY_SECRET is not valid UTF-8" in lines[0]
    assert "Traceback" not in result.stdout + result.stderr


def test_the_sandbox_refuses_a_key_secret_it_could_never_compare():
    with pytest.raises(ValueError, match="key_secret is not valid UTF-8"):
        Sandbox("127.0.0.1", 0, APP_ID, KEY_ID, NOT_UTF8)
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "conformance", "sandbox", "--port", "0", "--key-secret", NOT_UTF8],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["error: --key-secret is not valid UTF-8 text: use UTF-8 text"]
