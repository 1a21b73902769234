"""vcrpy's and requests' private parts, held to what ``conformance.cassettes.vcr_adapter`` assumes of them.

Each check names the part it holds: after an upgrade of vcrpy or requests, a failure here says which
part changed, and the adapter is the one module to fix. The last test keeps the adapter the only
module of the package that touches them.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from requests.structures import CaseInsensitiveDict
from vcr import VCR
from vcr.cassette import Cassette
from vcr.request import HeadersDict, Request
from vcr.serialize import serialize
from vcr.serializers import yamlserializer

from conformance.cassettes import vcr_adapter
from conformance.cassettes.vcr_adapter import (
    HookedCassette,
    copy_request,
    header_store,
    open_cassettes_as,
    request_as_dict,
    set_read_content,
    store_metadata,
    stored_metadata,
)

PACKAGE = Path(__file__).resolve().parents[1] / "conformance"
URI = "http://127.0.0.1:1/v2/apps/app_1"
# The private names the adapter uses, and so no other module may.
PRIVATE = frozenset(
    {
        "_metadata",
        "_path",
        "_load",
        "_responses",
        "_before_record_request",
        "_before_record_response",
        "_loaded_count",
        "_use_cassette",
        "_body",
        "_to_dict",
        "_store",
        "_content",
        "_content_consumed",
    }
)


def answer(text: str) -> dict[str, Any]:
    return {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": text}}


def write_cassette(path: Path, texts: list[str]) -> Path:
    requests_ = [Request("GET", f"{URI}?n={number}", None, {}) for number in range(len(texts))]
    path.write_text(serialize({"requests": requests_, "responses": [answer(t) for t in texts]}, yamlserializer))
    return path


def assert_has(owner: Any, name: str, part: str) -> None:
    assert hasattr(owner, name), f"{part}: {type(owner).__name__} no longer has {name}; update vcr_adapter"


class Noting(HookedCassette):
    """Notes what vcrpy asks of the hooks."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.appended_while_loading: list[bool] = []
        self.asked: list[str] = []

    def append(self, request: Request, response: dict[str, Any]) -> None:
        self.appended_while_loading.append(self.loading)
        super().append(request, response)

    def answers_to(self, request: Request) -> Iterator[tuple[int, dict[str, Any]]]:
        self.asked.append(request.uri)
        return super().answers_to(request)


def check_metadata(tmp_path: Path) -> None:
    part = "vcrpy Cassette._metadata"
    path = tmp_path / "meta.yaml"
    with VCR(record_mode="all").use_cassette(str(path)) as cassette:
        assert_has(cassette, "_metadata", part)
        assert stored_metadata(cassette, "pins") is None
        assert "pins" not in cassette._metadata, f"{part}: reading added the key"
        cassette.get_metadata("pins", {"seed": 1})
        assert stored_metadata(cassette, "pins") == {"seed": 1}, f"{part}: get_metadata stores elsewhere"
        store_metadata(cassette, "pins", {"seed": 2})
        cassette.dirty = True
    assert yaml.safe_load(path.read_text())["metadata"] == {"pins": {"seed": 2}}, f"{part}: not what is saved"
    loaded = Cassette.load(path=str(path), record_mode="none")
    assert stored_metadata(loaded, "pins") == {"seed": 2}, f"{part}: not what is loaded"
    assert stored_metadata(None, "pins") is None


def check_path(tmp_path: Path) -> None:
    part = "vcrpy Cassette.path (public; the adapter needs no _path)"
    cassette = Cassette(str(tmp_path / "c.yaml"))
    assert_has(cassette, "path", part)
    assert cassette.path == str(tmp_path / "c.yaml"), part


def check_load_and_loaded_count(tmp_path: Path) -> None:
    part = "vcrpy Cassette._load and _loaded_count"
    path = write_cassette(tmp_path / "c.yaml", ["a", "b"])
    cassette = Noting.load(path=str(path), record_mode="new_episodes")
    assert cassette.appended_while_loading == [True, True], f"{part}: the file is no longer read in _load"
    assert cassette.loaded_count == 2, part
    cassette.append(Request("GET", URI, None, {}), answer("c"))
    assert (cassette.appended_while_loading[-1], cassette.loaded_count) == (False, 2), part


