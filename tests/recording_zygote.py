"""A fork server for the kill test: imports pytest and the harness once, then forks one real pytest run per request.

Each run is a separate process (the test signals it by pid), started without paying for the imports
again, so a test can kill many recordings within its time budget. Protocol, one JSON object per line:
stdin ``{"args": [...], "out": "path"}``; stdout ``{"pid": N}`` when the run starts, then
``{"pid": N, "exit": code}`` or ``{"pid": N, "signal": number}`` when it ends.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

# The project this script belongs to, whatever is installed (pytest would put it first too).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Everything heavy the plugin needs, but not the plugin itself (pytest must import it to rewrite it).
import hypothesis  # noqa: F401
import hypothesis_jsonschema  # noqa: F401
import jsonschema  # noqa: F401
import pytest
import requests  # noqa: F401
import vcr  # noqa: F401
import yaml  # noqa: F401

import conformance.plugin.replay_check
import conformance.session.session  # noqa: F401
from conformance.contract.schemas import shipped

_ = shipped().operations, shipped().registry  # warm: every forked run starts with the schemas loaded


def run(args: list[str], out: str) -> None:
    pid = os.fork()
    if pid == 0:
        try:
            with open(out, "w") as handle:  # noqa: PTH123
                os.dup2(handle.fileno(), 1)
                os.dup2(handle.fileno(), 2)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            code = int(pytest.main(args))
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:
            code = 99
        os._exit(code)
    print(json.dumps({"pid": pid}), flush=True)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        print(json.dumps({"pid": pid, "signal": os.WTERMSIG(status)}), flush=True)
    else:
        print(json.dumps({"pid": pid, "exit": os.WEXITSTATUS(status)}), flush=True)


def main() -> None:
    # The zygote itself ignores Ctrl-C meant for its children.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if line.strip():
            request = json.loads(line)
            run(request["args"], request["out"])


if __name__ == "__main__":
    main()
