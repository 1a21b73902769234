"""The sunco_sandbox fixture, used as another project uses it: from the installed package, not this tree.

The package is built into a wheel and installed into a folder of its own; a project outside this
repository (no conftest, no import of ours) runs its tests with an interpreter that sees that folder and
the dependencies, but not this source tree nor its editable install.
"""

from __future__ import annotations

import json
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest
import requests
from run_support import clean_env

from conformance.sandbox import DEFAULT_APP_ID, DEFAULT_KEY_ID, DEFAULT_KEY_SECRET
from conformance.sandbox.faults import PROFILES

PROJECT = Path(__file__).resolve().parents[1]

# The README's example, word for word (the last test keeps the two the same).
EXAMPLE = """
import requests


def test_my_bot_hears_the_user(sunco_sandbox):
    api, auth = sunco_sandbox.app_url, sunco_sandbox.auth
    hook = {"target": sunco_sandbox.webhook_target(), "triggers": ["conversation:message"]}
    bot = {"type": "custom", "displayName": "My bot", "webhooks": [hook]}
    requests.post(f"{api}/integrations", json=bot, auth=auth)
    user = requests.post(f"{api}/users", json={"externalId": "ada"}, auth=auth).json()["user"]
    talk = {"type": "personal", "participants": [{"userId": user["id"]}]}
    conversation = requests.post(f"{api}/conversations", json=talk, auth=auth).json()["conversation"]
    said = {"author": {"type": "user", "userId": user["id"]}, "content": {"type": "text", "text": "Hello?"}}
    requests.post(f"{api}/conversations/{conversation['id']}/messages", json=said, auth=auth)
    [event] = sunco_sandbox.deliveries("conversation:message", wait_for=1)
    assert event["payload"]["message"]["content"]["text"] == "Hello?"
"""

# What the example does not show: where the package came from, faults, the account key, usage errors.
MORE = """
import conformance
import pytest
import requests


def test_the_package_is_the_installed_one():
    assert "site-packages-under-test" in conformance.__file__


@pytest.mark.sunco_sandbox(faults="http-500", seed=1)
def test_a_fault_profile_is_chosen_per_test(sunco_sandbox):
    assert sunco_sandbox.faults == "http-500"
    url = f"{sunco_sandbox.app_url}/integrations"
    statuses = {requests.get(url, auth=sunco_sandbox.auth).status_code for _ in range(10)}
    assert statuses == {200, 500}


@pytest.mark.sunco_sandbox(max_messages=1)
def test_limits_are_lowered_per_test(sunco_sandbox):
    api, auth = sunco_sandbox.app_url, sunco_sandbox.auth
    user = requests.post(f"{api}/users", json={"externalId": "bea"}, auth=auth).json()["user"]
    talk = {"type": "personal", "participants": [{"userId": user["id"]}]}
    conversation = requests.post(f"{api}/conversations", json=talk, auth=auth).json()["conversation"]
    said = {"author": {"type": "business"}, "content": {"type": "text", "text": "one"}}
    url = f"{api}/conversations/{conversation['id']}/messages"
    assert requests.post(url, json=said, auth=auth).status_code == 201
    full = requests.post(url, json=said, auth=auth)
    assert full.status_code == 423
    assert full.json()["errors"][0]["code"] == "locked"


def test_the_account_key_manages_apps(sunco_sandbox):
    listed = requests.get(f"{sunco_sandbox.url}/v2/apps", auth=sunco_sandbox.account_auth)
    assert sunco_sandbox.app_id in [app["id"] for app in listed.json()["apps"]]
    refused = requests.get(f"{sunco_sandbox.url}/v2/apps", auth=sunco_sandbox.auth)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "forbidden"


def test_each_test_gets_a_fresh_sandbox(sunco_sandbox):
    # test_bot.py made the user "ada" in a sandbox of its own.
    ada = requests.get(f"{sunco_sandbox.app_url}/users/ada", auth=sunco_sandbox.auth)
    assert ada.status_code == 404
    assert ada.json()["errors"][0]["code"] == "user_not_found"
"""

BAD_MARKER = """
import pytest


@pytest.mark.sunco_sandbox(faults="earthquake")
def test_with_a_profile_that_does_not_exist(sunco_sandbox):
    pass
"""


