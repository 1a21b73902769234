"""What the shipped cassettes must hold, checked on the files themselves."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml
from run_support import clean_env

from conformance.contract.resources import resource
from conformance.sandbox import DEFAULT_KEY_ID, DEFAULT_KEY_SECRET
from conformance.sandbox.server import DEFAULT_ACCOUNT_KEY_ID, DEFAULT_ACCOUNT_KEY_SECRET
from conformance.suites import flows

TYPES = flows.shapes(resource("integration"))

PROJECT = Path(__file__).resolve().parent.parent
CASSETTES = sorted((PROJECT / "cassettes").rglob("*.yaml"))


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def interactions() -> list[tuple[Path, dict]]:
    return [(path, item) for path in CASSETTES for item in load(path)["interactions"]]


def suite_tests() -> set[str]:
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "conformance", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    return {
        line.split("::")[0].split("/")[-1][:-3] + "/" + line.split("::")[1]
        for line in listed.splitlines()
        if "::" in line
    }


def test_every_suite_test_has_a_cassette_and_every_cassette_a_test():
    shipped = {f"{path.parent.name}/{path.stem}" for path in CASSETTES}
    assert suite_tests() == shipped


def test_all_sixteen_types_were_accepted():
    accepted = Counter()
    for _, item in interactions():
        request, response = item["request"], item["response"]
        if (
            request["method"] == "POST"
            and request["uri"].endswith("/integrations")
            and response["status"]["code"] == 201
        ):
            accepted[json.loads(request["body"])["type"]] += 1
    assert sorted(accepted) == sorted(TYPES)


def test_at_least_five_distinct_rejections_were_recorded():
    rejected = set()
    for path in CASSETTES:
        for group, variants in load(path)["metadata"]["conformance"]["variants"].items():
            if any(v["expect"]["status"] == 400 for v in variants):
                rejected.add(group)
    statuses = Counter(item["response"]["status"]["code"] for _, item in interactions())
    assert len(rejected) >= 5, rejected
    assert statuses[400] >= 5


@pytest.mark.parametrize(
    "secret", [DEFAULT_KEY_SECRET, DEFAULT_KEY_ID, DEFAULT_ACCOUNT_KEY_ID, DEFAULT_ACCOUNT_KEY_SECRET]
)
def test_no_credential_reached_a_cassette(secret):
    for path in CASSETTES:
        assert secret not in path.read_text(encoding="utf-8"), path


def test_every_authorization_header_is_a_placeholder():
    for path, item in interactions():
        for value in item["request"]["headers"].get("Authorization", []):
            assert value in ("Basic <scrubbed>", "Bearer <scrubbed>"), path


REPLAY_WITHOUT_HYPOTHESIS = """
import sys
import conformance.session.session

def refuse(*args, **kwargs):
    raise RuntimeError("replay asked Hypothesis for variants")

conformance.session.session.draw = refuse
import pytest
sys.exit(pytest.main(["conformance", "-q", "-p", "no:cacheprovider"]))
"""


def test_replay_never_asks_hypothesis_for_variants():
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", REPLAY_WITHOUT_HYPOTHESIS],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
        env=clean_env(),
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert "replay asked Hypothesis" not in result.stdout
