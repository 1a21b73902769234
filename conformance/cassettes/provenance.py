"""What a cassette says about its own recording, kept in its metadata beside the pinned variants.

* ``recording``: when it was recorded (UTC), against which host (host and port only: never a
  user, a password or a path), under which spec version and import hash (``schemas/index.json``),
  which harness version, the run id its created records' tags hold (``runId``), and
  ``schemaHashes``: per operation it called (and ``EventWebhooks`` when it checked deliveries), the
  hash of what that operation depends on in the contract (``conformance/contract/fingerprint.py``).
  A contract change marks as recorded under other schemas only the cassettes whose operations it
  reaches; a cassette without ``schemaHashes`` is judged by its import hash;
* ``exchanges``: one entry per call the session made, in order: the operation, the pinned variant
  (or none) and how many attempts it took (429 retries included), so a reader can pair exchanges by
  what they were rather than by where they sit, and leave the retried answers out.

Cassettes recorded before these existed hold neither; they still replay.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from conformance.contract import fingerprint
from conformance.contract.schemas import Contract
from conformance.failures import StaleRecording

RECORDING_KEY = "recording"
EXCHANGES_KEY = "exchanges"
SCHEMAS_KEY = "schemaHashes"
DISTRIBUTION = "sunco-conformance"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def harness_version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


def host_of(url: str) -> str:
    """``https://user:pw@eu.example.com:8443/sc`` -> ``eu.example.com:8443``: where, and nothing secret."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def recording(
    api_url: str, when: dt.datetime | None = None, *, run_id: str | None = None, contract: Contract
) -> dict[str, Any]:
    """The cassette's recording block: where and when, under which import of ``contract``."""
    index = contract.index
    moment = (when or now()).astimezone(dt.UTC).replace(microsecond=0)
    block: dict[str, Any] = {
        "recordedAt": moment.isoformat().replace("+00:00", "Z"),
        "host": host_of(api_url),
        "specVersion": str((index.get("source") or {}).get("version", "")),
        "importHash": str(index.get("importHash", "")),
        "harness": harness_version(),
        # Filled in as the test calls operations (note_schemas): empty, it depends on nothing.
        SCHEMAS_KEY: {},
    }
    if run_id is not None:
        block["runId"] = run_id
    return block


def exchange(operation_id: str, variant: str | None, attempts: int) -> dict[str, Any]:
    return {"operation": operation_id, "variant": variant, "attempts": attempts}


def note_schemas(pins: dict[str, Any], operation_id: str, contract: Contract) -> None:
    """While recording, keep the hash of what ``operation_id`` depends on in the recording block.

    Only a recording that notes its exchanges (a new one, not one being extended) says which
    schemas it depended on: an extended one keeps what its first recording said.
    """
    block = pins.get(RECORDING_KEY)
    if not isinstance(pins.get(EXCHANGES_KEY), list) or not isinstance(block, dict):
        return
    known = block.get(SCHEMAS_KEY)
    known = dict(known) if isinstance(known, dict) else {}
    if operation_id not in known:
        known[operation_id] = fingerprint.operation_hash(contract, operation_id)
        block[SCHEMAS_KEY] = dict(sorted(known.items()))


def operations_of(pins: Any) -> list[str]:
    """The operations a cassette's metadata says it depended on: those its exchanges and its schema hashes name."""
    if not isinstance(pins, dict):
        return []
    found = {
        entry["operation"]
        for entry in pins.get(EXCHANGES_KEY) or []
        if isinstance(entry, dict) and isinstance(entry.get("operation"), str)
    }
    block = pins.get(RECORDING_KEY)
    schemas = block.get(SCHEMAS_KEY) if isinstance(block, dict) else None
    found |= {str(op) for op in schemas} if isinstance(schemas, dict) else set()
    return sorted(found)


