"""Cassette files: a damaged one is one line naming it, and writes never leave half a file."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest
import yaml
from test_roundtrip import PROJECT, pytest_run
from vcr.persisters.filesystem import CassetteNotFoundError
from vcr.serializers import yamlserializer

from conformance.cassettes import files as cassettes
from conformance.cassettes.files import CorruptCassette, load_file
from conformance.cassettes.recording import ScrubbingPersister
from conformance.scrubbing.scrubber import Scrubber
from conformance.tools import drift

SHIPPED = PROJECT / "cassettes" / "test_integrations"
SMALL = "test_create_integration_rejects_empty_object"
TEXT = (SHIPPED / f"{SMALL}.yaml").read_text(encoding="utf-8")
LINES = TEXT.splitlines(keepends=True)


def cut_at_line(number: int) -> str:
    """The text up to and including line ``number`` (1-based)."""
    return "".join(LINES[:number])


DAMAGED = {
    # Cut inside a quoted scalar: the YAML parser stops on the line after it.
    "truncated mid-value": (TEXT[: TEXT.index("string: '{") + 14], "YAML error"),
    "binary": (None, "not UTF-8 text"),
    "empty": ("", "the file is empty"),
    # Cut at a line boundary just before the last key: still valid YAML, but not the whole file.
    "cut between keys": (cut_at_line(len(LINES) - 1), "cut short"),
    "not a cassette": ("- just\n- a list\n", "no 'interactions' list"),
    "interaction without a response": ("interactions:\n- request: {method: GET, uri: /x}\nversion: 1\n", "incomplete"),
}


def write_damaged(path: Path, kind: str) -> None:
    text, _ = DAMAGED[kind]
    if text is None:
        path.write_bytes(b"interactions:\n- " + bytes(range(128, 256)) * 3)
    else:
        path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("kind", DAMAGED)
def test_a_damaged_cassette_is_one_line_naming_the_file_and_why(tmp_path, kind):
    path = tmp_path / "c.yaml"
    write_damaged(path, kind)
    with pytest.raises(CorruptCassette) as caught:
        load_file(path)
    message = caught.value.describe("pytest x --record-mode=rewrite")
    assert "\n" not in message
    assert message.startswith(str(path))
    assert DAMAGED[kind][1] in message
    assert message.endswith("re-record it: pytest x --record-mode=rewrite")


def test_the_line_is_given_where_the_parser_knows_it(tmp_path):
    path = tmp_path / "c.yaml"
    text = TEXT[: TEXT.index("string: '{") + 14]
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CorruptCassette) as caught:
        load_file(path)
    # The quoted scalar opens on the last line and is never closed.
    assert caught.value.line in (text.count("\n"), text.count("\n") + 1)
    path.write_bytes(b"interactions:\n- request:\n    body: \xff\xfe\n")
    with pytest.raises(CorruptCassette) as caught:
        load_file(path)
    assert caught.value.line == 3


def test_every_shipped_cassette_reads_back_whole():
    for path in sorted(SHIPPED.glob("*.yaml")):
        assert load_file(path)["interactions"], path


@pytest.mark.parametrize("kind", DAMAGED)
def test_the_persister_raises_the_same_one_line_error_instead_of_treating_the_file_as_missing(tmp_path, kind):
    path = tmp_path / "c.yaml"
    write_damaged(path, kind)
    with pytest.raises(CorruptCassette):
        ScrubbingPersister.load_cassette(str(path), yamlserializer)


def test_the_persister_reads_a_whole_cassette_with_its_metadata(tmp_path):
    path = tmp_path / "c.yaml"
    shutil.copy(SHIPPED / f"{SMALL}.yaml", path)
    requests, responses, metadata = ScrubbingPersister.load_cassette(str(path), yamlserializer)
    assert len(requests) == len(responses) == len(yaml.safe_load(TEXT)["interactions"])
    assert "conformance" in metadata


def test_a_re_recording_loads_nothing_and_is_written_beside_the_cassette(tmp_path):
    cassette = tmp_path / "c.yaml"
    cassette.write_text(TEXT, encoding="utf-8")
    virtual = cassettes.virtual_path(cassette)
    assert cassettes.is_virtual(virtual)
    with pytest.raises(CassetteNotFoundError):
        ScrubbingPersister.load_cassette(str(virtual), yamlserializer)
    persister = type("P", (ScrubbingPersister,), {"scrubber": Scrubber(["top-secret-value"])})
    persister.save_cassette(
        str(virtual), {"requests": [], "responses": [], "metadata": {"x": "top-secret-value"}}, yamlserializer
    )
    recorded = cassettes.recording_path(cassette)
    assert recorded.name == "c.yaml.recording"
    assert "top-secret-value" not in recorded.read_text()
    assert cassette.read_text(encoding="utf-8") == TEXT  # the old cassette is untouched until the rename
    assert not virtual.exists()


def test_leftovers_are_found_by_kind(tmp_path):
    (tmp_path / "m").mkdir()
    for name in ("a.yaml", "a.yaml.recording", "b.yaml.rejected", "c.yaml.partial", "d.yaml.previous"):
        (tmp_path / "m" / name).write_text("x")
    temporary, legacy = cassettes.leftovers(tmp_path)
    assert [p.name for p in temporary] == ["a.yaml.recording", "b.yaml.rejected", "c.yaml.partial"]
    assert [p.name for p in legacy] == ["d.yaml.previous"]
    assert cassettes.leftovers(tmp_path / "nowhere") == ([], [])


def damaged_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "cassettes"
    shutil.copytree(PROJECT / "cassettes", folder)
    module = folder / "test_integrations"
    (module / f"{SMALL}.yaml").write_text(TEXT[: len(TEXT) // 2], encoding="utf-8")
    (module / "test_create_integration_rejects_values_outside_enums.yaml").write_bytes(bytes(range(256)) * 4)
    missing_required_fields = module / "test_create_integration_rejects_missing_required_fields.yaml"
    missing_required_fields.write_text(
        "".join(missing_required_fields.read_text(encoding="utf-8").splitlines(True)[:-1]), encoding="utf-8"
    )
    return folder


def test_replaying_damaged_cassettes_gives_one_line_each_with_the_command_that_re_records_it(tmp_path):
    folder = damaged_copy(tmp_path)
    result = pytest_run(
        "conformance", "-k", "empty_object or outside_enums or missing_required_fields", f"--cassette-dir={folder}"
    )
    assert result.returncode == 1
    out = result.stdout
    for name in (
        SMALL,
        "test_create_integration_rejects_values_outside_enums",
        "test_create_integration_rejects_missing_required_fields",
    ):
        lines = [line for line in out.splitlines() if line.startswith(str(folder / "test_integrations" / name))]
        assert len(lines) == 1, out[-3000:]
        assert "not a readable cassette" in lines[0]
        assert lines[0].endswith(
            f"pytest conformance/suites/test_integrations.py::{name} --record-mode=rewrite --cassette-dir={folder}"
        )
    assert f"{SMALL}.yaml:" in out  # the line number follows the file name
    for noise in ("Traceback", "ScannerError", "no such cassette", "No recording holds"):
        assert noise not in out, out[-3000:]


def drift_args(baseline: Path, candidate: Path) -> argparse.Namespace:
    return argparse.Namespace(baseline=baseline, candidate=candidate, json=None, markdown=None)


def test_drift_calls_a_damaged_cassette_an_error_not_drift(tmp_path, capsys):
    folder = damaged_copy(tmp_path)
    assert drift.run(drift_args(PROJECT / "cassettes", folder)) == 2
    captured = capsys.readouterr()
    errors = captured.err.strip().splitlines()
    assert len(errors) == 1
    assert errors[0].startswith("drift: error: ")
    assert str(folder / "test_integrations") in errors[0]
    assert f"--record-mode=rewrite --cassette-dir={folder}" in errors[0]
    assert "change(s)" not in captured.out


def test_drift_of_whole_cassettes_still_compares(tmp_path, capsys):
    folder = tmp_path / "cassettes"
    shutil.copytree(PROJECT / "cassettes", folder)
    assert drift.run(drift_args(PROJECT / "cassettes", folder)) == 0
    assert "0 change(s)" in capsys.readouterr().out