def check_responses(tmp_path: Path) -> None:
    part = "vcrpy Cassette._responses"
    path = write_cassette(tmp_path / "c.yaml", ["a", "b"])
    cassette = Noting.load(path=str(path), record_mode="none")
    wanted = Request("GET", f"{URI}?n=1", None, {})
    assert wanted in cassette, part
    assert cassette.play_response(wanted)["body"]["string"] == b"b", part
    assert cassette.asked, f"{part}: vcrpy no longer asks it"
    assert set(cassette.asked) == {wanted.uri}, part


def check_before_record(tmp_path: Path) -> None:
    part = "vcrpy Cassette._before_record_request and _before_record_response"
    cassette = HookedCassette(
        str(tmp_path / "c.yaml"),
        before_record_request=lambda request: None,
        before_record_response=lambda response: {**response, "seen": True},
    )
    assert cassette.filter_request(Request("GET", URI, None, {})) is None, part
    assert cassette.filter_response(answer("a")) == {**answer("a"), "seen": True}, part


def check_use_cassette(tmp_path: Path, current_defaults: bool = False) -> None:
    part = "vcrpy VCR._use_cassette (and a VCR's __class__ swapped)"
    path = write_cassette(tmp_path / "c.yaml", ["a"])
    vcr = VCR(record_mode="none", match_on=["uri"])
    assert_has(vcr, "_use_cassette", part)
    open_cassettes_as(vcr, Noting)
    with vcr.use_cassette(str(path), with_current_defaults=current_defaults) as cassette:
        assert type(cassette) is Noting, f"{part}: the cassette class chosen is not opened"
        assert (cassette.record_mode, len(cassette)) == ("none", 1), f"{part}: the VCR's settings were lost"


def check_use_cassette_with_current_defaults(tmp_path: Path) -> None:
    check_use_cassette(tmp_path, current_defaults=True)


def check_request_body(tmp_path: Path) -> None:
    part = "vcrpy Request._body"
    streamed = Request("POST", URI, iter([b"a", b"b"]), {"Accept": "x"})
    assert_has(streamed, "_body", part)
    copied = copy_request(streamed, HeadersDict({"Accept": "y"}))
    assert copied._body is not streamed._body, f"{part}: a streamed body's chunks are shared"
    assert list(copied.body) == list(streamed.body) == [b"a", b"b"], part
    assert (copied.headers["Accept"], streamed.headers["Accept"]) == ("y", "x"), part
    plain = Request("POST", URI, b"body", {})
    assert copy_request(plain, {}).body == b"body", part


def check_request_as_saved(tmp_path: Path) -> None:
    part = "vcrpy Request._to_dict"
    request = Request("POST", URI, b'{"a":1}', {"Content-Type": "application/json"})
    assert_has(request, "_to_dict", part)
    saved = yaml.safe_load(serialize({"requests": [request], "responses": [answer("a")]}, yamlserializer))
    expected = saved["interactions"][0]["request"]
    as_dict = request_as_dict(request)
    assert {**as_dict, "body": as_dict["body"].decode()} == {**expected, "body": expected["body"]}, part


def check_header_store(tmp_path: Path, make: Callable[..., Any] = HeadersDict) -> None:
    part = f"{make.__module__}.{make.__name__}._store"
    headers = make({"Content-Type": "application/json"})
    assert_has(headers, "_store", part)
    store = header_store(headers)
    assert store == {"content-type": ("Content-Type", "application/json")}, part
    store["accept"] = ("Accept", "text/plain")
    assert headers["ACCEPT"] == "text/plain", f"{part}: a value written to the store is not read back"
    assert header_store({"Accept": "x"}) is None


def check_requests_header_store(tmp_path: Path) -> None:
    check_header_store(tmp_path, CaseInsensitiveDict)


def check_response_content(tmp_path: Path) -> None:
    part = "requests Response._content and _content_consumed"
    response = requests.Response()
    assert_has(response, "_content", part)
    assert_has(response, "_content_consumed", part)
    set_read_content(response, b'{"a": 1}')
    assert (response.content, response.json()) == (b'{"a": 1}', {"a": 1}), part
    assert b"".join(response.iter_content(3)) == b'{"a": 1}', f"{part}: the body is read again"
    response.close()


