"""Secrets the API hands out while recording (integration keys, webhook secrets) leave failure text too."""

from __future__ import annotations

import base64

import jwt
import responses
from test_scrub import recording_session

from conformance.failures import ConformanceFailure
from conformance.model import Expect
from conformance.scrubbing.scrubber import SECRET_PLACEHOLDER, Scrubber, credential_values
from conformance.session.session import ConformanceSession
from conformance.transport.settings import Settings

SETTINGS = Settings("http://127.0.0.1:1", "0a1b2c3d4e5f60718293a4b5", "app_k", "a-long-enough-secret-value")
HANDED_OUT = "d5f4b3b2e4b06ce60741c7a87ce42c8218072e8c35bf992dc9e9c616612e7696"


def test_credential_values_are_found_at_any_depth():
    body = {"key": {"id": "int_1", "secret": "s1"}, "integration": {"webhooks": [{"secret": "s2", "target": "t"}]}}
    assert sorted(map(str, credential_values(body, frozenset({"secret"})))) == ["s1", "s2"]


def test_a_learned_secret_is_scrubbed_from_text_but_placeholders_and_api_words_are_not_learned():
    scrub = Scrubber()
    scrub.learn([HANDED_OUT, "<scrubbed>", "integration"])
    assert scrub.values == frozenset({HANDED_OUT})
    assert scrub.text(f'response: {{"secret":"{HANDED_OUT}"}}') == f'response: {{"secret":"{SECRET_PLACEHOLDER}"}}'
    assert HANDED_OUT[5:30] not in scrub.text(f"cut short: {HANDED_OUT[5:30]}")


@responses.activate
def test_a_recording_session_learns_secrets_from_responses_before_anything_reports_them():
    url = f"{SETTINGS.api_url}/v2/apps/{SETTINGS.app_id}/integrations/i1/keys"
    responses.add(
        responses.POST, url, json={"key": {"id": "int_1", "displayName": "k", "secret": HANDED_OUT}}, status=201
    )
    scrub = Scrubber()
    sunco = ConformanceSession(
        cassette=None, recording=True, settings=SETTINGS, scrubber=scrub, nodeid="t::x", record_command="pytest"
    )
    sunco.call(
        "CreateCustomIntegrationKey",
        body={"displayName": "k"},
        path_params={"integrationId": "i1"},
        expect=Expect(400, "bad_request"),
    )
    [failure] = sunco.findings.failures
    assert isinstance(failure, ConformanceFailure)
    assert HANDED_OUT in str(failure), "the failure quotes the response it got"
    assert HANDED_OUT not in scrub.text(str(failure)), "and the run's scrubber removes it from every report"


CREATED_KEY = {"key": {"id": "app_cnCREATED0q7Wv", "displayName": "k", "secret": HANDED_OUT}}


@responses.activate
def test_create_app_key_teaches_the_scrubber_its_basic_credential_and_jwts_it_signs():
    url = f"{SETTINGS.api_url}/v2/apps/{SETTINGS.app_id}/integrations/i1/keys"
    responses.add(responses.POST, url, json=CREATED_KEY, status=201)
    scrub = Scrubber()
    lines: list[str] = []
    sunco = recording_session(scrub, SETTINGS, lines)
    sunco.call(
        "CreateCustomIntegrationKey",
        body={"displayName": "k"},
        path_params={"integrationId": "i1"},
        expect=Expect(201),
    )
    basic = base64.b64encode(f"app_cnCREATED0q7Wv:{HANDED_OUT}".encode()).decode()
    assert basic in scrub.values
    token = jwt.encode({"scope": "app"}, HANDED_OUT, algorithm="HS256", headers={"kid": "app_cnCREATED0q7Wv"})
    assert scrub.text(f"sent Basic {basic} then Bearer {token}") == (
        f"sent Basic {SECRET_PLACEHOLDER} then Bearer {SECRET_PLACEHOLDER}"
    )
    # The session's progress lines go through the same scrubber.
    sunco._say(f"got no whole answer: invalid chunk size 'Basic {basic}'")
    assert basic not in lines[-1]
    assert SECRET_PLACEHOLDER in lines[-1]
