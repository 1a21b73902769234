"""How the harness classifies what the client could not retry away: a server fault, a rate limit or a
conformance failure; how it counts them apart; and what it does with the ledger and old cassettes."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from sandbox_support import body_of

from conformance.checks.findings import Findings
from conformance.contract.schemas import shipped
from conformance.failures import FailureGroup, RateLimited, ServerFault, UnexpectedStatus, fault_outcome
from conformance.model import Exchange, Expect, Variant
from conformance.plugin.replay_check import Outcome, keep_reason
from conformance.report.summary import Summary
from conformance.sandbox import Sandbox
from conformance.sandbox.faults import decide
from conformance.scrubbing.scrubber import Scrubber
from conformance.session import runs
from conformance.session.run_ledger import RunLedger
from conformance.session.session import ConformanceSession, Verdict
from conformance.suites.flows import Records
from conformance.tools.drift import final_attempts
from conformance.transport import faults
from conformance.transport.client import Broken, BrokenExchange
from conformance.transport.settings import Settings

COMMAND = "pytest t::x --record-mode=rewrite"


def exchange(operation_id: str, status: int, *, body: Any = None, retried: list[str] | None = None,
             broken: int = 0) -> Exchange:  # fmt: skip
    op = shipped().operation(operation_id)
    made = Exchange(
        op,
        op.method,
        "http://h" + op.path,
        op.path,
        None,
        status,
        {},
        json.dumps(body),
        1 + len(retried or []),
        contract=shipped(),
    )
    made.body, made.body_is_json, made.retried, made.broken_attempts = body, body is not None, retried or [], broken
    return made


def classify(made: Exchange, expect: Expect | None, *, recording: bool = True) -> Any:
    return faults.classify(made, expect, None, recording=recording, record_command=COMMAND)


ERROR = {"errors": [{"code": "bad_gateway", "title": "upstream"}]}


@pytest.mark.parametrize("operation_id", ["CreateIntegration", "UpdateIntegration", "GetIntegration"])
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_nobody_expected_is_a_server_fault_not_a_schema_violation(operation_id, status):
    found = classify(exchange(operation_id, status, body=ERROR), Expect(201))
    assert isinstance(found, ServerFault)
    assert found.kind == "server-fault"
    assert found.operation == operation_id
    assert found.title.startswith(f"{shipped().operation(operation_id).label} answered {status}: a server fault")
    assert found.actual == f"{status} bad_gateway"
    assert "record the test again later" in found.next_step


def test_a_post_fault_says_it_was_not_retried_and_a_get_fault_lists_its_attempts():
    post = classify(exchange("CreateIntegration", 502, body=ERROR), Expect(201))
    assert post.notes == ["POST is never retried: repeating it could act twice"]
    get = classify(exchange("GetIntegration", 503, body=ERROR, retried=["answered 503"] * 4), Expect(200))
    assert get.notes == [f"attempt {n}: answered 503" for n in range(1, 5)]


def test_replay_names_the_recording_as_where_the_fault_comes_from():
    found = classify(exchange("CreateIntegration", 502, body=ERROR), Expect(201), recording=False)
    assert found.next_step == f"the recording holds this from when it was made; re-record the test: {COMMAND}"


def test_a_429_left_after_the_retries_is_rate_limited():
    found = classify(exchange("GetIntegration", 429, retried=["answered 429"] * 4), Expect(200))
    assert isinstance(found, RateLimited)
    assert found.title == "GetIntegration (GET /v2/apps/{appId}/integrations/{integrationId}) was still rate " \
        "limited (429) after 5 attempt(s)."  # fmt: skip
    assert "wait for the rate limit to reset" in found.next_step


def test_an_expected_status_or_a_4xx_is_for_the_checks_to_judge():
    assert classify(exchange("GetIntegration", 503, body=ERROR), Expect(503, "bad_gateway")) is None
    assert classify(exchange("GetIntegration", 404, body=ERROR), Expect(200)) is None
    assert classify(exchange("GetIntegration", 200, body={}), None) is None


@pytest.mark.parametrize("operation_id", ["DeleteIntegration", "GetIntegration", "CreateIntegration"])
def test_a_4xx_to_a_retry_after_a_broken_off_attempt_is_judged_only_for_get_and_post(operation_id):
    retried = ["the answer was cut off (IncompleteRead(1 bytes read, 1 more expected))"]
    found = classify(exchange(operation_id, 404, body=ERROR, retried=retried, broken=1), Expect(200))
    if operation_id == "DeleteIntegration":
        assert isinstance(found, ServerFault)
        assert "may have acted, so the answer cannot be judged" in found.title
    else:
        assert found is None


def test_a_broken_off_post_says_it_may_have_acted():
    op = shipped().operation("CreateIntegration")
    error = BrokenExchange(op, Broken("truncated", "IncompleteRead(9 bytes read, 9 more expected)"), 1, [])
    found = faults.broken(error, "create-3", recording=True, record_command=COMMAND)
    assert found.title == f"{op.label} got no whole answer: the answer was cut off (IncompleteRead(9 bytes read, " \
        "9 more expected))."  # fmt: skip
    assert found.variant == "create-3"
    assert found.expected == "a whole HTTP answer"
    assert "may have taken effect" in found.notes[-1]


def test_a_test_is_a_server_fault_only_when_every_failure_is_one():
    fault = classify(exchange("CreateIntegration", 502, body=ERROR), Expect(201))
    limited = classify(exchange("GetIntegration", 429), Expect(200))
    other = UnexpectedStatus(operation="x", method="GET", path="/", title="t", rule="r")
    assert fault_outcome(fault) == "server-fault"
    assert fault_outcome(limited) == "rate-limited"
    assert fault_outcome(FailureGroup([fault, limited])) == "server-fault"
    assert fault_outcome(FailureGroup([fault, other])) is None
    assert fault_outcome(other) is None
    assert fault_outcome(ValueError("x")) is None


# -- the summary and the JSON report --------------------------------------------------------------


def verdict(operation_id: str, status: int, *, ok: bool = True, fault: str | None = None,
            retried: list[str] | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "operation": operation_id,
        "status": status,
        "variant": None,
        "ok": ok,
        "documented": True,
        "expected": True,
        "failures": [],
        "fault": fault,
        "retried": retried or [],
    }


def test_the_summary_counts_faults_apart_from_conformance_failures(tmp_path):
    summary = Summary(None, recording=True, cassette_root=tmp_path)  # type: ignore[arg-type]
    summary.tests = {"a": "passed", "b": "failed", "c": "server-fault", "d": "rate-limited"}
    summary.verdicts = [
        verdict("CreateIntegration", 201, retried=["answered 429"]),
        verdict("CreateIntegration", 502, ok=False, fault="server-fault"),
        verdict("GetIntegration", 0, ok=False, fault="server-fault", retried=["answered 503"]),
        verdict("GetIntegration", 200, ok=False),
        verdict("ListIntegrations", 429, ok=False, fault="rate-limited"),
    ]
    lines = summary.lines()
    assert lines[1].split() == ["operation", "exchanges", "passed", "failed", "faults", "statuses"]
    rows = {line.split()[0]: line.split() for line in lines[2:5]}
    assert rows["CreateIntegration"][:5] == ["CreateIntegration", "2", "1", "0", "1"]
    assert rows["GetIntegration"][:5] == ["GetIntegration", "2", "0", "1", "1"]
    assert rows["GetIntegration"][5:] == ["200x1,", "brokenx1"]
    assert lines[5].split()[2:] == ["5", "1", "1", "3"]
    assert (
        "faults, not verdicts on the contract: 2 server fault(s), 1 rate limited: CreateIntegration 502x1, "
        "GetIntegration broken offx1, ListIntegrations 429x1"
    ) in lines
    assert "retried attempts (kept in the recordings): answered 429 x1, answered 503 x1" in lines
    assert lines[-1] == (
        "conformance tests: 1 passed, 1 failed, 1 stopped by a server fault, 1 stopped by the rate limit"
    )
    report = summary.as_json()
    assert report["faults"]["kinds"] == {"server-fault": 2, "rate-limited": 1}
    assert report["operations"]["GetIntegration"]["faults"] == 1
    assert report["operations"]["GetIntegration"]["failed"] == 1
    assert report["faults"]["retried"] == {"answered 429": 1, "answered 503": 1}


class Report:
    """The parts of a pytest report the summary reads."""

    def __init__(self, when: str, outcome: str, properties: list[tuple[str, object]]) -> None:
        self.nodeid, self.when, self.outcome = "t::x", when, outcome
        self.keywords = {"conformance": 1}
        self.user_properties = properties
        self.skipped, self.longrepr, self.longreprtext = outcome == "skipped", None, ""


@pytest.mark.parametrize(
    ("reports", "outcome"),
    [
        ([("call", "failed", "server-fault"), ("teardown", "passed", None)], "server-fault"),
        ([("call", "passed", None), ("teardown", "failed", "rate-limited")], "rate-limited"),
        ([("call", "failed", "server-fault"), ("teardown", "failed", None)], "failed"),
        ([("call", "failed", None), ("teardown", "failed", "server-fault")], "failed"),
    ],
)
def test_a_test_the_api_failed_outranks_one_the_server_failed(tmp_path, reports, outcome):
    summary = Summary(None, recording=True, cassette_root=tmp_path)  # type: ignore[arg-type]
    for when, result, fault in reports:
        properties = [("conformance-outcome", fault)] if fault else []
        summary.pytest_runtest_logreport(Report(when, result, properties))  # type: ignore[arg-type]
    assert summary.tests == {"t::x": outcome}


# -- cassettes: drift's pairing, and which recording may replace a cassette ---------------------------


def interaction(method: str, path: str, status: int, broken: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {"status": {"code": status}, "headers": {}, "body": {"string": "{}"}}
    if broken:
        response = {**Broken("reset", "x").marker(), "body": {"string": ""}}
    return {"request": {"method": method, "uri": "http://h" + path, "body": None}, "response": response}


def test_drift_pairs_each_exchange_by_its_last_attempt():
    recorded = [
        interaction("GET", "/a", 429),
        interaction("GET", "/a", 503),
        interaction("GET", "/a", 0, broken=True),
        interaction("GET", "/a", 200),
        interaction("POST", "/b", 502),  # not retried: POST
        interaction("POST", "/b", 201),  # a second create, not a retry
        interaction("GET", "/a", 404),
        interaction("GET", "/a", 404),  # a second read: a 404 is never retried
    ]
    kept, left_out = final_attempts(recorded)
    assert [(i["request"]["method"], i["response"]["status"]["code"]) for i in kept] == [
        ("GET", 200),
        ("POST", 502),
        ("POST", 201),
        ("GET", 404),
        ("GET", 404),
    ]
    assert left_out == 3


def faulted() -> SimpleNamespace:
    """The parts of a session keep_reason reads: one exchange passed, one met a 502."""
    findings = Findings("t.yaml", "-")
    findings.verdicts += [Verdict("GetIntegration", 200, None, True), Verdict("CreateIntegration", 502, None, False)]
    findings.verdicts[1].fault = "server-fault"
    findings.exchanges = 2
    return SimpleNamespace(findings=findings, skips=SimpleNamespace(reason=None))


def test_a_recording_with_a_fault_replaces_no_cassette_but_is_kept_where_none_was():
    reason = keep_reason(Outcome("failed"), faulted(), previous=True)  # type: ignore[arg-type]
    assert reason is not None
    assert reason.startswith("CreateIntegration answered 502 (a server fault), and a recording with a fault never")
    assert keep_reason(Outcome("failed"), faulted(), previous=False) is None  # type: ignore[arg-type]


# -- the session: broken-off deletes and the ledger -------------------------------------------------


def seed_where(profile: str, pattern: list[str | None]) -> int:
    """A seed whose first requests meet faults of these kinds (None: none) in this order."""
    for seed in range(2000):
        kinds = [getattr(decide(profile, seed, n), "kind", None) for n in range(1, len(pattern) + 1)]
        if kinds == pattern:
            return seed
    raise AssertionError(f"no seed for {pattern}")


def test_a_delete_whose_answer_was_cut_off_is_a_server_fault_and_leaves_nothing_to_clean_up():
    # Request 1 creates; 2, the delete, acts but its answer is cut off; 3, the retry, finds nothing: 404.
    seed = seed_where("truncated", [None, "truncated", None, None])
    with Sandbox(faults="truncated", seed=seed) as sandbox:
        settings = Settings(sandbox.url, sandbox.app_id, sandbox.key_id, sandbox.key_secret)
        sunco = ConformanceSession(
            cassette=None, recording=True, settings=settings, scrubber=Scrubber(), nodeid="t::x", record_command=COMMAND
        )
        records = Records.of(sunco, "integration")
        created = records.create(Variant("web", body_of("web"), Expect(201))).id
        assert created is not None
        assert len(sunco.ledger.entries) == 1
        with pytest.raises(ServerFault) as caught:
            records.delete(created)
        assert caught.value.status == 404
        assert "may have acted" in caught.value.title
        assert sunco.findings.verdicts[-1].retried[0].startswith("the answer was cut off")
        # The cut-off delete deleted it: the ledger forgets it, and cleanup sends nothing more.
        assert sunco.ledger.entries == []
        sunco.cleanup()
        assert [failure.kind for failure in sunco.findings.failures] == ["server-fault"]
        assert sandbox.store.records(("integration", sandbox.app_id)) == []


def test_a_retry_under_new_episodes_is_sent_not_answered_from_the_attempt_just_recorded(tmp_path):
    from vcr import VCR

    from conformance.cassettes.recording import configure_vcr, vcr_options

    # Request 1 fills the cassette; in the next session request 2 answers 503, and its retry, 3, does not.
    seed = seed_where("http-503", [None, "status", None])
    cassette = tmp_path / "tape.yaml"
    with Sandbox(faults="http-503", seed=seed) as sandbox:
        settings = Settings(sandbox.url, sandbox.app_id, sandbox.key_id, sandbox.key_secret)
        vcr = VCR(record_mode="new_episodes")
        configure_vcr(vcr, Scrubber())
        answers = []
        for operation_id in ("GetApp", "ListIntegrations"):
            with vcr.use_cassette(str(cassette), **vcr_options(Scrubber())) as tape:
                sunco = ConformanceSession(
                    cassette=tape, recording=True, settings=settings, scrubber=Scrubber(), nodeid="t::x",
                    record_command=COMMAND,
                )  # fmt: skip
                answers.append(sunco.call(operation_id, expect=Expect(200)))
    # The retry went to the server; it was not answered with the 503 recorded a moment before.
    assert [(answer.status, answer.retried) for answer in answers] == [(200, []), (200, ["answered 503"])]
    statuses = [i["response"]["status"]["code"] for i in yaml.safe_load(cassette.read_text())["interactions"]]
    assert statuses == [200, 503, 200]


def test_a_conversation_whose_create_was_cut_off_is_found_by_its_participant_and_tag_and_deleted(tmp_path):
    # Request 1 makes a user; 2 makes the conversation but its answer is cut off. The conversation
    # list answers only with a participant filter, which teardown takes from the create body.
    seed = seed_where("truncated", [None, "truncated", None, None, None])
    with Sandbox(faults="truncated", seed=seed) as sandbox:
        settings = Settings(sandbox.url, sandbox.app_id, sandbox.key_id, sandbox.key_secret)
        journal = RunLedger(tmp_path, runs.current(), app_id=sandbox.app_id, host="sandbox")
        sunco = ConformanceSession(
            cassette=None, recording=True, settings=settings, scrubber=Scrubber(), nodeid="t::x",
            record_command=COMMAND, journal=journal,
        )  # fmt: skip
        user = Records.of(sunco, "user").create(Variant("user", {"externalId": runs.tag("swept")}, Expect(201))).id
        body = {"type": "personal", "displayName": runs.tag("cut-off"), "participants": [{"userId": user}]}
        with pytest.raises(ServerFault):
            Records.of(sunco, "conversation").create(Variant("conversation", body, Expect(201)))
        [made] = sandbox.store.records(("conversation", sandbox.app_id))
        conversation = made["id"]
        [unconfirmed] = sunco.ledger.unconfirmed
        assert unconfirmed.query == {"filter[userId]": user}
        # The run's ledger on disk holds both, the cut-off create by its tag and filter, until teardown.
        on_disk = journal.entries()
        assert [(e.resource, e.record_id, e.tag) for e in on_disk] == [
            ("user", user, None),
            ("conversation", None, body["displayName"]),
        ]
        assert on_disk[1].query == {"filter[userId]": user}
        sunco.cleanup()
        # Found by its tag, it is on disk by its id; the API refused to delete a user's default
        # conversation (it went with the user), so the ledger keeps it for `cleanup` (a 404 there).
        [kept] = journal.entries()
        assert (kept.resource, kept.tag, kept.path) == ("conversation", None, {"conversationId": conversation})
        assert sandbox.store.records(("conversation", sandbox.app_id)) == []
        assert user not in [u["id"] for u in sandbox.store.records(("user", sandbox.app_id))]
        listed = [v for v in sunco.findings.verdicts if v.operation == "ListConversations"]
        assert [v.status for v in listed] == [200]
