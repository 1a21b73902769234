"""The pytest plugin: one ``conformance`` option group and a few fixtures.

Recording options are pytest-recording's own (``--record-mode``, ``--block-network``,
``--allowed-hosts``); this plugin only feeds vcrpy its matcher, scrubber and cassette class, and
guards re-recordings: a cassette is replaced only by a whole, verified recording. The option
group is defined in ``options``, the re-recording guard's steps in ``rerecord``.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import re
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from pytest_recording.plugin import get_default_cassette_name
from vcr import VCR

from conformance.cassettes import files as cassettes
from conformance.cassettes.cache import CassetteCache
from conformance.cassettes.files import CorruptCassette
from conformance.cassettes.folder import FolderRefused, Hold
from conformance.cassettes.provenance import host_of, read_pins, stale_failure
from conformance.cassettes.recording import configure_vcr, vcr_options
from conformance.contract import needs
from conformance.contract.resources import resource
from conformance.contract.schemas import Contract, UnknownOperation
from conformance.deliveries.receiver import Receiver
from conformance.failures import (
    FAULT_KINDS,
    ConfigError,
    ConformanceFailure,
    FailureGroup,
    Unreachable,
    fault_outcome,
    raise_if_any,
)
from conformance.plugin import replay_check as rewrite
from conformance.plugin import rerecord
from conformance.plugin import values as options
from conformance.plugin.options import add_options, cassette_cache, cassette_root, is_recording, is_rewriting
from conformance.report.summary import RECORDING, VERDICTS, Summary
from conformance.scrubbing.redact import ReportScrubber
from conformance.scrubbing.scrubber import Scrubber
from conformance.session import runs
from conformance.session.run_ledger import RunLedger, state_dir
from conformance.session.session import ConformanceSession
from conformance.transport import interrupt
from conformance.transport.preflight import check_access
from conformance.transport.settings import Settings

# A suite module's generated tests are collected by their own hook.
pytest_plugins = ["conformance.plugin.collect"]
FIXTURE = "sunco"
# Tests in a row that got no answer before the run stops.
UNREACHABLE_LIMIT = 3
# Tests in a row that ended on a rate limit or a server fault before the run stops: each may have
# waited out every retry (4 x 30 s), so a storm would otherwise cost hours.
FAULT_LIMIT = 3
_settings_key = pytest.StashKey[Settings | None]()
_scrubber_key = pytest.StashKey[Scrubber]()
_pending_key = pytest.StashKey[set[Path]]()
_unreachable_key = pytest.StashKey[int]()
_faulted_key = pytest.StashKey[int]()
_session_key = pytest.StashKey[ConformanceSession]()
_outcome_key = pytest.StashKey[rewrite.Outcome]()
_stale_key = pytest.StashKey[ConformanceFailure]()
_receiver_key = pytest.StashKey[Receiver]()
_cache_key = pytest.StashKey[CassetteCache]()
_hold_key = pytest.StashKey[Hold]()
_journal_key = pytest.StashKey[RunLedger]()
_contract_key = pytest.StashKey[Contract]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def _channel_types(contract: Contract) -> tuple[str, ...]:
    """The integration types SUNCO_CHANNELS may name (none to check against a contract without them)."""
    try:
        return resource("integration").shapes_in(contract)
    except KeyError:
        return ()


def run_contract(config: pytest.Config) -> Contract:
    """The contract this run checks against (``--schema-dir``, else the shipped one), loaded at configure."""
    return config.stash[_contract_key]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance: a conformance suite test (recorded and replayed)")
    root = cassette_root(config)
    if root.exists() and not root.is_dir():
        raise pytest.UsageError(f"--cassette-dir {root} is a file: give a directory (it is created if missing)")
    options.check(config, recording=is_recording(config))
    contract = config.stash[_contract_key] = options.contract(config)
    settings = None
    if is_recording(config) and (getattr(config.option, "numprocesses", None) or hasattr(config, "workerinput")):
        # Workers share one app: each would list, page through and record the others' records.
        raise pytest.UsageError("record without -n: a live run talks to one app, so its tests must run one at a time")
    if is_recording(config):
        try:
            settings = Settings.from_env(os.environ, channel_types=_channel_types(contract))
            run_id = runs.begin(runs.run_id_from_env(os.environ))
        except ConfigError as error:
            raise pytest.UsageError(f"a live run needs the SUNCO_* settings: {error}") from None
        # What the run creates, on disk as it is created, for `cleanup` (see session/run_ledger.py).
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        config.stash[_journal_key] = RunLedger(
            state_dir(os.environ), run_id, app_id=settings.app_id, host=host_of(settings.api_url), worker=worker
        )
    if settings is not None and config.getoption("--disable-recording"):
        # A live run with nothing recorded must reach the API even when --block-network is on.
        hosts = {urlsplit(url).hostname or "" for url in (settings.api_url, settings.oauth_url or "")}
        allowed = [config.getoption("--allowed-hosts"), *sorted(re.escape(host) for host in hosts)]
        config.option.allowed_hosts = ",".join(filter(None, allowed))
    config.stash[_settings_key] = settings
    scrubber = config.stash[_scrubber_key] = (
        Scrubber(settings.secrets, public=settings.public, contract=contract)
        if settings
        else Scrubber(contract=contract)
    )
    config.stash[_pending_key] = set()
    config.stash[_cache_key] = cassette_cache(config)
    config.stash[_unreachable_key] = 0
    config.stash[_faulted_key] = 0
    # Only the controller looks (xdist workers would race each other over the files).
    writing = is_recording(config) and not config.getoption("--disable-recording")
    if writing:
        # Before any request: a folder this run cannot write, or one another recording holds, is found now.
        try:
            config.stash[_hold_key] = Hold(root).take()
        except FolderRefused as error:
            raise pytest.UsageError(str(error)) from None
    notes = [] if hasattr(config, "workerinput") else cassettes.leftover_notes(root, writing=writing)
    config.pluginmanager.register(
        Summary(
            config,
            recording=settings is not None,
            cassette_root=root,
            kept=not config.getoption("--disable-recording"),
            scrub=scrubber.json_value,
            scrub_text=scrubber.text,
            max_age=options.max_age(config),
            notes=notes,
            contract=contract,
        ),
        "conformance-summary",
    )
    config.pluginmanager.register(ReportScrubber(scrubber), "conformance-scrubber")


def pytest_sessionstart(session: pytest.Session) -> None:
    if is_recording(session.config):
        # A Ctrl-C must stop a live run even where Python or Hypothesis swallows its KeyboardInterrupt.
        interrupt.install()


def pytest_unconfigure(config: pytest.Config) -> None:
    interrupt.uninstall()
    hold = config.stash.get(_hold_key, None)
    if hold is not None:
        hold.release()
    journal = config.stash.get(_journal_key, None)
    if journal is not None:
        journal.close()
    receiver = config.stash.get(_receiver_key, None)
    if receiver is not None:
        receiver.stop()
    cache = config.stash.get(_cache_key, None)
    if cache is not None:
        cache.prune()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """What this run made and could not delete is named once, with how to delete it."""
    journal = config.stash.get(_journal_key, None)
    left = journal.entries() if journal is not None else []
    if journal is not None and left:
        terminalreporter.write_line(
            f"{len(left)} record(s) this run made are still there (a delete failed or was cut off); its ledger "
            f"{journal.path} names them: delete them with `python -m conformance cleanup`"
        )


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
        absent = needs.absent(getattr(item, "obj", None), run_contract(config))
        if absent is not None:
            item.add_marker(pytest.mark.skip(reason=absent))
    root = cassette_root(config)
    if suite and not is_recording(config) and not root.is_dir():
        raise pytest.UsageError(
            f"no cassettes to replay: {root} does not exist. Record into it with "
            f"SUNCO_API_URL=… SUNCO_APP_ID=… SUNCO_KEY_ID=… SUNCO_KEY_SECRET=… "
            f"pytest conformance --record-mode=rewrite --cassette-dir={root}"
        )
    settings = config.stash[_settings_key]
    if suite and settings is not None:
        # One read before anything is recorded: a wrong key or app stops here, not in every test.
        try:
            check_access(settings, config.stash[_scrubber_key].text, contract=run_contract(config))
        except ConfigError as error:
            raise pytest.UsageError(str(error)) from None


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """What imports and collection built lives as long as the run: the collector need not scan it again.

    Every later collection walked those objects (schemas, their registry, Hypothesis): about a tenth
    of a replay's time, and more at exit, where pytest collects several times over.
    """
    gc.freeze()


def pytest_recording_configure(config: pytest.Config, vcr: VCR) -> None:
    configure_vcr(vcr, config.stash[_scrubber_key], config.stash[_cache_key])


@pytest.fixture
def vcr_config(pytestconfig: pytest.Config) -> dict[str, Any]:
    options = vcr_options(pytestconfig.stash[_scrubber_key])
    if pytestconfig.getoption("--record-mode") == "all":
        # "all" redraws every variant: exchanges of the old draw would stay unplayed in replay.
        options["drop_unused_requests"] = True
    return options


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return str(cassette_root(request.config) / Path(str(request.node.path)).stem)


def _cassette_name(item: pytest.Item) -> str:
    marker = item.get_closest_marker("default_cassette")
    if marker is not None and marker.args:
        return str(marker.args[0])
    return str(get_default_cassette_name(getattr(item, "cls", None), item.name))


@pytest.fixture
def default_cassette_name(request: pytest.FixtureRequest) -> str:
    """pytest-recording's name, except that a re-recording opens a path that does not exist.

    Its ``rewrite`` mode deletes the cassette before the test; given this name it deletes nothing,
    and the persister writes the recording beside the cassette instead (see cassettes/files.py).
    """
    name = _cassette_name(request.node)
    if is_rewriting(request.config) and request.node.get_closest_marker("conformance"):
        return name + cassettes.VIRTUAL.removesuffix(".yaml")
    return name


def cassette_file(item: pytest.Item, root: Path | None = None) -> Path:
    return (root or cassette_root(item.config)) / item.path.stem / f"{_cassette_name(item)}.yaml"


def record_command(config: pytest.Config, nodeid: str) -> str:
    parts = ["pytest", nodeid, "--record-mode=rewrite"]
    if config.getoption("--cassette-dir"):
        parts.append(f"--cassette-dir={config.getoption('--cassette-dir')}")
    return "SUNCO_API_URL=… SUNCO_APP_ID=… SUNCO_KEY_ID=… SUNCO_KEY_SECRET=… " + shlex.join(parts)


def _progress(config: pytest.Config) -> Callable[[str], None] | None:
    """A line on the terminal per exchange and per 429 wait, shown live even while output is captured."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return None

    def say(line: str) -> None:
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.ensure_newline()
            reporter.write_line(f"[recording] {line}")

    return say


