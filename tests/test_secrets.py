"""No secret reaches anything a recording run writes: cassettes, report, JUnit, terminal.

A live recording against the sandbox (started here on 127.0.0.1, on a free port) carries a canary
in every credential field of every integration type, in nested, numeric and short SUNCO_CHANNELS
values, and in the key id and secret. Then every file the run wrote, and its captured output, are
searched for every canary in its plain, JSON-escaped, URL-encoded (either case), base64 (at each
byte offset), hex, HTML-escaped and Latin-1- or cp1252-misread forms, and for long fragments of
it (an error title may echo a value cut short).
"""

from __future__ import annotations

import base64
import html
import json
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import yaml
from test_roundtrip import APP_ID, PROJECT, clean_env, pytest_run

from conformance.contract.resources import resource
from conformance.contract.schemas import shipped
from conformance.sandbox import Sandbox
from conformance.scrubbing.scrubber import FRAGMENT, UNMARKED_CREDENTIALS
from conformance.suites import flows

TYPES = flows.shapes(resource("integration"))

CANARY_KEY_ID = "app_cnKEYID0q7Wv3x"
CANARY_ACCOUNT_KEY_ID = "act_cnACCOUNTKEY0q7Wv3x"
CANARY_ACCOUNT_SECRET = "cn-account-sécrét-ACCOUNT-4Rt"
# Beyond Latin-1 on purpose: it must travel as UTF-8 and still never be written.
CANARY_KEY_SECRET = "cn-sécrét-€-🔑-KEYSECRET-9Qz"
NESTED = "https://hooks.cn-nested-q7Wv.example/in"
NUMERIC = 918273645
SHORT = "Ψ~q"
# Longer than the sandbox quotes in a title: only a fragment of it is echoed.
TRUNCATED = "cn-long-canary-that-the-sandbox-cuts-short-q7Wv-0123456789"
LEAKY_SUITE = PROJECT / "tests" / "fixtures" / "leaky_suite.py"


def credential_channels() -> dict[str, dict[str, Any]]:
    """A canary in every credential field of every type, plus the nested, numeric and short values."""
    channels: dict[str, dict[str, Any]] = {}
    index = 0
    for kind in TYPES:
        ref = f"components/{kind}.json"
        for name in sorted(shipped().write_only_fields(ref) | (UNMARKED_CREDENTIALS & shipped().declared_fields(ref))):
            index += 1
            # Short enough that an error title quotes it whole.
            channels.setdefault(kind, {})[name] = f"cn{index:02d}-{kind[:4]}-q7Wv{index:02d}"
    channels["custom"] = {"webhooks": [{"target": NESTED, "triggers": ["conversation:message"]}]}
    channels["messenger"]["pageId"] = NUMERIC
    channels["messagebird"]["originator"] = SHORT
    channels["twitter"]["tier"] = TRUNCATED
    return channels


def canaries(channels: dict[str, dict[str, Any]]) -> list[str]:
    found = [CANARY_KEY_ID, CANARY_KEY_SECRET, CANARY_ACCOUNT_KEY_ID, CANARY_ACCOUNT_SECRET, str(NUMERIC)]
    basic = base64.b64encode(f"{CANARY_KEY_ID}:{CANARY_KEY_SECRET}".encode()).decode()
    for fields in channels.values():
        for value in fields.values():
            if isinstance(value, str):
                found.append(value)
    account = base64.b64encode(f"{CANARY_ACCOUNT_KEY_ID}:{CANARY_ACCOUNT_SECRET}".encode()).decode()
    return [*found, NESTED, basic, account]


