"""Request matching, the cassette index, and the scrubber, without a network."""

from __future__ import annotations

import json

import pytest
from vcr.request import Request

from conformance.cassettes.explain import json_diff, nearest
from conformance.cassettes.recording import IndexedCassette, ScrubbingPersister, match_requests, request_key
from conformance.scrubbing.scrubber import PLACEHOLDER, SECRET_PLACEHOLDER, Scrubber

BASE = "https://api.example.test/v2/apps/5d8cff3cd55b040010928b5b/integrations"


def req(method: str = "POST", uri: str = BASE, body: object = None, headers: dict | None = None) -> Request:
    raw = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body).encode()
    return Request(method, uri, raw, headers or {})


def response(status: int = 200, payload: object = None) -> dict:
    return {
        "status": {"code": status, "message": "OK"},
        "headers": {"Content-Type": ["application/json"]},
        "body": {"string": json.dumps(payload or {}).encode()},
    }


MATCHING = [
    ("key order", req(body={"a": 1, "b": [1, 2]}), req(body={"b": [1, 2], "a": 1})),
    ("white space", req(body=b'{"a":1}'), req(body=b'{ "a" : 1 }')),
    ("query order", req("GET", BASE + "?x=1&y=2"), req("GET", BASE + "?y=2&x=1")),
    ("host", req(uri=BASE), req(uri=BASE.replace("api.example.test", "127.0.0.1:8080"))),
    ("headers", req(headers={"Authorization": "Basic a"}), req(headers={"Authorization": "Bearer b"})),
]
DIFFERING = [
    ("method", req("POST"), req("PATCH")),
    ("path", req(uri=BASE), req(uri=BASE + "/x")),
    ("query", req("GET", BASE + "?x=1"), req("GET", BASE + "?x=2")),
    ("body value", req(body={"a": 1}), req(body={"a": 2})),
    ("body type", req(body={"a": 1}), req(body={"a": "1"})),
    ("json vs raw", req(body={"a": 1}), req(body=b"a=1")),
    ("list order", req(body=[1, 2]), req(body=[2, 1])),
]


@pytest.mark.parametrize(("why", "a", "b"), MATCHING, ids=[m[0] for m in MATCHING])
def test_requests_match_canonically(why, a, b):
    match_requests(a, b)
    assert request_key(a) == request_key(b)


@pytest.mark.parametrize(("why", "a", "b"), DIFFERING, ids=[d[0] for d in DIFFERING])
def test_requests_differ(why, a, b):
    with pytest.raises(AssertionError):
        match_requests(a, b)


def cassette(interactions) -> IndexedCassette:
    tape = IndexedCassette("unused.yaml", record_mode="none")
    for request, answer in interactions:
        tape.append(request, answer)
    tape.rewound = True
    return tape


def test_index_finds_responses_and_plays_duplicates_in_recorded_order():
    get = req("GET", BASE + "/abc")
    tape = cassette(
        [(get, response(200, {"n": 1})), (req(body={"x": 1}), response(201)), (get, response(200, {"n": 2}))]
    )
    assert tape.can_play_response_for(get)
    assert json.loads(tape.play_response(get)["body"]["string"]) == {"n": 1}
    assert json.loads(tape.play_response(get)["body"]["string"]) == {"n": 2}
    assert not tape.can_play_response_for(get)
    assert tape.can_play_response_for(req(body={"x": 1}))
    assert not tape.can_play_response_for(req(body={"x": 2}))


def test_index_lookup_agrees_with_a_full_scan():
    interactions = [(req(body={"i": i}), response(201, {"i": i})) for i in range(300)]
    tape = cassette(interactions)
    for i in (0, 150, 299):
        played = tape.play_response(req(body={"i": i}))
        assert json.loads(played["body"]["string"]) == {"i": i}


SECRET = "sUp3r-s3cret-value"


def test_scrubber_replaces_auth_headers_known_secrets_and_write_only_fields():
    scrub = Scrubber([SECRET, "app_keyid123"])
    body = {
        "type": "twilio",
        "accountSid": "AC1",
        "authToken": "tok-123",
        "displayName": f"x{SECRET}x",
        "webhooks": [{"target": "https://e.test", "token": "t"}],
    }
    cleaned = scrub.request(req(body=body, headers={"Authorization": "Bearer abc.def", "Cookie": "c=1"}))
    stored = json.loads(cleaned.body)
    assert cleaned.headers == {"Authorization": f"Bearer {PLACEHOLDER}"}
    assert stored["authToken"] == PLACEHOLDER
    assert stored["webhooks"][0]["token"] == PLACEHOLDER
    assert stored["accountSid"] == "AC1"
    assert stored["displayName"] == f"x{SECRET_PLACEHOLDER}x"