def _reused_pins(item: pytest.Item) -> dict[str, Any] | None:
    folder = item.config.getoption("--variants-from")
    if not folder:
        return None
    try:
        return read_pins(cassette_file(item, Path(folder).resolve()))
    except ValueError as error:
        raise pytest.UsageError(f"--variants-from: {error}") from None


def _session(item: pytest.Item, cassette: Any, *, recording: bool) -> ConformanceSession:
    config = item.config
    return ConformanceSession(
        cassette=cassette,
        recording=recording,
        redraw=recording and config.getoption("--record-mode") == "all",
        settings=config.stash[_settings_key] if recording else None,
        scrubber=config.stash[_scrubber_key] if recording else Scrubber(contract=run_contract(config)),
        nodeid=item.nodeid,
        record_command=record_command(config, item.nodeid),
        seed=config.getoption("--variant-seed"),
        cassette_file=None if config.getoption("--disable-recording") else str(cassette_file(item)),
        progress=_progress(config) if recording else None,
        reuse=_reused_pins(item) if recording else None,
        receiver=lambda: receiver(config),
        journal=config.stash.get(_journal_key, None) if recording else None,
        contract=run_contract(config),
    )


@pytest.fixture
def sunco(request: pytest.FixtureRequest, vcr: Any) -> Iterator[ConformanceSession]:
    """The conformance session of one suite test, bound to its cassette."""
    item = request.node
    session = _session(item, vcr, recording=is_recording(request.config))
    item.stash[_session_key] = session
    if is_rewriting(request.config):
        request.config.stash[_pending_key].add(cassettes.recording_path(cassette_file(item)))
    days = options.max_age(request.config)
    if not session.recording and vcr is not None:
        item.user_properties.append((RECORDING, json.dumps(session.recorded().as_json())))
        stale = stale_failure(session, days) if days is not None else None
        if stale is not None:
            item.stash[_stale_key] = stale
        # A recording that did not run live replays as the same skip, whichever way the test skipped.
        session.replay_not_run()
    yield session
    try:
        # Delete what the test created, then (in replay) hold it to every recorded exchange.
        session.close()
    finally:
        # JSON, so JUnit readers (CI) can parse it; scrubbed by structure before it becomes text.
        verdicts = request.config.stash[_scrubber_key].json_value([vars(v) for v in session.findings.verdicts])
        item.user_properties.append((VERDICTS, json.dumps(verdicts, ensure_ascii=False, default=str)))
    outcome = item.stash.get(_outcome_key, None)
    # A test that passed (or returned without finish()) is still held to what teardown found.
    if outcome is not None and outcome.kind == "passed":
        raise_if_any(session.findings.failures)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """No test starts after a Ctrl-C, even one whose KeyboardInterrupt something swallowed."""
    interrupt.check()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """A test that passed on a cassette older than --max-cassette-age fails for that; a test that calls
    an operation the contract lacks (another release's) is skipped, in one line naming both."""
    try:
        result = yield
    except UnknownOperation as error:
        if not item.get_closest_marker("conformance"):
            raise
        pytest.skip(error.absent)
    stale = item.stash.get(_stale_key, None)
    if stale is not None:
        raise stale
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    error = call.excinfo.value if call.excinfo is not None else None
    # A structured failure already says everything; pytest's traceback would only bury it.
    if isinstance(error, (ConformanceFailure, FailureGroup)):
        report.longrepr = str(error)
    if isinstance(error, CorruptCassette):
        report.longrepr = error.describe(record_command(item.config, item.nodeid))
    if isinstance(error, cassettes.CannotWrite):
        report.longrepr = str(error)
    fault = fault_outcome(error) if item.get_closest_marker("conformance") else None
    if fault is not None:
        # The summary counts tests the server failed apart from tests that found the API at fault.
        report.user_properties.append(("conformance-outcome", fault))
    if call.when == "call" and item.get_closest_marker("conformance"):
        session = item.stash.get(_session_key, None)
        if report.skipped and isinstance(error, pytest.skip.Exception) and session is not None and session.recording:
            # However the live run skipped (pytest.skip anywhere), its cassette keeps why, for replay.
            session.skips.keep(str(error.msg))
        item.stash[_outcome_key] = rewrite.outcome_of(error, report.skipped)
        _count_unreachable(item, error)
        _count_faults(item, error)
    return report