def forms(canary: str) -> dict[str, str]:
    out = {
        "plain": canary,
        "json-escaped": json.dumps(canary)[1:-1],
        "url-encoded": quote(canary, safe=""),
        "url-encoded (plus)": quote_plus(canary),
        "base64": base64.b64encode(canary.encode()).decode().rstrip("="),
    }
    raw = canary.encode()
    more = {
        "url-encoded (lower)": re.sub("%[0-9A-F]{2}", lambda found: found.group().lower(), quote(canary, safe="")),
        "hex": raw.hex(),
        "HEX": raw.hex().upper(),
        "html-escaped": html.escape(canary),
        "utf-8 read as latin-1": raw.decode("latin-1"),
        "utf-8 read as cp1252": raw.decode("cp1252", "replace"),
    }
    for offset, skip in ((1, 2), (2, 3)):
        blob = base64.b64encode(b"\0" * offset + raw).decode()
        more[f"base64 at byte offset {offset}"] = blob[skip : (offset + len(raw)) // 3 * 4]
    # Short forms of short canaries could turn up by chance (in a hex id, say): only distinctive ones.
    out |= {kind: form for kind, form in more.items() if len(form) >= 12 and form != canary}
    for start in range(len(canary) - FRAGMENT + 1) if len(canary) > FRAGMENT else ():
        out[f"fragment at {start}"] = canary[start : start + FRAGMENT]
    return out


def decoded(path: Path, raw: str) -> str:
    """The file's strings with their escapes undone (YAML writes non-ASCII as \\u escapes)."""
    try:
        if path.suffix == ".yaml":
            return json.dumps(yaml.safe_load(raw), ensure_ascii=False)
        if path.suffix == ".json":
            return json.dumps(json.loads(raw), ensure_ascii=False)
        if path.suffix == ".xml":
            root = ET.fromstring(raw)  # noqa: S314 - our own run's JUnit file
            return "\n".join([*root.itertext(), *(v for node in root.iter() for v in node.attrib.values())])
    except (ValueError, yaml.YAMLError, ET.ParseError):
        return ""
    return ""


def written_since(start: float, *roots: Path) -> list[Path]:
    found = []
    for root in roots:
        for path in root.rglob("*"):
            skipped = {".venv", ".git"} & set(path.relative_to(root).parts)
            if path.is_file() and not skipped and path.stat().st_mtime >= start:
                found.append(path)
    return sorted(found)


def test_no_canary_reaches_any_file_or_output_of_a_recording_run(tmp_path: Path) -> None:
    channels = credential_channels()
    channels_file = tmp_path / "channels.json"
    channels_file.write_text(json.dumps(channels, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    start = time.time() - 1
    with Sandbox(
        app_id=APP_ID,
        key_id=CANARY_KEY_ID,
        key_secret=CANARY_KEY_SECRET,
        account_key_id=CANARY_ACCOUNT_KEY_ID,
        account_key_secret=CANARY_ACCOUNT_SECRET,
    ) as sandbox:
        env = {
            **clean_env(),
            "SUNCO_API_URL": sandbox.url,
            "SUNCO_APP_ID": APP_ID,
            "SUNCO_KEY_ID": CANARY_KEY_ID,
            "SUNCO_KEY_SECRET": CANARY_KEY_SECRET,
            "SUNCO_ACCOUNT_KEY_ID": CANARY_ACCOUNT_KEY_ID,
            "SUNCO_ACCOUNT_KEY_SECRET": CANARY_ACCOUNT_SECRET,
            "SUNCO_CHANNELS": str(channels_file),
        }
        result = pytest_run(
            "conformance",
            str(LEAKY_SUITE),
            "--record-mode=rewrite",
            f"--cassette-dir={out / 'cassettes'}",
            f"--junitxml={out / 'junit.xml'}",
            f"--conformance-report={out / 'report.json'}",
            f"--conformance-markdown={out / 'report.md'}",
            "-rA",
            "--tb=long",
            "--showlocals",
            env=env,
        )
    files = written_since(start, out, PROJECT)
    texts = {"captured stdout": result.stdout, "captured stderr": result.stderr}
    for path in files:
        raw = path.read_bytes().decode("utf-8", "replace")
        texts[str(path)] = raw
        texts[f"{path} (decoded)"] = decoded(path, raw)
    tried = canaries(channels)
    searched = {canary: forms(canary) for canary in tried}
    leaks = [
        f"{where}: {kind} of {canary!r}"
        for canary, variants in searched.items()
        for kind, form in variants.items()
        for where, text in texts.items()
        if form in text
    ]
    print(
        f"secrets tried: {len(tried)}, forms searched: {sum(map(len, searched.values()))}, "
        f"files searched: {len(files)}, leaks found: {len(leaks)}"
    )
    assert leaks == [], "\n".join(leaks[:40])
    # The run really went through every channel a secret could leak by.
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    titles = [note for v in report["verdicts"] for f in v["failures"] for note in f["notes"]]
    assert any("is too short" in title and "<scrubbed-secret>" in title for title in titles), titles
    assert any("is not one of" in title and "<scrubbed-secret>" in title for title in titles), titles
    accepted = {v["variant"] for v in report["verdicts"] if v["status"] == 201}
    assert len(accepted) >= len(TYPES) - 2  # only apple and twitter carry values the API refuses
    assert "RuntimeError: boom" in result.stdout
    assert "Captured stdout call" in result.stdout
    assert 'name="leak"' in (out / "junit.xml").read_text(encoding="utf-8")
    assert len(list((out / "cassettes").rglob("*.yaml"))) >= 20
    assert "## Failures" in (out / "report.md").read_text(encoding="utf-8")


def test_a_key_secret_that_is_an_api_word_still_records_and_replays(tmp_path: Path) -> None:
    """A secret like ``integration`` must not be replaced inside paths and field names."""
    channels = {
        "apple": {"authenticationMessageSecret": "A" * 88},  # real length: the placeholder must fit minLength 88
        "custom": {"webhooks": [{"target": NESTED, "triggers": ["conversation:message"]}]},
        "messenger": {"pageId": NUMERIC},
        "messagebird": {"originator": SHORT},
    }
    channels_file = tmp_path / "channels.json"
    channels_file.write_text(json.dumps(channels, ensure_ascii=False), encoding="utf-8")
    folder = tmp_path / "cassettes"
    selected = ("-k", "accepts_valid_bodies or lifecycle or unknown_id")
    with Sandbox(
        app_id=APP_ID,
        key_id=CANARY_KEY_ID,
        key_secret="integration",
        account_key_id=CANARY_ACCOUNT_KEY_ID,
        account_key_secret=CANARY_ACCOUNT_SECRET,
    ) as sandbox:
        env = {
            **clean_env(),
            "SUNCO_API_URL": sandbox.url,
            "SUNCO_APP_ID": APP_ID,
            "SUNCO_KEY_ID": CANARY_KEY_ID,
            "SUNCO_KEY_SECRET": "integration",
            "SUNCO_ACCOUNT_KEY_ID": CANARY_ACCOUNT_KEY_ID,
            "SUNCO_ACCOUNT_KEY_SECRET": CANARY_ACCOUNT_SECRET,
            "SUNCO_CHANNELS": str(channels_file),
        }
        recorded = pytest_run("conformance", *selected, "--record-mode=rewrite", f"--cassette-dir={folder}", env=env)
    assert recorded.returncode == 0, recorded.stdout[-3000:]
    text = "".join(decoded(path, path.read_text(encoding="utf-8")) for path in folder.rglob("*.yaml"))
    assert "/integrations" in text
    assert NESTED not in text
    assert str(NUMERIC) not in text
    assert SHORT not in text
    assert "A" * 88 not in text
    replayed = pytest_run("conformance", *selected, f"--cassette-dir={folder}", "--block-network")
    assert replayed.returncode == 0, replayed.stdout[-3000:]
