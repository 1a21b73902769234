"""The sandbox as a server: routing, the generic steps around every handler, its lifecycle and the CLI."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from sandbox_support import HEX24, OTHER_ID, Api, body_of, checked, codes

from conformance.sandbox import DEFAULT_APP_ID, DEFAULT_KEY_ID, DEFAULT_KEY_SECRET, Sandbox
from conformance.sandbox.api import Request, Response

ROOT = Path(__file__).resolve().parent.parent


# -- Routing and the generic steps ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/v2/nothing", "/v2/apps/{app}/integrations/{id}/nothing", "/v1/integrations"])
def test_unknown_routes_are_404(sandbox: Sandbox, path: str) -> None:
    url = sandbox.url + path.format(app=sandbox.app_id, id=OTHER_ID)
    answer = checked(None, requests.get(url, auth=(sandbox.key_id, sandbox.key_secret), timeout=10))
    assert codes(answer) == ["not_found"]


@pytest.mark.parametrize("method", ["PUT", "PROPFIND"])
def test_wrong_method_is_405(sandbox: Sandbox, method: str) -> None:
    url = f"{sandbox.url}/v2/apps/{sandbox.app_id}/integrations"
    response = requests.request(method, url, json={}, auth=(sandbox.key_id, sandbox.key_secret), timeout=10)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"
    assert codes(checked(None, response)) == ["method_not_allowed"]


@pytest.mark.parametrize("operation_id", ["CreateIntegration", "ListIntegrations", "GetIntegration"])
def test_other_apps_are_404(api: Api, operation_id: str) -> None:
    status, answer = api.call(operation_id, body=body_of("web"), appId=OTHER_ID, integrationId=OTHER_ID)
    assert status == 404
    assert answer == {"errors": [{"code": "app_not_found", "title": "App not found"}]}


def test_a_failing_handler_answers_500_and_the_server_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    def broken(request: Request) -> Response:
        raise RuntimeError("boom")

    with Sandbox(handlers={"GetIntegration": broken}) as running:
        api = Api(running)
        with caplog.at_level("CRITICAL"):
            status, answer = api.call("GetIntegration", integrationId=OTHER_ID)
        assert status == 500
        assert codes(answer) == ["internal_error"]
        assert api.list()[0] == 200


def test_a_leaking_handler_has_its_write_only_fields_removed(caplog: pytest.LogCaptureFixture) -> None:
    leaked = {"id": OTHER_ID, "type": "telegram", "status": "active", "token": "bot-token", "botId": "7"}

    def leaky(request: Request) -> Response:
        return Response(200, {"integration": dict(leaked)})

    with Sandbox(handlers={"GetIntegration": leaky}) as running, caplog.at_level("WARNING"):
        status, answer = Api(running).call("GetIntegration", integrationId=OTHER_ID)
    assert status == 200
    assert answer["integration"] == {key: value for key, value in leaked.items() if key != "token"}
    assert "/integration/token" in caplog.text


def test_an_operation_without_handler_answers_501(sandbox: Sandbox, api: Api) -> None:
    del sandbox.handlers["GetIntegration"]
    status, answer = api.call("GetIntegration", integrationId=OTHER_ID)
    assert status == 501
    assert codes(answer) == ["not_implemented"]


def test_sandbox_settings_and_lifecycle() -> None:
    with pytest.raises(ValueError, match="24 lowercase hexadecimal"):
        Sandbox(app_id="not-an-app")
    with pytest.raises(RuntimeError, match="no port"):
        _ = Sandbox().url
    assert Sandbox(port=8089).url == "http://127.0.0.1:8089"
    custom = Sandbox(app_id=OTHER_ID, key_id="app_custom", key_secret="a-custom-secret-long-enough-for-hs256")
    assert custom.start() is custom.start()
    kept_alive = requests.Session()
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", custom.url)
        created = Api(custom).create(body_of("web"))
        assert kept_alive.get(custom.url + "/", timeout=2).status_code == 404
    finally:
        custom.stop()
    # Neither a new connection nor one kept alive from before reaches a stopped sandbox.
    for client in (requests, kept_alive):
        with pytest.raises(requests.ConnectionError):
            client.get(custom.url + "/", timeout=2)
    # A restart serves the same URL and still holds what was created.
    url = custom.url
    with custom:
        assert custom.url == url
        assert Api(custom).list()[1]["integrations"] == [created]
    assert HEX24.match(DEFAULT_APP_ID)


# -- CLI -----------------------------------------------------------------------------------------

CLI = """
import argparse, sys
from conformance.sandbox import cli
parser = argparse.ArgumentParser()
cli.add_arguments(parser)
sys.exit(cli.run(parser.parse_args(sys.argv[1:])))
"""


def run_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", CLI, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_cli_serves_until_signalled(stop_signal: signal.Signals) -> None:
    process = run_cli("--port", "0")
    watchdog = threading.Timer(30, process.kill)
    watchdog.start()
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip()]
        match = re.fullmatch(r"sandbox listening on (http://127\.0\.0\.1:\d+)", lines[0])
        assert match, lines[0]
        while lines[-1] and not lines[-1].startswith("press Ctrl-C"):
            lines.append(process.stdout.readline().strip())
        url = match.group(1)
        response = requests.get(f"{url}/v2/apps/{DEFAULT_APP_ID}/integrations",
                                auth=(DEFAULT_KEY_ID, DEFAULT_KEY_SECRET), timeout=10)  # fmt: skip
        assert response.status_code == 200
        process.send_signal(stop_signal)
        out, err = process.communicate(timeout=20)
    finally:
        watchdog.cancel()
        process.kill()
    assert process.returncode == 0
    assert "Traceback" not in err
    assert f"export SUNCO_API_URL={url} SUNCO_APP_ID={DEFAULT_APP_ID}" in lines
    assert f"export SUNCO_KEY_ID={DEFAULT_KEY_ID} SUNCO_KEY_SECRET={DEFAULT_KEY_SECRET}" in lines
    assert out == "sandbox stopped\n"


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--port", "70000"), "--port"),
        (("--port", "²"), "--port"),
        (("--app-id", "xyz"), "--app-id"),
        (("--key-id", "a b"), "--key-id"),
        (("--throttle-every", "-1"), "--throttle-every"),
        (("--max-messages", "0"), "--max-messages"),
        (("--message-page-size", "ten"), "--message-page-size"),
        (("--header-timeout", "0"), "--header-timeout"),
        (("--header-timeout", "1.5"), "--header-timeout"),
    ],
)
def test_cli_rejects_invalid_options(args: tuple[str, ...], named: str) -> None:
    process = run_cli(*args)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert named in lines[0]
    assert "use " in lines[0]


def test_a_seeded_sandbox_repeats_its_ids_and_sends_no_date() -> None:
    def created_ids() -> tuple[list[str], dict[str, str]]:
        with Sandbox(seed=7) as sandbox:
            auth = (sandbox.key_id, sandbox.key_secret)
            url = f"{sandbox.url}/v2/apps/{sandbox.app_id}/integrations"
            answers = [requests.post(url, json={"type": "web"}, auth=auth, timeout=10) for _ in range(3)]
        return [a.json()["integration"]["id"] for a in answers], dict(answers[0].headers)

    first, headers = created_ids()
    second, _ = created_ids()
    assert first == second
    assert len(set(first)) == 3
    assert "Date" not in headers
    with Sandbox() as unseeded:
        answer = requests.get(f"{unseeded.url}/nowhere", timeout=10)
    assert "Date" in answer.headers
