"""The parsed-cassette cache: a hit is the YAML's own data, and a changed cassette or a bad entry is never served."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from test_cassette_files import DAMAGED, SHIPPED, SMALL, write_damaged
from test_roundtrip import PROJECT, pytest_run
from vcr.serializers import yamlserializer

from conformance.cassettes import cache as cassette_cache
from conformance.cassettes.cache import CassetteCache
from conformance.cassettes.files import CorruptCassette
from conformance.cassettes.recording import ScrubbingPersister


class CountingSerializer:
    """vcrpy's YAML serializer, counting how often a cassette is parsed from its YAML."""

    __name__ = "vcr.serializers.yamlserializer"

    def __init__(self) -> None:
        self.parsed = 0

    def deserialize(self, text: str) -> object:
        self.parsed += 1
        return yamlserializer.deserialize(text)


def persister(folder: Path | None) -> type[ScrubbingPersister]:
    return type("P", (ScrubbingPersister,), {"cache": CassetteCache(folder)})


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    path = tmp_path / "tapes" / "c.yaml"
    path.parent.mkdir()
    shutil.copy(SHIPPED / f"{SMALL}.yaml", path)
    return path


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def test_a_cached_cassette_loads_as_its_yaml_without_parsing_it_again(tmp_path, cassette):
    reader, serializer = persister(tmp_path / "cache"), CountingSerializer()
    first = reader.load_cassette(str(cassette), serializer)
    second = reader.load_cassette(str(cassette), serializer)
    assert serializer.parsed == 1
    assert len(entries(tmp_path / "cache")) == 1
    uncached = persister(None).load_cassette(str(cassette), yamlserializer)
    for loaded in (first, second):
        requests, responses, metadata = loaded
        assert [r._to_dict() for r in requests] == [r._to_dict() for r in uncached[0]]
        assert responses == uncached[1]
        assert metadata == uncached[2]
    assert reader.cache.hits == 1
    assert reader.cache.misses == 1


def test_a_changed_cassette_is_parsed_afresh_even_with_the_same_size_and_time(tmp_path, cassette):
    reader, serializer = persister(tmp_path / "cache"), CountingSerializer()
    requests, _, _ = reader.load_cassette(str(cassette), serializer)
    old = requests[0].uri
    before = cassette.stat()
    text = cassette.read_text(encoding="utf-8")
    # One character, so size stays; the old times are put back, so only the content tells.
    changed = text.replace("/v2/apps/", "/v2/appz/", 1)
    assert len(changed) == len(text)
    cassette.write_text(changed, encoding="utf-8")
    os.utime(cassette, ns=(before.st_atime_ns, before.st_mtime_ns))
    requests, _, _ = reader.load_cassette(str(cassette), serializer)
    assert serializer.parsed == 2
    assert requests[0].uri == old.replace("/v2/apps/", "/v2/appz/")


def test_a_damaged_cassette_still_gets_its_one_line_error_and_is_not_cached(tmp_path):
    folder = tmp_path / "cache"
    for kind in DAMAGED:
        path = tmp_path / f"{kind.replace(' ', '-')}.yaml"
        write_damaged(path, kind)
        with pytest.raises(CorruptCassette):
            persister(folder).load_cassette(str(path), yamlserializer)
    assert entries(folder) == []


