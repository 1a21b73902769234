"""Webhook event delivery from the sandbox: what is sent, to whom, how often, and that nothing stops the sandbox.

Targets are servers these tests start on 127.0.0.1 with free ports. Tests wait for the sandbox's
outbox to be idle (every delivery made or given up on) before looking, so they never race it.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sandbox_support import Api, body_of

from conformance.contract.schemas import shipped
from conformance.deliveries.receiver import Receiver
from conformance.sandbox import Sandbox
from conformance.sandbox.delivery import Delivery, DeliveryPolicy, Outbox

FAST = DeliveryPolicy(backoff=0.01, timeout=2.0)
EVENTS_SCHEMA = "operations/EventWebhooks.json#/$defs/request-json"
CREATED_AT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
IDLE = 30.0


class Answering:
    """A target that answers each POST with the next status of a script (the last one repeats)."""

    def __init__(self, *statuses: int, hang: threading.Event | None = None) -> None:
        self.statuses = list(statuses)
        self.hits: list[dict[str, str]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.hits.append(dict(self.headers))
                if hang is not None:
                    hang.wait(10)
                status = owner.statuses[min(len(owner.hits), len(owner.statuses)) - 1]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fast() -> Iterator[Sandbox]:
    with Sandbox("127.0.0.1", 0, delivery=FAST) as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def subscribe(api: Api, target: str, triggers: list[str], **extra: object) -> dict:
    hook = {"target": target, "triggers": triggers, **extra}
    return api.create(body_of("custom", webhooks=[hook]))["webhooks"][0]


def user_and_client(api: Api) -> tuple[dict, dict]:
    body = {"externalId": "someone", "profile": {"givenName": "Ada", "email": "ada@example.com"}}
    status, answer = api.call("CreateUser", body=body)
    assert status == 201
    user = answer["user"]
    client_body = {
        "matchCriteria": {"type": "whatsapp", "integrationId": "x", "phoneNumber": "+15145550101"},
        "confirmation": {"type": "immediate"},
        "target": {"conversationId": "c"},
    }
    status, answer = api.call("CreateClient", body=client_body, userIdOrExternalId=user["id"])
    assert status == 201
    return user, answer["client"]


def received(receiver: Receiver) -> list[tuple[dict[str, str], dict]]:
    out = []
    while (got := receiver.claim(lambda _: True, 0)) is not None:
        out.append((got.headers, json.loads(got.body)))
    return out


def test_a_subscribed_webhook_gets_the_documented_body_with_its_secret(fast, receiver):
    api = Api(fast)
    hook = subscribe(api, receiver.url, ["client:add"])
    deaf = subscribe(api, receiver.url, ["conversation:message"])
    user, client = user_and_client(api)
    assert fast.outbox.wait(IDLE)
    [(headers, body)] = received(receiver)
    assert headers["x-api-key"] == hook["secret"]
    assert headers["content-type"] == "application/json"
    assert list(shipped().validator(EVENTS_SCHEMA).iter_errors(body)) == []
    assert body["app"] == {"id": fast.app_id}
    assert body["webhook"] == {"id": hook["id"], "version": "v2"}
    [event] = body["events"]
    assert event["type"] == "client:add"
    assert re.match(r"^[0-9a-f]{24}$", event["id"])
    assert CREATED_AT.match(event["createdAt"])
    assert event["payload"]["client"] == client
    assert event["payload"]["user"]["id"] == user["id"]
    assert event["payload"]["reason"] == "channelLinking"
    assert deaf["id"] not in json.dumps(body)


def test_users_and_clients_cause_their_documented_events(fast, receiver):
    api = Api(fast)
    subscribe(api, receiver.url, ["client:add", "client:remove", "user:update", "user:remove"])
    user, client = user_and_client(api)
    api.call("UpdateUser", body={"metadata": {"plan": "gold"}}, userIdOrExternalId=user["id"])
    api.call("UpdateUser", body={"profile": {"givenName": "Grace"}}, userIdOrExternalId=user["id"])
    api.call("RemoveClient", userIdOrExternalId=user["id"], clientId=client["id"])
    api.call("DeleteUser", userIdOrExternalId=user["id"])
    assert fast.outbox.wait(IDLE)
    # Deliveries may arrive in any order (as the API's may); the store keeps the order events happened in.
    by_id = {body["events"][0]["id"]: body["events"][0] for _, body in received(receiver)}
    assert sorted(by_id) == sorted(e["id"] for e in fast.store.events)
    events = [by_id[e["id"]] for e in fast.store.events]
    assert [e["type"] for e in events] == ["client:add", "user:update", "client:remove", "user:remove"]
    assert events[2]["payload"]["reason"] == "api"
    assert events[2]["payload"]["client"]["id"] == client["id"]
    assert events[3]["payload"]["user"]["id"] == user["id"]


def test_include_full_user_and_source_shape_what_each_webhook_gets(fast, receiver):
    api = Api(fast)
    slim = subscribe(api, receiver.url, ["client:add"])
    full = subscribe(api, receiver.url, ["client:add"], includeFullUser=True, includeFullSource=True)
    user_and_client(api)
    assert fast.outbox.wait(IDLE)
    by_hook = {body["webhook"]["id"]: body["events"][0]["payload"] for _, body in received(receiver)}
    assert set(by_hook[slim["id"]]["user"]) <= {"id", "authenticated", "externalId", "zendeskId", "brandId"}
    assert by_hook[full["id"]]["user"]["profile"]["givenName"] == "Ada"


def test_a_failing_target_is_retried_until_it_answers(fast):
    target = Answering(500, 503, 200)
    try:
        subscribe(Api(fast), target.url, ["client:add"])
        user_and_client(Api(fast))
        assert fast.outbox.wait(IDLE)
        [outcome] = [o for o in fast.outbox.outcomes if o.delivery.target == target.url]
        assert (outcome.attempts, outcome.state) == ([500, 503, 200], "delivered")
        assert len(target.hits) == 3
        assert len({hit["X-API-Key"] for hit in target.hits}) == 1, "each attempt carries the same secret"
    finally:
        target.close()


def test_retries_stop_after_5_attempts(fast):
    target = Answering(500)
    try:
        subscribe(Api(fast), target.url, ["client:add"])
        user_and_client(Api(fast))
        assert fast.outbox.wait(IDLE)
        [outcome] = fast.outbox.outcomes
        assert (outcome.attempts, outcome.state) == ([500] * 5, "failed")
        assert len(target.hits) == 5
    finally:
        target.close()


@pytest.mark.parametrize("status", [400, 401, 403, 404, 406])
def test_a_non_recoverable_status_is_not_retried(fast, status):
    target = Answering(status, 200)
    try:
        subscribe(Api(fast), target.url, ["client:add"])
        user_and_client(Api(fast))
        assert fast.outbox.wait(IDLE)
        [outcome] = fast.outbox.outcomes
        assert (outcome.attempts, outcome.state) == ([status], "refused")
    finally:
        target.close()


def test_a_target_that_is_not_listening_uses_up_its_attempts(fast):
    with Receiver() as gone:
        url = gone.url
    subscribe(Api(fast), url, ["client:add"])
    user_and_client(Api(fast))
    assert fast.outbox.wait(IDLE)
    [outcome] = fast.outbox.outcomes
    assert outcome.state == "failed"
    assert outcome.attempts == ["ConnectionRefusedError"] * 5


def test_a_target_that_never_answers_does_not_hold_up_the_sandbox():
    release = threading.Event()
    target = Answering(200, hang=release)
    policy = DeliveryPolicy(attempts=1, backoff=0.01, timeout=30.0, workers=1)
    try:
        with Sandbox("127.0.0.1", 0, delivery=policy) as sandbox:
            api = Api(sandbox)
            subscribe(api, target.url, ["client:add"])
            user_and_client(api)
            # The only worker is stuck on the target; requests are still answered, events still recorded.
            assert api.call("ListIntegrations")[0] == 200
            user_and_client_again = api.call("CreateUser", body={"externalId": "another"})
            assert user_and_client_again[0] == 201
            release.set()
            assert sandbox.outbox.wait(IDLE)
            assert [o.state for o in sandbox.outbox.outcomes] == ["delivered"]
    finally:
        release.set()
        target.close()


def test_targets_off_this_machine_are_never_contacted(fast):
    api = Api(fast)
    subscribe(api, "https://example.com/hooks/x", ["client:add"])
    user_and_client(api)
    assert fast.outbox.wait(IDLE)
    [outcome] = fast.outbox.outcomes
    assert (outcome.state, outcome.attempts) == ("skipped", [])


def test_a_full_outbox_drops_rather_than_blocks():
    outbox = Outbox(DeliveryPolicy(capacity=1))  # never started: nothing leaves it
    first = outbox.send(Delivery("http://127.0.0.1:9/a", "s", b"{}", "w"))
    second = outbox.send(Delivery("http://127.0.0.1:9/b", "s", b"{}", "w"))
    assert (first.state, second.state) == ("pending", "dropped")
    assert outbox.wait(0) is False


def test_a_seeded_sandbox_repeats_event_ids_and_times(receiver):
    bodies = []
    for _ in range(2):
        with Sandbox("127.0.0.1", 0, seed=3, delivery=FAST) as sandbox:
            api = Api(sandbox)
            subscribe(api, receiver.url, ["client:add"])
            user_and_client(api)
            assert sandbox.outbox.wait(IDLE)
            bodies.append([body for _, body in received(receiver)])
    assert bodies[0] == bodies[1]
    assert bodies[0][0]["events"][0]["createdAt"] == "2024-01-01T00:00:01.000Z"


def test_bad_policies_are_refused():
    with pytest.raises(ValueError, match="at least 1"):
        DeliveryPolicy(attempts=0)
    with pytest.raises(ValueError, match="timeout"):
        DeliveryPolicy(timeout=0)