def test_scrubber_keeps_non_string_values_of_secret_fields_so_wrong_type_variants_survive():
    stored = json.loads(Scrubber().request(req(body={"authToken": 123, "token": None})).body)
    assert stored == {"authToken": 123, "token": None}


def test_scrubbing_is_idempotent_so_replayed_requests_still_match():
    scrub = Scrubber([SECRET])
    once = scrub.request(req(body={"type": "telegram", "token": SECRET}))
    twice = scrub.request(once)
    assert request_key(once) == request_key(twice)
    assert request_key(scrub.request(req(body={"token": "other", "type": "telegram"}))) == request_key(once)


def test_scrubber_does_not_touch_the_live_request():
    original = req(body={"token": "live"}, headers={"Authorization": "Basic live"})
    Scrubber().request(original)
    assert json.loads(original.body) == {"token": "live"}
    assert original.headers["Authorization"] == "Basic live"


def test_scrubber_replaces_server_generated_secrets_in_responses():
    answer = response(201, {"integration": {"webhooks": [{"secret": "whsec"}], "webhookSecret": "mb", "id": "i"}})
    answer["headers"]["Set-Cookie"] = ["session=1"]
    cleaned = Scrubber().response(answer)
    payload = json.loads(cleaned["body"]["string"])
    assert payload["integration"]["webhooks"][0]["secret"] == PLACEHOLDER
    assert payload["integration"]["webhookSecret"] == PLACEHOLDER
    assert "Set-Cookie" not in cleaned["headers"]


def test_persister_is_a_last_guard_for_known_secrets(tmp_path):
    from vcr.serializers import yamlserializer

    persister = type("P", (ScrubbingPersister,), {"scrubber": Scrubber([SECRET])})
    path = tmp_path / "c.yaml"
    persister.save_cassette(
        str(path),
        {"requests": [req(body={"note": SECRET})], "responses": [response()], "metadata": {"pinned": SECRET}},
        yamlserializer,
    )
    text = path.read_text()
    assert SECRET not in text
    assert SECRET_PLACEHOLDER in text
    assert not list(tmp_path.glob("*.partial"))


def test_json_diff_lists_each_changed_leaf():
    diff = list(json_diff({"a": 1, "b": {"c": [1, 2]}, "d": 1}, {"a": 1, "b": {"c": [1, 3]}, "e": 2}))
    pointers = [pointer for pointer, _, _ in diff]
    assert pointers == ["/b/c/1", "/d", "/e"]


def test_nearest_prefers_same_method_and_path_then_fewest_body_changes():
    recorded = [req("GET", BASE), req(body={"type": "web", "displayName": "a"}), req(body={"type": "x", "y": 1})]
    found = nearest(recorded, req(body={"type": "web", "displayName": "b"}))
    assert found is not None
    assert found.index == 1
    assert found.differences == ['body /displayName: recorded "a", sent "b"']


def test_scrubber_also_covers_credentials_the_spec_does_not_mark_write_only():
    body = {"type": "line", "channelSecret": "cs", "channelAccessToken": "cat", "channelId": "1"}
    stored = json.loads(Scrubber().request(req(body=body)).body)
    assert stored == {"type": "line", "channelSecret": PLACEHOLDER, "channelAccessToken": PLACEHOLDER, "channelId": "1"}
    answer = response(201, {"integration": {"type": "line", "channelSecret": "cs"}})
    assert json.loads(Scrubber().response(answer)["body"]["string"])["integration"]["channelSecret"] == PLACEHOLDER


def multipart(boundary: str, parts: list[tuple[str, str | None, str | None, bytes]]) -> bytes:
    chunks = []
    for name, filename, media, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        head += f"Content-Type: {media}\r\n" if media else ""
        chunks.append(head.encode() + b"\r\n" + content + b"\r\n")
    return b"".join(chunks) + f"--{boundary}--\r\n".encode()


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
UPLOAD = BASE.replace("/integrations", "/attachments?access=public")


def upload_req(boundary: str, parts: list[tuple[str, str | None, str | None, bytes]], quoted: bool = False) -> Request:
    shown = f'"{boundary}"' if quoted else boundary
    headers = {"content-type": f"multipart/form-data; boundary={shown}"}
    return req(uri=UPLOAD, body=multipart(boundary, parts), headers=headers)


def test_multipart_bodies_match_whatever_boundary_the_client_chose():
    import requests

    ours = upload_req("conformance-0123abcd", [("source", "a.png", "image/png", PNG), ("note", None, None, b"hi")])
    quoted = upload_req("x-Other_Boundary", [("source", "a.png", "image/png", PNG), ("note", None, None, b"hi")], True)
    prepared = requests.Request(
        "POST", UPLOAD, files={"source": ("a.png", PNG, "image/png")}, data={"note": "hi"}
    ).prepare()
    theirs = Request("POST", prepared.url, prepared.body, dict(prepared.headers))
    # requests also writes the fields before the files.
    assert request_key(ours) == request_key(quoted) == request_key(theirs)
    scrub = Scrubber([SECRET])
    assert request_key(scrub.request(ours)) == request_key(scrub.request(quoted)) == request_key(ours)
    match_requests(ours, quoted)


