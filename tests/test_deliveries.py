"""The harness side of webhook events: the receiver, the checks on a delivery, and deliveries in cassettes.

The end-to-end tests record the delivery flow of the suite against a sandbox started here (free
port), with the receiver on a free port too, then replay it offline, as it is and tampered with.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from run_support import clean_env

from conformance.contract.schemas import shipped
from conformance.deliveries.inbox import api_key_verdict, check_delivery, replays_deliveries, webhooks_in
from conformance.deliveries.receiver import Received, Receiver
from conformance.failures import SchemaViolation, StateMismatch
from conformance.report.summary import TESTED_NOTHING
from conformance.sandbox import Sandbox
from conformance.sandbox.delivery import DeliveryPolicy

PROJECT = Path(__file__).resolve().parent.parent
FLOW = "conformance/suites/test_webhooks.py::test_webhooks_deliver_the_events_they_subscribe_to"
CASSETTE = "test_webhooks/test_webhooks_deliver_the_events_they_subscribe_to.yaml"
APP = "5a4db0c5a4db0c5a4db0c5a4"
HOOK = "0123456789abcdef01234567"


def entry(**changes: Any) -> dict[str, Any]:
    event = {
        "id": "0ca7d56ba7b2e081e479fe9e",
        "type": "client:add",
        "createdAt": "2024-01-01T00:00:01.000Z",
        "payload": {"conversation": None, "user": {"id": "u"}, "client": {"id": "c"}, "reason": "channelLinking"},
    }
    body = {"app": {"id": APP}, "webhook": {"id": HOOK, "version": "v2"}, "events": [event]}
    base = {"webhook": HOOK, "trigger": "client:add", "received": True, "contentType": "application/json"}
    return {**base, "apiKey": "matches", "body": body, **changes}


def check(item: dict[str, Any], triggers: list[str] | None = None) -> list:
    return check_delivery(
        item,
        webhook_id=HOOK,
        trigger="client:add",
        app_id=APP,
        triggers=triggers,
        where="http://t/",
        contract=shipped(),
    )


# -- the checks on one delivery ------------------------------------------------------------------


def test_a_good_delivery_passes():
    assert check(entry(), ["client:add"]) == []


def test_a_delivery_that_never_came_is_a_failure_naming_the_trigger():
    [failure] = check({"webhook": HOOK, "trigger": "client:add", "received": False})
    assert isinstance(failure, StateMismatch)
    assert failure.operation == "EventWebhooks"
    assert "delivered no client:add event to webhook" in failure.title
    assert failure.title.startswith("EventWebhooks (POST http://t/)")


def test_an_event_is_judged_by_the_schema_its_type_names():
    broken = entry()
    broken["body"]["events"][0]["payload"]["reason"] = "sdk"  # a client:remove reason, not a client:add one
    [failure] = check(broken)
    assert isinstance(failure, SchemaViolation)
    assert failure.pointer == "/events/0/payload/reason"


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"apiKey": "differs"}, "each delivery's X-API-Key header is the webhook's secret"),
        ({"apiKey": "missing"}, "each delivery's X-API-Key header is the webhook's secret"),
        ({"apiKey": "unchecked"}, "each delivery's X-API-Key header is the webhook's secret"),
        ({"contentType": "text/plain"}, "deliveries are JSON"),
    ],
)
def test_a_delivery_without_its_secret_or_not_json_fails(changes, rule):
    failures = check(entry(**changes))
    assert [f.rule for f in failures] == [rule]


def test_another_webhook_app_or_an_unsubscribed_event_fails():
    other = entry()
    other["body"]["webhook"]["id"] = "another"
    other["body"]["app"]["id"] = "another"
    rules = [f.rule for f in check(other, ["user:remove"])]
    assert rules == [
        "a delivery names its webhook",
        "a delivery names the app of its webhook",
        "only subscribed triggers are delivered",
    ]


def test_the_header_verdict_never_keeps_the_header():
    def got(headers: dict[str, str]) -> Received:
        return Received("POST", "/", headers, b"{}")

    assert api_key_verdict(got({"x-api-key": "s3cret"}), "s3cret") == "matches"
    assert api_key_verdict(got({"x-api-key": "other"}), "s3cret") == "differs"
    assert api_key_verdict(got({}), "s3cret") == "missing"
    assert api_key_verdict(got({"x-api-key": "s3cret"}), None) == "unchecked"


def test_webhooks_in_reads_every_response_shape():
    hook = {"id": "a", "secret": "s"}
    assert webhooks_in({"webhook": hook}) == [hook]
    assert webhooks_in({"webhooks": [hook, {"no": "id"}]}) == [hook]
    assert webhooks_in({"integration": {"type": "custom", "webhooks": [hook]}}) == [hook]
    assert webhooks_in(None) == []


class Tape:
    def __init__(self, metadata: dict[str, Any], rewound: bool, record_mode: str) -> None:
        self._metadata, self.rewound, self.record_mode = metadata, rewound, record_mode


def test_a_cassette_played_back_while_recording_replays_its_deliveries_too():
    held = {"webhooks": {"format": 1, "deliveries": []}}
    assert replays_deliveries(Tape(held, True, "once"))
    assert replays_deliveries(Tape(held, True, "new_episodes"))
    assert not replays_deliveries(Tape(held, True, "all")), "all re-sends every request: deliveries come live"
    assert not replays_deliveries(Tape({}, True, "once")), "a recording without deliveries receives them"
    assert not replays_deliveries(Tape(held, False, "once")), "a fresh cassette receives them"
    assert not replays_deliveries(None)


# -- the receiver --------------------------------------------------------------------------------


def test_the_receiver_hands_each_delivery_to_the_first_claim_that_wants_it():
    with Receiver() as receiver:
        for name in ("a", "b"):
            answer = requests.post(receiver.url, json={"n": name}, headers={"X-API-Key": "k"}, timeout=5)
            assert answer.status_code == 200
        second = receiver.claim(lambda r: json.loads(r.body) == {"n": "b"}, 5)
        assert second is not None
        assert second.headers["x-api-key"] == "k"
        assert second.media_type == "application/json"
        assert receiver.claim(lambda r: json.loads(r.body) == {"n": "b"}, 0) is None, "claimed once only"
        assert receiver.discard(lambda r: True) == 1


def test_the_receiver_waits_for_a_delivery_that_is_on_its_way():
    with Receiver() as receiver:
        later = threading.Timer(0.2, lambda: requests.post(receiver.url, json={}, timeout=5))
        later.start()
        try:
            assert receiver.claim(lambda r: True, 30) is not None
        finally:
            later.join()


def test_the_receiver_refuses_a_huge_body():
    with Receiver() as receiver:
        answer = requests.post(receiver.url, data=b"x" * (1024 * 1024 + 1), timeout=10)
        assert answer.status_code == 413
        assert receiver.claim(lambda r: True, 0) is None


# -- recorded, then replayed -----------------------------------------------------------------------


def run_pytest(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "pytest", *args, "-q", "-p", "no:cacheprovider"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def base_env() -> dict[str, str]:
    return clean_env()


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("deliveries")
    with Sandbox("127.0.0.1", 0, delivery=DeliveryPolicy(backoff=0.01)) as sandbox:
        env = {
            **base_env(),
            "SUNCO_API_URL": sandbox.url,
            "SUNCO_APP_ID": sandbox.app_id,
            "SUNCO_KEY_ID": sandbox.key_id,
            "SUNCO_KEY_SECRET": sandbox.key_secret,
        }
        result = run_pytest(FLOW, "--record-mode=rewrite", f"--cassette-dir={folder}", env=env)
        secrets = [o.delivery.secret for o in sandbox.outbox.outcomes]
    return {"folder": folder, "result": result, "secrets": secrets}


def test_a_recording_keeps_each_delivery_and_its_verdict_but_never_the_secret(recorded):
    assert recorded["result"].returncode == 0, recorded["result"].stdout[-3000:]
    text = (recorded["folder"] / CASSETTE).read_text()
    deliveries = yaml.safe_load(text)["metadata"]["webhooks"]["deliveries"]
    assert [(d["trigger"], d["apiKey"]) for d in deliveries] == [
        ("client:add", "matches"),
        ("client:add", "matches"),
        ("client:remove", "matches"),
        ("user:remove", "matches"),
    ]
    assert recorded["secrets"], "the sandbox delivered with the webhooks' secrets"
    assert not any(secret in text for secret in recorded["secrets"])
    assert "x-api-key" not in text.lower()
    assert "EventWebhooks" in recorded["result"].stdout


def test_replay_checks_the_recorded_deliveries_offline(recorded):
    result = run_pytest(FLOW, f"--cassette-dir={recorded['folder']}", env=base_env())
    assert result.returncode == 0, result.stdout[-3000:]
    # exchanges, passed, failed, faults, statuses
    assert re.search(r"^EventWebhooks +4 +4 +0 +0  200x4$", result.stdout, re.MULTILINE)


def tampered(recorded: dict[str, Any], tmp_path: Path, change: Any) -> Path:
    source = recorded["folder"] / CASSETTE
    target = tmp_path / CASSETTE
    target.parent.mkdir(parents=True)
    data = yaml.safe_load(source.read_text())
    change(data["metadata"]["webhooks"]["deliveries"])
    target.write_text(yaml.safe_dump(data))
    return tmp_path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d[0].update(apiKey="differs"), "did not carry the webhook's secret in X-API-Key"),
        (
            lambda d: d[2]["body"]["events"][0]["payload"].update(reason="channelLinking-ish"),
            "sent a client:remove delivery that breaks operations/EventWebhooks.json",
        ),
        (lambda d: d.pop(), "the recording holds no user:remove delivery here"),
    ],
)
def test_replay_fails_on_a_recorded_delivery_that_breaks_the_rules(recorded, tmp_path, change, message):
    folder = tampered(recorded, tmp_path, change)
    result = run_pytest(FLOW, f"--cassette-dir={folder}", env=base_env())
    assert result.returncode == 1
    assert message in result.stdout


NO_PREFLIGHT = """
import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config):
    import conformance.plugin.hooks

    conformance.plugin.hooks.check_access = lambda *args, **kwargs: None
"""


def test_webhook_tests_against_an_app_that_cannot_reach_the_receiver_are_reported_as_not_run(tmp_path):
    # The app is remote and never reached: the access check that starts a live session is stubbed.
    (tmp_path / "no_preflight.py").write_text(NO_PREFLIGHT)
    env = {
        **base_env(),
        "PYTHONPATH": str(tmp_path),
        "SUNCO_API_URL": "https://api.invalid",
        "SUNCO_APP_ID": APP,
        "SUNCO_KEY_ID": "app_x",
        "SUNCO_KEY_SECRET": "secret-value-1234",
    }
    cassettes = tmp_path / "cassettes"
    result = run_pytest(
        FLOW, "-p", "no_preflight", "--record-mode=rewrite", f"--cassette-dir={cassettes}", "-rs", env=env
    )
    # Its only test skipped, so the live run tested nothing and fails, naming why.
    assert result.returncode == 1, result.stdout[-2000:]
    assert TESTED_NOTHING in result.stdout
    assert "1 skipped" in result.stdout
    assert "not run live: needs SUNCO_WEBHOOK_URL" in result.stdout
    assert "(1): test_webhooks_deliver_the_events_they_subscribe_to" in result.stdout.split("not run live: needs")[1]