PARTS = {
    "vcrpy Cassette._metadata": check_metadata,
    "vcrpy Cassette.path": check_path,
    "vcrpy Cassette._load and _loaded_count": check_load_and_loaded_count,
    "vcrpy Cassette._responses": check_responses,
    "vcrpy Cassette._before_record_request and _response": check_before_record,
    "vcrpy VCR._use_cassette and __class__": check_use_cassette,
    "vcrpy VCR._use_cassette with current defaults": check_use_cassette_with_current_defaults,
    "vcrpy Request._body": check_request_body,
    "vcrpy Request._to_dict": check_request_as_saved,
    "vcrpy HeadersDict._store": check_header_store,
    "requests CaseInsensitiveDict._store": check_requests_header_store,
    "requests Response._content and _content_consumed": check_response_content,
}


@pytest.mark.parametrize("check", PARTS.values(), ids=PARTS.keys())
def test_each_private_part_is_as_the_adapter_assumes(check: Callable[[Path], None], tmp_path: Path) -> None:
    check(tmp_path)


def test_a_part_that_is_gone_fails_naming_it():
    with pytest.raises(AssertionError, match=r"vcrpy Cassette._metadata: Cassette no longer has _gone"):
        assert_has(Cassette("c.yaml"), "_gone", "vcrpy Cassette._metadata")


# No other module touches the private parts: by attribute (x._metadata), by name (getattr(x,
# "_metadata")), by overriding them, or by swapping an object's class.


def touches(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in PRIVATE:
            owner = node.value.id if isinstance(node.value, ast.Name) else ""
            # Our own classes keep private names too (self._store of the sandbox's store): through
            # self, only a subclass of the libraries' classes reaches theirs (below).
            if owner not in {"self", "cls"}:
                found.append((node.lineno, f".{node.attr}"))
        elif isinstance(node, ast.Constant) and node.value in PRIVATE:
            found.append((node.lineno, repr(node.value)))
        elif isinstance(node, ast.ClassDef) and _extends_a_library(node):
            found.extend(
                (item.lineno, f"def {item.name}")
                for item in node.body
                if isinstance(item, ast.FunctionDef) and item.name in PRIVATE
            )
            found.extend(
                (inner.lineno, f"self.{inner.attr}")
                for inner in ast.walk(node)
                if isinstance(inner, ast.Attribute)
                and inner.attr in PRIVATE
                and isinstance(inner.value, ast.Name)
                and inner.value.id in {"self", "cls"}
            )
        elif isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Attribute) and target.attr == "__class__" for target in node.targets
        ):
            found.append((node.lineno, "__class__ ="))
    return sorted(found)


LIBRARY_CLASSES = frozenset({"Cassette", "HookedCassette", "VCR", "Request", "HeadersDict", "Response"})


def _extends_a_library(node: ast.ClassDef) -> bool:
    names = {base.id if isinstance(base, ast.Name) else getattr(base, "attr", "") for base in node.bases}
    return bool(names & LIBRARY_CLASSES)


def test_only_the_adapter_touches_the_private_parts():
    adapter = Path(vcr_adapter.__file__).resolve()
    offenders = {
        str(path.relative_to(PACKAGE.parent)): found
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.resolve() != adapter and (found := touches(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_adapter_itself_is_seen_to_touch_them():
    found = {what for _, what in touches(Path(vcr_adapter.__file__).read_text(encoding="utf-8"))}
    assert {"._metadata", "'_store'", "__class__ =", "def _load", "def _responses", "._content_consumed"} <= found


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("x = cassette._metadata['k']\n", [(1, "._metadata")]),
        ("x = getattr(cassette, '_path', None)\n", [(1, "'_path'")]),
        ("vcr.__class__ = Other\n", [(1, "__class__ =")]),
        (
            "class C(Cassette):\n    def _responses(self, r):\n        return self._responses(r)\n",
            [(2, "def _responses"), (3, "self._responses")],
        ),
        ("class Store:\n    def _load(self):\n        return self._store\n", []),
        ("def _load(path):\n    return path\n", []),
    ],
)
def test_a_touch_of_a_private_part_is_found(source, found):
    assert touches(source) == found