def test_multipart_bodies_differ_by_their_parts():
    base = [("source", "a.png", "image/png", PNG)]
    key = request_key(upload_req("b1", base))
    for changed in (
        [("source", "b.png", "image/png", PNG)],
        [("source", "a.png", "image/gif", PNG)],
        [("source", "a.png", "image/png", PNG + b"!")],
        [("file", "a.png", "image/png", PNG)],
        [*base, ("note", None, None, b"x")],
    ):
        assert request_key(upload_req("b2", changed)) != key, changed


def test_a_recorded_multipart_body_without_its_header_still_matches():
    parts = [("source", "a.png", "image/png", PNG)]
    sent = upload_req("conformance-77", parts)
    recorded = req(uri=UPLOAD, body=multipart("conformance-77", parts))
    assert request_key(recorded) == request_key(sent)


def test_nearest_names_the_multipart_part_that_differs():
    recorded = [upload_req("b1", [("source", "a.png", "image/png", b"one")])]
    found = nearest(recorded, upload_req("b2", [("source", "a.png", "image/png", b"two")]))
    assert found is not None
    assert found.differences == ['body /multipart/0/content: recorded "one", sent "two"']


def test_a_replay_request_copies_as_deeply_as_the_filters_need():
    import copy

    from conformance.cassettes.recording import ReplayRequest

    original = ReplayRequest("POST", BASE + "?a=1", b'{"token":"t"}', {"Authorization": "Basic x", "Accept": "a"})
    copied = copy.deepcopy(original)
    copied.headers["Authorization"] = "Basic <scrubbed>"
    del copied.headers["Accept"]
    copied.body = b"{}"
    assert original.headers == {"Authorization": "Basic x", "Accept": "a"}
    assert original.body == b'{"token":"t"}'
    assert copied._to_dict() != original._to_dict()
    assert copy.deepcopy(original)._to_dict() == original._to_dict()
    streamed = ReplayRequest("POST", BASE, iter([b"a", b"b"]), {})
    assert list(copy.deepcopy(streamed).body) == [b"a", b"b"] == list(streamed.body)


@pytest.mark.parametrize("mode", ["none", "once"])
def test_loaded_interactions_are_scrubbed_and_decoded_in_replay_as_when_recording(tmp_path, mode):
    """A cassette written before a field became a credential, with a compressed answer: both are
    cleaned as they are loaded, whether or not anything may be recorded."""
    import gzip

    import vcr
    from vcr.serialize import serialize
    from vcr.serializers import yamlserializer

    from conformance.cassettes.recording import configure_vcr, vcr_options

    compressed = response(200, {"integration": {"id": "i", "webhookSecret": "raw-secret"}})
    compressed["headers"]["Content-Encoding"] = ["gzip"]
    compressed["body"]["string"] = gzip.compress(compressed["body"]["string"])
    sent = req(body={"type": "telegram", "token": "raw-token"}, headers={"Authorization": "Basic raw"})
    path = tmp_path / "c.yaml"
    path.write_text(serialize({"requests": [sent], "responses": [compressed]}, yamlserializer), encoding="utf-8")
    scrubber = Scrubber()
    recorder = vcr.VCR(record_mode=mode)
    configure_vcr(recorder, scrubber)
    with recorder.use_cassette(str(path), **vcr_options(scrubber)) as tape:
        ((request, answer),) = tape.data
        assert json.loads(request.body)["token"] == PLACEHOLDER
        assert request.headers["Authorization"] == f"Basic {PLACEHOLDER}"
        assert "Content-Encoding" not in answer["headers"]
        assert json.loads(answer["body"]["string"])["integration"]["webhookSecret"] == PLACEHOLDER
        # The live form of the request still finds it.
        assert tape.can_play_response_for(req(body={"token": "another", "type": "telegram"}))


def test_header_dicts_filled_in_one_pass_hold_what_vcrpy_s_would():
    from vcr.request import HeadersDict

    from conformance.transport.headers import header_items, headers_dict

    given = [
        ("Content-Type", ["application/json"]),
        ("accept", "a"),
        ("content-type", "text/plain"),
        ("X-Y", ("1", "2")),
    ]
    slow = HeadersDict()
    for name, value in given:
        slow[name] = value
    fast = headers_dict(given)
    assert isinstance(fast, HeadersDict)
    assert header_items(fast) == header_items(slow) == [("Content-Type", "text/plain"), ("accept", "a"), ("X-Y", "1")]
    assert fast["CONTENT-TYPE"] == "text/plain"
    assert header_items({"A": "1"}) == [("A", "1")]
