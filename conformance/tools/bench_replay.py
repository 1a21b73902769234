"""The replay half of the benchmark: synthetic cassettes and the three ways of answering them.

Every path sends the same requests, in the same shuffled order, through the same ``Client`` and
``check_exchange``, and verifies that each response is the one recorded for its request, so the
paths differ only in how a response is found:

* ``project``: vcrpy with this project's ``IndexedCassette``, matcher, scrubber and cassette cache,
  answered through the cassette adapter, as a replaying session does;
* ``vcrpy``: stock vcrpy, default ``Cassette`` (a linear scan per request);
* ``floor``: the ``responses`` library answering in-process, no cassette at all.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import Any

import requests
import vcr
from vcr.request import Request
from vcr.serialize import serialize
from vcr.serializers import yamlserializer

from conformance.cassettes.cache import CassetteCache
from conformance.cassettes.playback import CassetteAdapter, replays
from conformance.cassettes.recording import configure_vcr, vcr_options
from conformance.checks.exchange import check_exchange
from conformance.contract.schemas import shipped
from conformance.scrubbing.scrubber import PLACEHOLDER, Scrubber
from conformance.transport.client import JSON_TYPE, Client
from conformance.transport.settings import Settings

PATHS = ("project", "vcrpy", "floor")
OPERATION = "CreateIntegration"
# A host nothing resolves: every path must answer in-process, so the run is offline by construction.
# The key is a stand-in: nothing leaves the process.
SETTINGS = Settings(
    api_url="https://api.bench.invalid",
    app_id="5f0c" + "0" * 20,
    key_id="app_bench",
    key_secret="bench-key-value",  # noqa: S106
)
Body = dict[str, Any]
Progress = Callable[[str], None]


class ReplayMismatch(AssertionError):
    """A replay answered a request with something other than what was recorded for it."""


@dataclass(frozen=True)
class Case:
    """One cassette size: the bodies in recorded order, and the order every path sends them in."""

    size: int
    bodies: list[Body]
    answers: list[Body]
    order: list[Body]

    @property
    def url(self) -> str:
        return SETTINGS.api_url + shipped().operation(OPERATION).path.format(appId=SETTINGS.app_id)


def make_case(size: int, seed: int = 0) -> Case:
    bodies = [{"type": "web", "displayName": f"bench-{i}"} for i in range(size)]
    answers = [
        {"integration": {"id": f"{i + 1:024x}", "type": "web", "status": "active", "displayName": body["displayName"]}}
        for i, body in enumerate(bodies)
    ]
    order = list(bodies)
    # Shuffled, so no path gains from requests arriving in recorded order; one seed, so every
    # path sends the same order.
    random.Random(seed).shuffle(order)
    return Case(size, bodies, answers, order)


def write_cassette(path: Path, case: Case) -> Path:
    """The cassette as vcrpy's own YAML serializer writes it, so both cassette paths load one file."""
    recorded = []
    for body in case.bodies:
        # The bytes the client sends, and the Authorization the scrubber would have stored.
        headers = {"Accept": JSON_TYPE, "Content-Type": JSON_TYPE, "Authorization": f"Basic {PLACEHOLDER}"}
        recorded.append(Request("POST", case.url, json.dumps(body).encode(), headers))
    answers = [
        {
            "status": {"code": 201, "message": "Created"},
            "headers": {"Content-Type": [JSON_TYPE]},
            "body": {"string": json.dumps(answer)},
        }
        for answer in case.answers
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(serialize({"requests": recorded, "responses": answers}, yamlserializer), encoding="utf-8")
    return path


def send_all(client: Client, order: Sequence[Body], path_name: str) -> int:
    """Send every body, check each exchange, and raise unless each got its own recorded answer."""
    for body in order:
        exchange = client.call(OPERATION, body=body)
        failures = check_exchange(exchange)
        integration = exchange.body.get("integration") if isinstance(exchange.body, dict) else None
        returned = integration.get("displayName") if isinstance(integration, dict) else None
        if exchange.status != 201 or failures or returned != body["displayName"]:
            why = failures[0].title if failures else f"status {exchange.status}, displayName {returned!r}"
            raise ReplayMismatch(f"{path_name}: the request for {body['displayName']!r} got a wrong answer: {why}")
    return len(order)


def _all_played(cassette: Any, case: Case, path_name: str) -> None:
    if cassette.play_count != case.size:
        raise ReplayMismatch(f"{path_name}: played {cassette.play_count} of {case.size} recorded interactions")


def time_project(cassette_path: Path, case: Case, scrubber: Scrubber, cache: CassetteCache | None = None) -> float:
    recorder = vcr.VCR(record_mode="none")
    configure_vcr(recorder, scrubber, cache)
    options = vcr_options(scrubber)
    # Opening the cassette (reading it, scrubbing, indexing) is inside the timing: a test pays it.
    start = perf_counter()
    with recorder.use_cassette(str(cassette_path), **options) as cassette:
        # The client a replaying session builds (conformance.session.session): the cassette answers it.
        client = Client(SETTINGS, replaying=True, transport=CassetteAdapter(cassette) if replays(cassette) else None)
        send_all(client, case.order, "project")
    elapsed = perf_counter() - start
    _all_played(cassette, case, "project")
    return elapsed


def time_vcrpy(cassette_path: Path, case: Case) -> float:
    # Body in the matchers, so each of the N same-URI requests finds its own interaction.
    recorder = vcr.VCR(record_mode="none", match_on=("method", "uri", "body"))
    client = Client(SETTINGS)
    start = perf_counter()
    with recorder.use_cassette(str(cassette_path)) as cassette:
        send_all(client, case.order, "vcrpy")
    elapsed = perf_counter() - start
    _all_played(cassette, case, "vcrpy")
    return elapsed


def time_floor(case: Case) -> float:
    import responses  # a dev extra, so importing this module (for --help) does not need it

    by_body = {
        json.dumps(body).encode(): json.dumps(answer) for body, answer in zip(case.bodies, case.answers, strict=True)
    }

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        body = request.body if isinstance(request.body, bytes) else str(request.body).encode()
        # A body nobody recorded gets a 404, which send_all reports as a wrong answer.
        return (201, {}, by_body[body]) if body in by_body else (404, {}, "{}")

    client = Client(SETTINGS)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback("POST", case.url, callback=answer, content_type=JSON_TYPE)
        # No cassette to open: only the requests and their checks are timed.
        start = perf_counter()
        send_all(client, case.order, "floor")
        return perf_counter() - start


def measure_replay(
    sizes: Sequence[int], repeat: int, workdir: Path, progress: Progress = print
) -> dict[str, dict[str, float]]:
    """Per-exchange milliseconds for each path and size: ``{path: {str(size): ms}}``."""
    scrubber = Scrubber()  # built once per pytest session by the plugin, so outside the timing
    # The cassette cache, as every replay after a checkout's first has it (see measure_suite).
    cache = CassetteCache(workdir / "cassette-cache")
    warm = make_case(2, seed=1)
    warm_path = write_cassette(workdir / "warm.yaml", warm)
    # One untimed pass through each path loads schemas, validators and vcrpy's patches first.
    time_project(warm_path, warm, scrubber, cache)
    time_vcrpy(warm_path, warm)
    time_floor(warm)
    result: dict[str, dict[str, float]] = {name: {} for name in PATHS}
    for size in sizes:
        case = make_case(size)
        cassette_path = write_cassette(workdir / f"bench-{size}.yaml", case)
        samples: dict[str, list[float]] = {name: [] for name in PATHS}
        time_project(cassette_path, case, scrubber, cache)  # untimed: puts the cassette in the cache
        for round_number in range(1, repeat + 1):
            # Paths interleave within a round, so drift in machine load hits all three alike.
            samples["project"].append(time_project(cassette_path, case, scrubber, cache))
            samples["vcrpy"].append(time_vcrpy(cassette_path, case))
            samples["floor"].append(time_floor(case))
            progress(
                f"replay: {size} exchange(s), round {round_number}/{repeat}: "
                + ", ".join(f"{name} {samples[name][-1] * 1000 / size:.3f} ms" for name in PATHS)
            )
        for name in PATHS:
            # Best of the repeats: noise on a shared machine only ever adds time.
            result[name][str(size)] = min(samples[name]) * 1000 / size
    return result
