"""The pytest plugin: one ``conformance`` option group and a few fixtures.

Recording options are pytest-recording's own (``--record-mode``, ``--block-network``,
``--allowed-hosts``); this plugin only feeds vcrpy its matcher, scrubber and cassette class.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from pytest_recording.plugin import get_default_cassette_name
from vcr import VCR

from conformance.core.failures import ConfigError, ConformanceFailure, FailureGroup, Unreachable, raise_if_any
from conformance.core.receiver import Receiver
from conformance.core.recording import configure_vcr, vcr_options
from conformance.core.report import Summary
from conformance.core.scrub import Scrubber
from conformance.core.session import ConformanceSession
from conformance.core.settings import Settings

RECORDING_MODES = ("once", "new_episodes", "all", "rewrite")
FIXTURE = "sunco"
_settings_key = pytest.StashKey[Settings | None]()
_scrubber_key = pytest.StashKey[Scrubber]()
_unreachable_key = pytest.StashKey[bool]()
_receiver_key = pytest.StashKey[Receiver]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "Sunshine Conversations conformance")
    group.addoption(
        "--cassette-dir",
        metavar="DIR",
        default=None,
        help="where cassettes are read and recorded (default: cassettes/ at the project root)",
    )
    group.addoption(
        "--variant-seed",
        metavar="N",
        type=int,
        default=0,
        help="seed for drawing variants while recording; replay ignores it (default: 0)",
    )
    group.addoption(
        "--conformance-report",
        metavar="PATH",
        default=None,
        help="also write every verdict and failure as JSON to PATH",
    )


def is_recording(config: pytest.Config) -> bool:
    """Talking to a live API: recording, or running live with pytest-recording's --disable-recording."""
    mode = config.getoption("--record-mode") or "none"
    return mode in RECORDING_MODES or bool(config.getoption("--disable-recording"))


def cassette_root(config: pytest.Config) -> Path:
    chosen = config.getoption("--cassette-dir")
    return Path(chosen).resolve() if chosen else Path(config.rootpath, "cassettes")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance: a conformance suite test (recorded and replayed)")
    root = cassette_root(config)
    if root.exists() and not root.is_dir():
        raise pytest.UsageError(f"--cassette-dir {root} is a file: give a directory (it is created if missing)")
    settings = None
    if is_recording(config):
        try:
            settings = Settings.from_env(os.environ)
        except ConfigError as error:
            raise pytest.UsageError(f"a live run needs the SUNCO_* settings: {error}") from None
    if settings is not None and config.getoption("--disable-recording"):
        # A live run with nothing recorded must reach the API even when --block-network is on.
        host = re.escape(urlsplit(settings.api_url).hostname or "")
        config.option.allowed_hosts = ",".join(filter(None, [config.getoption("--allowed-hosts"), host]))
    config.stash[_settings_key] = settings
    scrubber = config.stash[_scrubber_key] = (
        Scrubber(settings.secrets, public=settings.public) if settings else Scrubber()
    )
    config.pluginmanager.register(
        Summary(
            config,
            recording=settings is not None,
            cassette_root=root,
            kept=not config.getoption("--disable-recording"),
            scrub=scrubber.json_value,
        ),
        "conformance-summary",
    )
    config.pluginmanager.register(ReportScrubber(scrubber), "conformance-scrubber")


def pytest_unconfigure(config: pytest.Config) -> None:
    receiver = config.stash.get(_receiver_key, None)
    if receiver is not None:
        receiver.stop()


def receiver(config: pytest.Config) -> Receiver:
    """The run's webhook receiver on 127.0.0.1 (SUNCO_WEBHOOK_PORT, or a free port), started when first asked for."""
    if _receiver_key not in config.stash:
        settings = config.stash[_settings_key]
        port = settings.webhook_port if settings else 0
        try:
            config.stash[_receiver_key] = Receiver(port).start()
        except OSError as error:
            raise pytest.UsageError(
                f"the webhook receiver cannot listen on 127.0.0.1 port {port}: {error.strerror or error}; "
                "set SUNCO_WEBHOOK_PORT to a free port, or 0"
            ) from None
    return config.stash[_receiver_key]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    suite = [item for item in items if FIXTURE in getattr(item, "fixturenames", ())]
    for item in suite:
        item.add_marker(pytest.mark.vcr)
        item.add_marker(pytest.mark.conformance)
    root = cassette_root(config)
    if suite and not is_recording(config) and not root.is_dir():
        raise pytest.UsageError(
            f"no cassettes to replay: {root} does not exist. Record into it with "
            f"SUNCO_API_URL=… SUNCO_APP_ID=… SUNCO_KEY_ID=… SUNCO_KEY_SECRET=… "
            f"pytest conformance --record-mode=rewrite --cassette-dir={root}"
        )