def parse_time(text: Any) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Provenance:
    """The ``recording`` block of one cassette, as read back (every part may be missing)."""

    cassette: str
    recorded_at: dt.datetime | None = None
    host: str = ""
    spec_version: str = ""
    import_hash: str = ""
    harness: str = ""
    run_id: str = ""
    # operationId -> hash of what it depended on; None for a cassette recorded before cassettes kept them.
    schemas: dict[str, str] | None = None

    @classmethod
    def from_pins(cls, cassette: str, pins: Any) -> Provenance:
        block = pins.get(RECORDING_KEY) if isinstance(pins, dict) else None
        if not isinstance(block, dict):
            return cls(cassette)
        schemas = block.get(SCHEMAS_KEY)
        return cls(
            cassette,
            parse_time(block.get("recordedAt")),
            str(block.get("host", "")),
            str(block.get("specVersion", "")),
            str(block.get("importHash", "")),
            str(block.get("harness", "")),
            str(block.get("runId", "")),
            {str(op): str(digest) for op, digest in schemas.items()} if isinstance(schemas, dict) else None,
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Provenance:
        return cls.from_pins(str(data.get("cassette", "")), {RECORDING_KEY: data})

    def age_days(self, at: dt.datetime | None = None) -> float | None:
        if self.recorded_at is None:
            return None
        return ((at or now()) - self.recorded_at).total_seconds() / 86400

    def changed(self, current: Contract) -> list[str] | None:
        """The operations whose schemas in ``current`` are not those it was recorded under, sorted;
        None for a cassette that does not say (recorded before cassettes kept schema hashes)."""
        return None if self.schemas is None else fingerprint.changed(current, self.schemas)

    def outdated(self, current: Contract) -> bool:
        """Recorded under other schemas than ``current`` gives its operations (without schema
        hashes: under another import of the whole contract)."""
        changed = self.changed(current)
        if changed is not None:
            return bool(changed)
        return bool(self.import_hash) and self.import_hash != str(current.index.get("importHash", ""))

    def as_json(self) -> dict[str, Any]:
        at = self.recorded_at.isoformat().replace("+00:00", "Z") if self.recorded_at else None
        found: dict[str, Any] = {
            "cassette": self.cassette,
            "recordedAt": at,
            "host": self.host,
            "specVersion": self.spec_version,
            "importHash": self.import_hash,
            "harness": self.harness,
        }
        if self.schemas is not None:
            found[SCHEMAS_KEY] = self.schemas
        return found


def read_pins(path: Path) -> dict[str, Any] | None:
    """The conformance metadata of a cassette file; None when there is no such file or it pins nothing.

    A file that cannot be read as YAML is a ValueError with a one-line message.
    """
    if not path.is_file():
        return None
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - a safe loader
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"{path} cannot be read as a cassette: {reason}") from None
    pins = ((data or {}).get("metadata") or {}).get("conformance") if isinstance(data, dict) else None
    return pins if isinstance(pins, dict) else None


def stale_failure(session: Any, days: float) -> StaleRecording | None:
    """A failure when the replayed cassette is older than ``days`` (or does not say when it was made)."""
    found = session.recorded()
    age = found.age_days()
    if age is not None and age <= days:
        return None
    when = found.recorded_at.strftime("%Y-%m-%d %H:%M UTC") if found.recorded_at else None
    return StaleRecording(
        operation="(none)",
        method="-",
        path="-",
        title=(
            f"The recording of {session.nodeid} is {age:.1f} days old, over --max-cassette-age {days:g}."
            if age is not None
            else f"The recording of {session.nodeid} does not say when it was made (--max-cassette-age {days:g})."
        ),
        rule=f"--max-cassette-age: replay only recordings made in the last {days:g} days",
        expected=f"recorded within {days:g} days",
        actual=f"recorded {when}" if when else "no recording date (recorded before cassettes kept one)",
        cassette=session.cassette_path,
        next_step=f"re-record it: {session.record_command}",
    )
