"""A small parcel shop that answers as tests/fixtures/upgrade/shop-v1.yaml or shop-v2.yaml documents.

It stands for "the API before and after an upgrade" in the upgrade workflow test: served on
127.0.0.1 with a free port by the test that needs it, and stopped after. Version 2 no longer
answers Ping and refuses a list without a region, as its contract says.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import re
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from run_support import clean_env
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from conformance.__main__ import main

APP_ID = "0a1b2c3d4e5f60718293a4b5"
KEY_ID = "app_0123456789abcdef01234567"
KEY_SECRET = "shop-secret-Zx9QvLr2pT7mW4kB8nC1"
KINDS = {1: ("box", "letter"), 2: ("box", "letter", "tube")}
COLOURS = {1: ("red", "blue"), 2: ("red", "green")}
NOTE_LENGTH = {1: 10, 2: 8}
FLAGS = {1: "giftWrap", 2: "insured"}  # the boolean field each version's create takes
_PARCELS = re.compile(r"^/shops/([^/]+)/parcels$")
_PARCEL = re.compile(r"^/shops/([^/]+)/parcels/([^/]+)$")


def _error(status: int, code: str) -> Response:
    return Response(
        json.dumps({"errors": [{"code": code, "title": code.replace("_", " ")}]}), status, mimetype="application/json"
    )


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status, mimetype="application/json")


class Shop:
    """The shop's behaviour in one version of its contract."""

    def __init__(self, version: int) -> None:
        self.version = version
        self.parcels: dict[str, dict[str, Any]] = {}
        self.made = 0
        self.expected = "Basic " + base64.b64encode(f"{KEY_ID}:{KEY_SECRET}".encode()).decode()

    def __call__(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        return self.answer(request)(environ, start_response)

    def answer(self, request: Request) -> Response:
        if request.path == "/ping" and self.version == 1:
            return Response("pong", 200, mimetype="text/plain")
        if request.headers.get("Authorization") != self.expected:
            return _error(401, "unauthorized")
        if match := _PARCELS.match(request.path):
            if request.method == "POST":
                return self.create(request)
            if request.method == "GET":
                colour = request.args.get("colour")
                if colour is not None and colour not in COLOURS[self.version]:
                    return _error(400, "bad_request")
                if self.version == 2 and not request.args.get("region"):
                    return _error(400, "bad_request")
                return _json(200, {"parcels": list(self.parcels.values())})
        if match := _PARCEL.match(request.path):
            parcel = self.parcels.get(match.group(2))
            if parcel is None:
                return _error(404, "parcel_not_found")
            if request.method == "GET":
                return _json(200, {"parcel": parcel})
            if request.method == "DELETE":
                del self.parcels[match.group(2)]
                return Response(status=204) if self.version == 2 else _json(200, {})
        return _error(404, "not_found")

    def create(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data(as_text=True))
        except ValueError:
            return _error(400, "bad_request")
        weight = body.get("weight") if isinstance(body, dict) else None
        note = body.get("note") if isinstance(body, dict) else None
        flag = body.get(FLAGS[self.version]) if isinstance(body, dict) else None
        valid = (
            isinstance(body, dict)
            and body.get("kind") in KINDS[self.version]
            and (note is None or (isinstance(note, str) and len(note) <= NOTE_LENGTH[self.version]))
            and (flag is None or isinstance(flag, bool))
            and not isinstance(weight, bool)
            and (weight is not None or self.version == 1)
            and (weight is None or (isinstance(weight, int | float) and weight >= 0))
            and (self.version == 1 or weight is None or isinstance(weight, int))
        )
        if not valid:
            return _error(400, "bad_request")
        self.made += 1
        parcel_id = f"{self.made:024x}"
        parcel = {"id": parcel_id, "kind": body["kind"], **{k: body[k] for k in ("note", "weight") if k in body}}
        if self.version == 1:
            parcel.update(status="created", legacyRef=f"L-{parcel_id}")
        else:
            parcel.update(status="pending", trackingCode=f"T-{parcel_id}")
        self.parcels[parcel_id] = parcel
        return _json(201, {"parcel": parcel})


class _Quiet(WSGIRequestHandler):
    def log(self, *args: Any) -> None:
        pass


class ShopServer:
    def __init__(self, version: int) -> None:
        self.server = make_server("127.0.0.1", 0, Shop(version), threaded=True, request_handler=_Quiet)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ShopServer:
        self.thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def env(self) -> dict[str, str]:
        return {
            "SUNCO_API_URL": self.url,
            "SUNCO_APP_ID": APP_ID,
            "SUNCO_KEY_ID": KEY_ID,
            "SUNCO_KEY_SECRET": KEY_SECRET,
        }


PROJECT = Path(__file__).resolve().parent.parent
UPGRADE = PROJECT / "tests" / "fixtures" / "upgrade"
SUITE = "tests/fixtures/upgrade/shop_suite.py"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Our interpreter with ``args``, from the project folder, in a clean environment plus ``env``."""
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**clean_env(), **(env or {})},
    )


def tool(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m conformance ARGS`` run in this process (the same entry point, without a second start-up)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(list(args))
        except SystemExit as done:  # argparse's --help and usage errors
            status = done.code if isinstance(done.code, int) else 2
    return subprocess.CompletedProcess(["python", "-m", "conformance", *args], status, out.getvalue(), err.getvalue())