def pytest_recording_configure(config: pytest.Config, vcr: VCR) -> None:
    configure_vcr(vcr, config.stash[_scrubber_key])


@pytest.fixture
def vcr_config(pytestconfig: pytest.Config) -> dict[str, Any]:
    return vcr_options(pytestconfig.stash[_scrubber_key])


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return str(cassette_root(request.config) / Path(str(request.node.path)).stem)


def record_command(config: pytest.Config, nodeid: str) -> str:
    parts = ["pytest", nodeid, "--record-mode=rewrite"]
    if config.getoption("--cassette-dir"):
        parts.append(f"--cassette-dir={config.getoption('--cassette-dir')}")
    return "SUNCO_API_URL=… SUNCO_APP_ID=… SUNCO_KEY_ID=… SUNCO_KEY_SECRET=… " + shlex.join(parts)


@pytest.fixture
def sunco(request: pytest.FixtureRequest, vcr: Any) -> Iterator[ConformanceSession]:
    """The conformance session of one suite test, bound to its cassette."""
    config = request.config
    session = ConformanceSession(
        cassette=vcr,
        recording=is_recording(config),
        redraw=config.getoption("--record-mode") == "all",
        settings=config.stash[_settings_key],
        scrubber=config.stash[_scrubber_key],
        nodeid=request.node.nodeid,
        record_command=record_command(config, request.node.nodeid),
        seed=config.getoption("--variant-seed"),
        receiver=lambda: receiver(config),
    )
    try:
        yield session
    finally:
        before = len(session.failures)
        session.cleanup()
        request.node.user_properties.append(("conformance", [vars(v) for v in session.verdicts]))
    # What cleanup found wrong fails the test's teardown (its body has finished already).
    raise_if_any(session.failures[before:])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    # A structured failure already says everything; pytest's traceback would only bury it.
    if call.excinfo is not None and isinstance(call.excinfo.value, (ConformanceFailure, FailureGroup)):
        report.longrepr = str(call.excinfo.value)
    if call.excinfo is not None and isinstance(call.excinfo.value, Unreachable):
        item.stash[_unreachable_key] = True
    return report


class ReportScrubber:
    """Scrubs each report before the terminal, JUnit, the summary or an xdist controller sees it."""

    def __init__(self, scrubber: Scrubber) -> None:
        self.scrubber = scrubber

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        scrub_report(report, self.scrubber)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        scrub_report(report, self.scrubber)


def scrub_report(report: pytest.TestReport | pytest.CollectReport, scrubber: Scrubber) -> None:
    """Failure text, tracebacks, captured output and properties lose every known secret."""
    if not scrubber.values:
        return
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # a skip: (path, line, reason)
        report.longrepr = (longrepr[0], longrepr[1], scrubber.text(longrepr[2]))
    elif longrepr is not None:
        text = str(longrepr)
        cleaned = scrubber.text(text)
        # Kept as pytest made it (colours and all) unless it held a secret.
        if cleaned != text:
            report.longrepr = cleaned
    report.sections = [(title, scrubber.text(content)) for title, content in report.sections]
    if isinstance(report, pytest.TestReport):
        report.user_properties = [(name, scrubber.report_value(value)) for name, value in report.user_properties]


def cassette_file(item: pytest.Item) -> Path:
    name = get_default_cassette_name(getattr(item, "cls", None), item.name)
    return cassette_root(item.config) / item.path.stem / f"{name}.yaml"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """Keep the previous cassette until a re-recording has really happened.

    pytest-recording's ``rewrite`` deletes a cassette before the test runs; if the live API then
    cannot be reached, or the run is interrupted, the old recording comes back.
    """
    if item.config.getoption("--record-mode") != "rewrite" or not item.get_closest_marker("conformance"):
        return (yield)
    current = cassette_file(item)
    previous = current.with_name(current.name + ".previous")
    if current.is_file():
        shutil.copy2(current, previous)
    completed = False
    try:
        result = yield
        completed = not item.stash.get(_unreachable_key, False)
        return result
    finally:
        if previous.is_file():
            if completed:
                previous.unlink()
            else:
                previous.replace(current)