def image_context(into: Path) -> Path:
    """What the Dockerfile's COPY lines put in the image, laid out as they put it (symlinks kept)."""
    for line in (PROJECT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if not line.startswith("COPY "):
            continue
        *sources, destination = shlex.split(line)[1:]
        for source in sources:
            origin = PROJECT / source
            target = into / destination / origin.name if destination.endswith("/") else into / destination
            if origin.is_dir():
                shutil.copytree(origin, target, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, target)
    return into


@pytest.fixture(scope="module")
def interpreter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Python that sees the package as the image installs it, and the dependencies, but not this tree."""
    root = tmp_path_factory.mktemp("outside")
    source = image_context(root / "image")
    wheels = root / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(wheels), str(source)]
    subprocess.run(build, check=True, env=clean_env(), timeout=300)  # noqa: S603 - our own interpreter
    installed = root / "site-packages-under-test"
    wheel = next(wheels.glob("*.whl"))
    subprocess.run([*pip, "install", "--no-deps", "--no-index", "--target", str(installed), str(wheel)],  # noqa: S603
                   check=True, env=clean_env(), timeout=300)  # fmt: skip
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)  # noqa: S603
    python = venv / "bin" / "python"
    purelib = subprocess.run(  # noqa: S603 - the new interpreter
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    # .pth lines are read in name order: the installed package first, then this run's dependencies. The
    # dependencies' own .pth files (the editable install's finder among them) are not run from there.
    Path(purelib, "a_installed.pth").write_text(f"{installed}\n")
    Path(purelib, "b_dependencies.pth").write_text(f"{sysconfig.get_paths()['purelib']}\n")
    return python


def run_outside(python: Path, folder: Path, files: dict[str, str]) -> subprocess.CompletedProcess[str]:
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text))
    return subprocess.run(  # noqa: S603 - the interpreter built above
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
        cwd=folder,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=300,
    )


def test_another_project_gets_the_fixture_from_the_installed_package(interpreter, tmp_path):
    result = run_outside(interpreter, tmp_path / "their-project", {"test_bot.py": EXAMPLE, "test_more.py": MORE})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "6 passed" in result.stdout


def test_a_bad_marker_is_one_line_naming_the_profiles(interpreter, tmp_path):
    result = run_outside(interpreter, tmp_path / "their-project", {"test_bad.py": BAD_MARKER})
    assert result.returncode == 4, result.stdout[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert errors == [f"ERROR: @pytest.mark.sunco_sandbox(faults='earthquake'): use one of {', '.join(PROFILES)}"]


def test_the_readme_shows_the_example_that_is_tested():
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    assert EXAMPLE.strip() in readme


def test_the_image_runs_the_sandbox_as_its_entry_command_says(interpreter):
    # docker run IMAGE ARGS appends ARGS to the ENTRYPOINT: the test's own address and a free port win over
    # the image's 0.0.0.0:8080, which no test may listen on.
    entry = json.loads(next(line for line in (PROJECT / "Dockerfile").read_text().splitlines()
                            if line.startswith("ENTRYPOINT ")).removeprefix("ENTRYPOINT "))  # fmt: skip
    assert entry[:4] == ["python", "-m", "conformance", "sandbox"]
    command = [str(interpreter), *entry[1:], "--host", "127.0.0.1", "--port", "0"]
    with subprocess.Popen(  # noqa: S603 - the interpreter built above
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env()
    ) as process:
        assert process.stdout is not None
        lines = [process.stdout.readline()]
        while lines[-1] and not lines[-1].startswith("press Ctrl-C"):
            lines.append(process.stdout.readline())
        url = lines[0].removeprefix("sandbox listening on ").strip()
        app = requests.get(f"{url}/v2/apps/{DEFAULT_APP_ID}", auth=(DEFAULT_KEY_ID, DEFAULT_KEY_SECRET), timeout=30)
        process.send_signal(signal.SIGTERM)  # what `docker stop` sends
        out, err = process.communicate(timeout=60)
    assert url.startswith("http://127.0.0.1:"), lines
    assert app.status_code == 200
    assert app.json()["app"]["id"] == DEFAULT_APP_ID
    assert process.returncode == 0, err
    assert out.strip().endswith("sandbox stopped")