@pytest.mark.parametrize(
    "damage",
    [
        "cut short",
        "not JSON",
        "another format",
        "another cassette's hash",
        "another serializer",
        "not a whole cassette",
    ],
)
def test_a_bad_entry_is_ignored_and_replaced(tmp_path, cassette, damage):
    folder = tmp_path / "cache"
    reader, serializer = persister(folder), CountingSerializer()
    expected = reader.load_cassette(str(cassette), serializer)
    (entry,) = entries(folder)
    text = entry.read_text(encoding="utf-8")
    stored = json.loads(text)
    if damage == "cut short":
        entry.write_text(text[: len(text) // 2], encoding="utf-8")
    elif damage == "not JSON":
        entry.write_bytes(b"\x00\xff garbage")
    else:
        if damage == "another format":
            stored["format"] = cassette_cache.FORMAT + 1
        elif damage == "another cassette's hash":
            stored["sha256"] = "0" * 64
        elif damage == "another serializer":
            stored["serializer"] = "vcr.serializers.jsonserializer"
        else:
            # A hand-made entry with the right name and hash, but its interactions lost.
            stored["data"]["interactions"][0].pop("response")
        entry.write_text(json.dumps(stored), encoding="utf-8")
    loaded = reader.load_cassette(str(cassette), serializer)
    assert serializer.parsed == 2  # the YAML again, not the entry
    assert loaded[1] == expected[1]
    assert json.loads(entry.read_text(encoding="utf-8")) == json.loads(text)  # rewritten whole


def test_data_json_cannot_hold_exactly_is_parsed_every_time(tmp_path, cassette):
    text = cassette.read_text(encoding="utf-8")
    # A tuple (vcrpy's loader builds one for this tag) would come back from JSON as a list.
    cassette.write_text(text.replace("interactions:", "extra: !!python/tuple [1, 2]\ninteractions:", 1), "utf-8")
    reader, serializer = persister(tmp_path / "cache"), CountingSerializer()
    reader.load_cassette(str(cassette), serializer)
    reader.load_cassette(str(cassette), serializer)
    assert serializer.parsed == 2
    assert entries(tmp_path / "cache") == []


def test_a_cache_that_cannot_be_written_only_costs_speed(tmp_path, cassette):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder would go")
    reader = persister(blocked / "cache")
    requests, _, _ = reader.load_cassette(str(cassette), yamlserializer)
    assert len(requests) == len(yaml.safe_load(cassette.read_text())["interactions"])
    assert reader.cache.written == 0


def test_pruning_keeps_the_most_recently_used_entries(tmp_path):
    folder = tmp_path / "cache"
    cache = CassetteCache(folder, max_entries=2)
    for number in range(4):
        cache.load(f"cassette {number}".encode(), "s", lambda: {"interactions": [], "version": 1})
        os.utime(cache.entry(folder, cassette_cache.digest(f"cassette {number}".encode())), (number, number))
    # Used again: its entry counts as recent.
    cache.load(b"cassette 0", "s", lambda: pytest.fail("a hit parses nothing"))
    assert cache.prune() == 2
    kept = {path.stem for path in entries(folder)}
    assert kept == {cassette_cache.digest(f"cassette {n}".encode()) for n in (0, 3)}


def test_a_replay_never_serves_a_cassette_that_changed_after_it_was_cached(tmp_path):
    """End to end: the cache fills on a first replay; a recorded status edited afterwards is what replay sees."""
    folder, cache = tmp_path / "cassettes", tmp_path / "cache"
    module = folder / "test_integrations"
    module.mkdir(parents=True)
    shutil.copy(SHIPPED / f"{SMALL}.yaml", module)
    args = ("conformance/suites/test_integrations.py", "-k", SMALL, f"--cassette-dir={folder}")
    first = pytest_run(*args, f"--cassette-cache={cache}")
    assert first.returncode == 0, first.stdout[-2000:]
    assert len(entries(cache)) == 1
    path = module / f"{SMALL}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("code: 400", "code: 418", 1), encoding="utf-8")
    second = pytest_run(*args, f"--cassette-cache={cache}")
    assert second.returncode == 1
    assert "answered 418 where 400 was expected" in second.stdout
    assert len(entries(cache)) == 2  # the old entry stays until pruned; it is simply never asked for


def test_the_cache_lives_under_the_project_root_unless_off_and_a_file_is_a_usage_error(tmp_path):
    folder = tmp_path / "cassettes" / "test_integrations"
    folder.mkdir(parents=True)
    # A comment makes this copy's content, so its entry's name, this test's own.
    text = (SHIPPED / f"{SMALL}.yaml").read_text(encoding="utf-8") + f"# {tmp_path}\n"
    (folder / f"{SMALL}.yaml").write_text(text, encoding="utf-8")
    entry = PROJECT / ".conformance_cache" / "cassettes" / f"{cassette_cache.digest(text.encode())}.json"
    args = ("conformance/suites/test_integrations.py", "-k", SMALL, f"--cassette-dir={folder.parent}")
    try:
        off = pytest_run(*args, "--cassette-cache=off")
        assert off.returncode == 0, off.stdout[-2000:]
        assert not entry.exists()
        default = pytest_run(*args)
        assert default.returncode == 0, default.stdout[-2000:]
        assert entry.is_file()
    finally:
        entry.unlink(missing_ok=True)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    refused = pytest_run(*args, f"--cassette-cache={blocker}")
    assert refused.returncode == 4
    errors = [line for line in refused.stderr.splitlines() if "error" in line.lower()]
    assert errors == [f"ERROR: --cassette-cache {blocker} is a file: give a directory, or 'off'"]
    assert "Traceback" not in refused.stderr
