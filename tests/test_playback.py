"""Replay's cassette adapter answers exactly as vcrpy's patched connections do, only without them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
import vcr
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.request import Request
from vcr.serialize import serialize
from vcr.serializers import yamlserializer

from conformance.cassettes.playback import CassetteAdapter, replays
from conformance.cassettes.recording import configure_vcr, vcr_options
from conformance.scrubbing.scrubber import Scrubber
from conformance.transport.client import BROKEN_HEADER, BrokenExchange, Client
from conformance.transport.settings import Settings

SETTINGS = Settings(
    api_url="https://api.example.test", app_id="5d8cff3cd55b040010928b5b", key_id="app_x", key_secret="not-used-here"
)
APP = f"{SETTINGS.api_url}/v2/apps/{SETTINGS.app_id}"


def answer(status: int, headers: dict[str, list[str]], body: bytes | str) -> dict[str, Any]:
    return {"status": {"code": status, "message": "Whatever"}, "headers": headers, "body": {"string": body}}


JSON = ["application/json; charset=utf-8"]
# (operation, path params, query, body) -> the recorded answer it gets
CALLS: list[tuple[str, dict[str, str], dict[str, str] | None, Any, Request, dict[str, Any]]] = [
    (
        "GetApp",
        {},
        None,
        None,
        Request("GET", APP, None, {}),
        answer(200, {"Content-Type": JSON, "Vary": ["Accept", "Origin"]}, json.dumps({"app": {"id": "a"}})),
    ),
    (
        "ListApps",
        {},
        {"page[size]": "2", "filter[serviceAccountId]": "x y"},
        None,
        Request("GET", f"{SETTINGS.api_url}/v2/apps?filter%5BserviceAccountId%5D=x+y&page%5Bsize%5D=2", None, {}),
        answer(200, {"Content-Type": ["application/json"], "Transfer-Encoding": ["chunked"]}, '{"apps": []}'),
    ),
    (
        "CreateApp",
        {},
        None,
        {"displayName": "é ü"},
        Request("POST", f"{SETTINGS.api_url}/v2/apps", json.dumps({"displayName": "é ü"}), {}),
        answer(400, {"Content-Type": JSON}, json.dumps({"errors": [{"code": "bad_request", "title": "é"}]})),
    ),
    (
        "DeleteApp",
        {},
        None,
        None,
        Request("DELETE", APP, None, {}),
        answer(302, {"Location": ["https://elsewhere.example.test/x?y=1"], "Content-Type": ["text/plain"]}, "Found"),
    ),
    (
        "GetApp",
        {"appId": "other"},
        None,
        None,
        Request("GET", f"{SETTINGS.api_url}/v2/apps/other", None, {}),
        answer(204, {}, b""),
    ),
]


def write_cassette(path: Path, pairs: list[tuple[Request, dict[str, Any]]]) -> Path:
    data = {"requests": [request for request, _ in pairs], "responses": [response for _, response in pairs]}
    path.write_text(serialize(data, yamlserializer), encoding="utf-8")
    return path


def replay(path: Path, adapter: bool, calls: list[Any]) -> tuple[list[Any], Any]:
    """Each call's exchange (its attributes) or error, replayed through vcrpy's stubs or the adapter."""
    scrubber = Scrubber()
    recorder = vcr.VCR(record_mode="none")
    configure_vcr(recorder, scrubber)
    results: list[Any] = []
    with recorder.use_cassette(str(path), **vcr_options(scrubber)) as cassette:
        assert replays(cassette)
        client = Client(SETTINGS, replaying=True, transport=CassetteAdapter(cassette) if adapter else None)
        for operation_id, path_params, query, body, *_ in calls:
            try:
                exchange = client.call(operation_id, path_params=path_params, query=query, body=body)
            except (BrokenExchange, CannotOverwriteExistingCassetteException) as error:
                results.append((type(error).__name__, str(error)))
            else:
                results.append({k: v for k, v in vars(exchange).items() if k != "operation"})
    return results, cassette


def test_every_answer_comes_back_as_vcrpy_s_stubs_give_it(tmp_path):
    path = write_cassette(tmp_path / "c.yaml", [(request, response) for *_, request, response in CALLS])
    through_stubs, stubbed = replay(path, adapter=False, calls=CALLS)
    through_adapter, adapted = replay(path, adapter=True, calls=CALLS)
    assert through_adapter == through_stubs
    assert [result["status"] for result in through_adapter] == [200, 200, 400, 302, 204]
    assert through_adapter[0]["headers"]["Vary"] == "Accept, Origin"
    assert "Transfer-Encoding" not in through_adapter[1]["headers"]
    assert through_adapter[2]["body"]["errors"][0]["title"] == "é"
    assert adapted.play_counts == stubbed.play_counts
    assert adapted.all_played


def test_a_broken_off_stand_in_breaks_the_same_way(tmp_path):
    stand_in = answer(0, {BROKEN_HEADER: ["reset; ConnectionResetError: [Errno 104] Connection reset by peer"]}, b"")
    # A GET is retried after a broken-off attempt: the second recorded attempt answers.
    pairs = [(CALLS[0][4], stand_in), (CALLS[0][4], CALLS[0][5])]
    path = write_cassette(tmp_path / "c.yaml", pairs)
    assert replay(path, adapter=True, calls=CALLS[:1])[0] == replay(path, adapter=False, calls=CALLS[:1])[0]
    once = write_cassette(tmp_path / "once.yaml", [(CALLS[2][4], stand_in)])
    (result,), _ = replay(once, adapter=True, calls=CALLS[2:3])
    assert result[0] == "BrokenExchange"
    assert result == replay(once, adapter=False, calls=CALLS[2:3])[0][0]


def test_a_request_the_cassette_does_not_hold_is_vcrpy_s_own_error_naming_it(tmp_path):
    path = write_cassette(tmp_path / "c.yaml", [(CALLS[0][4], CALLS[0][5])])
    scrubber = Scrubber()
    recorder = vcr.VCR(record_mode="none")
    configure_vcr(recorder, scrubber)
    with recorder.use_cassette(str(path), **vcr_options(scrubber)) as cassette:
        client = Client(SETTINGS, replaying=True, transport=CassetteAdapter(cassette))
        with pytest.raises(CannotOverwriteExistingCassetteException) as raised:
            client.call("CreateApp", body={"displayName": "never recorded"})
        assert raised.value.failed_request.method == "POST"
        assert json.loads(raised.value.failed_request.body) == {"displayName": "never recorded"}
        assert not cassette.all_played


@pytest.mark.parametrize("mode", ["once", "new_episodes", "all"])
def test_only_a_pure_replay_uses_the_adapter(tmp_path, mode):
    path = write_cassette(tmp_path / "c.yaml", [(CALLS[0][4], CALLS[0][5])])
    recorder = vcr.VCR(record_mode=mode)
    configure_vcr(recorder, Scrubber())
    with recorder.use_cassette(str(path), **vcr_options(Scrubber())) as cassette:
        assert not replays(cassette)
    assert not replays(None)


def test_a_direct_replay_sends_through_the_session_s_own_transport_without_session_request(tmp_path, monkeypatch):
    path = write_cassette(tmp_path / "c.yaml", [(CALLS[0][4], CALLS[0][5])])

    def refuse(*args, **kwargs):
        raise AssertionError("a replay through the cassette adapter does not go through Session.request")

    monkeypatch.setattr(requests.Session, "request", refuse)
    (result,), cassette = replay(path, adapter=True, calls=CALLS[:1])
    assert result["status"] == 200
    assert cassette.all_played