def _count_unreachable(item: pytest.Item, error: BaseException | None) -> None:
    """After a few tests in a row got no answer, stop: the rest would only repeat it."""
    count = item.config.stash[_unreachable_key] + 1 if isinstance(error, Unreachable) else 0
    item.config.stash[_unreachable_key] = count
    if isinstance(error, Unreachable) and count >= UNREACHABLE_LIMIT:
        causes = [note.removeprefix("cause: ") for note in error.notes if note.startswith("cause: ")]
        item.session.shouldstop = (
            f"stopped after {count} tests in a row got no answer from the API (last cause: "
            f"{causes[-1] if causes else error.actual}); check SUNCO_API_URL, that the host is reachable, "
            "and SUNCO_TIMEOUT"
        )


def _last_fault(error: BaseException | None) -> ConformanceFailure | None:
    """The rate limit or server fault a test ended on, if it ended on one."""
    last = error.failures[-1] if isinstance(error, FailureGroup) and error.failures else error
    return last if isinstance(last, ConformanceFailure) and last.kind in FAULT_KINDS else None


def _count_faults(item: pytest.Item, error: BaseException | None) -> None:
    """After a few tests in a row ended on 429s or server faults, stop: a storm would cost hours of waits."""
    fault = _last_fault(error)
    count = item.config.stash[_faulted_key] + 1 if fault is not None else 0
    item.config.stash[_faulted_key] = count
    if fault is not None and count >= FAULT_LIMIT and not item.session.shouldstop:
        # The status only: the answer's text is the server's and could echo anything.
        shown = f" ({fault.status})" if fault.status else ""
        what = "rate limited (429)" if fault.kind == "rate-limited" else f"a server fault{shown}"
        item.session.shouldstop = (
            f"stopped after {count} tests in a row ended on rate limits or server faults (the last was "
            f"{what}); wait until the API answers normally (or record fewer tests at a time), then record again"
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """Once the cassette is saved (fixtures torn down), let a re-recording replace it, or not."""
    if not is_rewriting(item.config) or not item.get_closest_marker("conformance"):
        return (yield)
    try:
        result = yield
    except cassettes.CannotWrite as error:
        _settle(item)
        # Every later test would meet the same full disk: stop here, with the cause.
        item.session.shouldstop = f"stopped: {error}"
        raise
    except Exception:
        _settle(item)  # a teardown error still saved the cassette; an interrupt never gets here
        raise
    _settle(item)
    return result


def _settle(item: pytest.Item) -> None:
    rerecord.settle(
        item,
        cassette_file(item),
        item.config.stash[_pending_key],
        item.stash.get(_session_key, None),
        item.stash.get(_outcome_key, rewrite.Outcome("not run")),
        lambda tape: _session(item, tape, recording=False),
        rewrite.test_call(item, FIXTURE),
        record_command(item.config, item.nodeid),
    )


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """An interrupted run saved its last recording after the test stopped: it must not stay."""
    if interrupt.requested() and session.exitstatus != pytest.ExitCode.INTERRUPTED:
        # The run got to its end with a Ctrl-C swallowed on the way: its status still says so.
        session.exitstatus = pytest.ExitCode.INTERRUPTED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line("interrupted (Ctrl-C): the run stopped", red=True)
    pending = session.config.stash.get(_pending_key, set())
    rerecord.drop_unfinished(pending, session.config.pluginmanager.get_plugin("conformance-summary"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """A finished test's session (its cassette, every exchange) is let go: kept to the end of the run,
    the sessions of every test were walked again by each full garbage collection."""
    try:
        return (yield)
    finally:
        if _session_key in item.stash:
            del item.stash[_session_key]
