"""Two contracts in one process: each value is held by what it was given, and nothing is swapped.

The shop's v1 and v2 (tests/fixtures/upgrade) are imported into two folders and judge one answer
two ways. The project's contract and a copy a release changed (an operation gone, a field
tightened) are served by two sandboxes at once, and called by two sessions at once.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from conformance.checks.exchange import check_exchange
from conformance.contract import needs
from conformance.contract.importer import build, write
from conformance.contract.openapi import load as load_spec
from conformance.contract.resources import resource
from conformance.contract.schemas import SCHEMA_DIR, Contract, UnknownOperation, load, shipped
from conformance.model import Exchange, Expect
from conformance.sandbox import Sandbox
from conformance.scrubbing.scrubber import Scrubber
from conformance.session.session import ConformanceSession
from conformance.transport.settings import Settings

UPGRADE = Path(__file__).parent / "fixtures" / "upgrade"
VERSION = "17.99.0"
GONE = "GetApp"
SHORT = 8  # the changed contract's maxLength of a user's externalId
LONG_ID = "external-id-of-twenty"


def imported(spec: str, folder: Path) -> Contract:
    write(build(load_spec(UPGRADE / spec)), folder)
    return load(folder)


@pytest.fixture(scope="module")
def shops(tmp_path_factory: pytest.TempPathFactory) -> tuple[Contract, Contract]:
    folder = tmp_path_factory.mktemp("shops")
    return imported("shop-v1.yaml", folder / "v1"), imported("shop-v2.yaml", folder / "v2")


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> Contract:
    """The project's contract as a release might change it: GetApp gone, a user's externalId shorter,
    and a user record without toBeRetained."""
    folder = tmp_path_factory.mktemp("changed") / "schemas"
    shutil.copytree(SCHEMA_DIR, folder)
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    index["source"]["version"] = VERSION
    del index["operations"][GONE]
    (folder / "index.json").write_text(json.dumps(index), encoding="utf-8")
    body = folder / "components" / "userCreateBody.json"
    schema = json.loads(body.read_text(encoding="utf-8"))
    schema["properties"]["externalId"]["maxLength"] = SHORT
    body.write_text(json.dumps(schema), encoding="utf-8")
    record = folder / "components" / "user.json"
    schema = json.loads(record.read_text(encoding="utf-8"))
    del schema["allOf"][1]["properties"]["toBeRetained"]
    record.write_text(json.dumps(schema), encoding="utf-8")
    return load(folder)


def created_parcel(contract: Contract) -> Exchange:
    """One CreateParcel answer as the v1 shop sends it: a status v2 dropped, no tracking code, a fractional weight."""
    op = contract.operation("CreateParcel")
    body = {"parcel": {"id": "p-1", "kind": "box", "status": "created", "weight": 2.5}}
    return Exchange(
        op,
        op.method,
        "http://shop.test/shops/s-1/parcels",
        "/shops/s-1/parcels",
        {"kind": "box", "weight": 2.5},
        201,
        {"Content-Type": "application/json"},
        json.dumps(body),
        body=body,
        body_is_json=True,
        contract=contract,
    )


def test_create_parcel_answer_conforms_to_v1_and_breaks_v2_in_one_process(shops: tuple[Contract, Contract]) -> None:
    v1, v2 = shops
    assert (v1.version, v2.version) == ("1.0.0", "2.0.0")
    assert check_exchange(created_parcel(v1), Expect(201)) == []
    broken = {(f.kind, f.pointer, f.rule.split(" ", 1)[0]) for f in check_exchange(created_parcel(v2), Expect(201))}
    assert broken == {
        ("schema", "/parcel", "required"),
        ("schema", "/parcel/status", "enum"),
        ("schema", "/parcel/weight", "type"),
    }
    # Judged again in the other order: neither verdict was left behind in a cache the other reads.
    assert check_exchange(created_parcel(v1), Expect(201)) == []
    assert len(check_exchange(created_parcel(v2), Expect(201))) == 3


def test_the_walks_cache_what_they_find_per_contract(shops: tuple[Contract, Contract]) -> None:
    v1, v2 = shops
    assert "legacyRef" in v1.declared_fields("components/parcel.json")
    assert "legacyRef" not in v2.declared_fields("components/parcel.json")
    assert "trackingCode" in v2.declared_fields("components/parcel.json")


@pytest.fixture
def sandboxes(changed: Contract) -> Iterator[tuple[Sandbox, Sandbox]]:
    with Sandbox(seed=1) as project, Sandbox(seed=1, contract=changed) as release:
        yield project, release


def send(sandbox: Sandbox, method: str, path: str, body: Any = None) -> requests.Response:
    url = sandbox.url + path.format(appId=sandbox.app_id)
    return requests.request(method, url, json=body, auth=(sandbox.key_id, sandbox.key_secret), timeout=10)


def answer(sandbox: Sandbox, method: str, path: str, body: Any = None) -> tuple[int, list[str]]:
    sent = send(sandbox, method, path, body)
    errors = sent.json().get("errors") or [] if sent.content else []
    return sent.status_code, [str(error.get("code")) for error in errors]


def test_two_sandboxes_serve_two_contracts_at_once(sandboxes: tuple[Sandbox, Sandbox], changed: Contract) -> None:
    project, release = sandboxes
    assert project.contract is shipped()
    assert release.contract is changed
    # The operation the release removed: routed by one; the other knows only the path's other methods.
    assert answer(project, "GET", "/v2/apps/{appId}") == (200, [])
    assert answer(release, "GET", "/v2/apps/{appId}") == (405, ["method_not_allowed"])
    # The field the release tightened: the same body is made by one and refused by the other.
    user = {"externalId": LONG_ID}
    assert answer(project, "POST", "/v2/apps/{appId}/users", user) == (201, [])
    assert answer(release, "POST", "/v2/apps/{appId}/users", user) == (400, ["bad_request"])
    assert answer(release, "POST", "/v2/apps/{appId}/users", {"externalId": LONG_ID[:SHORT]}) == (201, [])
    # What a record keeps is read from each sandbox's own contract (the resource table's facts for it).
    kept = {"externalId": "kept-1", "toBeRetained": True}
    assert send(project, "POST", "/v2/apps/{appId}/users", kept).json()["user"]["toBeRetained"] is True
    assert "toBeRetained" not in send(release, "POST", "/v2/apps/{appId}/users", kept).json()["user"]


def session(sandbox: Sandbox, contract: Contract) -> ConformanceSession:
    settings = Settings(sandbox.url, sandbox.app_id, sandbox.key_id, sandbox.key_secret)
    return ConformanceSession(
        cassette=None,
        recording=True,
        settings=settings,
        scrubber=Scrubber(contract=contract),
        nodeid="tests/test_two_contracts.py::t",
        record_command="r",
        contract=contract,
    )


def test_two_sessions_call_and_check_against_their_own_contract(
    sandboxes: tuple[Sandbox, Sandbox], changed: Contract
) -> None:
    project, release = sandboxes
    ours, theirs = session(project, shipped()), session(release, changed)
    assert ours.call(GONE, expect=Expect(200)).status == 200
    with pytest.raises(UnknownOperation) as raised:
        theirs.call(GONE, expect=Expect(200))
    assert raised.value.absent == f"the contract (spec {VERSION}) has no operation {GONE}"
    # Each session's exchanges carry its contract, so its checks hold the answer to that contract.
    made = theirs.call("CreateUser", body={"externalId": LONG_ID[:SHORT]}, expect=Expect(201))
    assert made.contract is changed
    assert [v.ok for v in ours.findings.verdicts + theirs.findings.verdicts] == [True, True]
    refused = theirs.call("CreateUser", body={"externalId": LONG_ID}, expect=Expect(201))
    assert refused.status == 400
    assert [f.kind for f in theirs.findings.failures] == ["unexpected-status"]
    assert ours.findings.failures == []


def test_the_resource_table_reads_against_a_given_contract(changed: Contract) -> None:
    app = resource("app")
    assert app.op("get") is shipped().operation(GONE)
    assert app.op("get", changed) is None
    lifecycle = needs.uses(GONE)(lambda: None)
    assert needs.absent(lifecycle, shipped()) is None
    assert needs.absent(lifecycle, changed) == f"the contract (spec {VERSION}) has no operation {GONE}"
    # Facts the table derives are per contract: the same answers, worked out (and cached) for each.
    assert resource("integration").shapes_in(changed) == resource("integration").shapes
    assert resource("user").record_schema_in(changed) == resource("user").record_schema
