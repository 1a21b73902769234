"""The replay client prepares each request exactly as its requests.Session would (transport/prepared.py)."""

from __future__ import annotations

import json

import pytest
import requests

from conformance.cassettes.playback import CassetteAdapter
from conformance.transport import prepared as preparing
from conformance.transport.client import Client
from conformance.transport.settings import Settings

SETTINGS = Settings(
    api_url="https://api.example.test", app_id="5d8cff3cd55b040010928b5b", key_id="app_x", key_secret="not-used-here"
)
APP = f"{SETTINGS.api_url}/v2/apps/{SETTINGS.app_id}"


def args(method, url, *, params=None, data=None, headers=None):
    return {"method": method, "url": url, "params": params, "data": data, "headers": headers}


# Session.request's arguments as the client passes them, and the corners requests' merges handle.
REQUESTS = {
    "a GET, lower-case method": args("get", APP, headers={"Accept": "application/json"}),
    "a query to encode": args(
        "GET",
        f"{SETTINGS.api_url}/v2/apps",
        params={"page[size]": "2", "filter[serviceAccountId]": "x y/é"},
        headers={"Accept": "application/json", "Authorization": "Basic eDp5"},
    ),
    "a query added to one in the URL": args(
        "POST",
        f"{SETTINGS.api_url}/v2/apps/a%2Fb/users?existing=1",
        params={"more": "2"},
        data=json.dumps({"displayName": "é ü"}).encode(),
        headers={"Accept": "application/json", "Content-Type": "application/json"},
    ),
    "a parameter and a header set to None are left out": args(
        "GET", APP, params={"kept": "1", "gone": None}, headers={"Accept": "text/plain", "User-Agent": None}
    ),
    "a parameter with several values": args("GET", APP, params={"many": ["1", "2"]}),
    "a header named in another case replaces the session's": args("GET", APP, headers={"accept": "x/y"}),
    "a session header set to None in another case is left out": args("GET", APP, headers={"user-agent": None}),
    "a DELETE without a body": args("DELETE", APP, headers={}),
    "credentials in the URL": args(
        "POST",
        "https://user:pass@api.example.test/oauth/token",
        data=b"grant_type=x&code=y",
        headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "ours"},
    ),
}


@pytest.mark.parametrize("request_args", REQUESTS.values(), ids=REQUESTS.keys())
def test_a_replay_request_is_prepared_as_the_session_prepares_it(request_args):
    session = Client(SETTINGS, replaying=True, transport=CassetteAdapter(None)).session
    for _ in range(2):  # the second time from the prepared URLs kept
        by_session = session.prepare_request(requests.Request(**request_args))
        direct = preparing.prepare(session, request_args)
        assert (direct.method, direct.url, direct.body) == (by_session.method, by_session.url, by_session.body)
        assert list(direct.headers.items()) == list(by_session.headers.items())
        assert direct.hooks == by_session.hooks


def test_the_same_url_with_other_parameters_is_another_url():
    first = preparing.prepared_url(APP, {"page[size]": "1"})
    second = preparing.prepared_url(APP, {"page[size]": "2"})
    assert first.endswith("page%5Bsize%5D=1")
    assert second.endswith("page%5Bsize%5D=2")
    assert preparing.prepared_url(APP, None) == preparing.prepared_url(APP, {}) == APP


def test_a_url_requests_refuses_is_refused_every_time():
    for _ in range(2):
        with pytest.raises(requests.exceptions.MissingSchema):
            preparing.prepared_url("no-scheme.example.test/x", None)
