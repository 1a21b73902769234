"""The imported contract: JSON Schemas under ``schemas/`` and the operation index that ties them to the API.

The public face of the contract: the project's :class:`Contract` (loaded once, or from the folder
:func:`use` chose) and shorthands over it. Behind it: ``_schemas_operation`` (an index entry as an
:class:`Operation`), ``_schemas_validators`` (the request and response views, our keywords) and
``_schemas_contract`` (the registry, validators and the walks that follow what applies to an instance).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from conformance.contract._schemas_contract import Contract, UnknownOperation, schema_uri
from conformance.contract._schemas_operation import Operation, Parameter, Response
from conformance.contract._schemas_validators import View

__all__ = [
    "ERROR_SCHEMA",
    "SCHEMA_DIR",
    "Contract",
    "Operation",
    "Parameter",
    "Response",
    "UnknownOperation",
    "View",
    "active_dir",
    "annotated_pointers",
    "contract",
    "declared_fields",
    "deref",
    "load_index",
    "operation",
    "read_only_fields",
    "resolve",
    "schema_uri",
    "use",
    "validator",
    "write_only_fields",
]

# The package's link to the project's schemas/ (an installed package carries the files themselves).
SCHEMA_DIR = (Path(__file__).resolve().parents[1] / "_schemas").resolve()
ERROR_SCHEMA = "components/errorResponse.json"


_active = {"directory": SCHEMA_DIR}


def use(directory: Path) -> None:
    """Make ``directory`` (an import-spec output) the contract every lookup below uses (``--schema-dir``).

    Called once, before any lookup: what was derived from the previous contract is forgotten.
    """
    _active["directory"] = Path(directory).resolve()
    for cached in (_load, write_only_fields, read_only_fields, declared_fields):
        cached.cache_clear()


def active_dir() -> Path:
    return _active["directory"]


@cache
def _load(directory: Path) -> Contract:
    return Contract.from_dir(directory)


def contract(directory: Path | None = None) -> Contract:
    """The project's contract, as imported into ``schemas/`` (or the folder :func:`use` chose)."""
    return _load(directory or _active["directory"])


# Shorthands over the project's contract, for the many call sites that need just one lookup.


def load_index() -> dict[str, Operation]:
    return contract().operations


def operation(operation_id: str) -> Operation:
    return contract().operation(operation_id)


def authenticated() -> list[Operation]:
    """The operations whose security asks for credentials, by operationId."""
    return sorted((op for op in contract().operations.values() if op.authenticated), key=lambda op: op.operation_id)


def refusing(scope: str) -> list[Operation]:
    """The operations whose security names scopes, none of them ``scope``: a key of that scope is refused."""
    return [op for op in authenticated() if op.refuses(scope)]


def documented_code(op: Operation, status: int) -> str:
    """The error code ``op`` documents for ``status``; else the one code the contract documents for it elsewhere."""
    codes = op.error_codes(status) or tuple(
        sorted({code for other in contract().operations.values() for code in other.error_codes(status)})
    )
    if len(codes) != 1:
        raise ValueError(f"{op.operation_id}: expected one documented error code for {status}, found {list(codes)}")
    return codes[0]


def validator(ref: str, view: View = "response") -> Any:
    return contract().validator(ref, view)


def resolve(ref: str) -> Any:
    return contract().resolve(ref)


@cache
def write_only_fields(ref: str) -> frozenset[str]:
    """Names of the properties a request may send but a response must never return."""
    return contract().flagged_fields(ref, "writeOnly")


@cache
def read_only_fields(ref: str) -> frozenset[str]:
    return contract().flagged_fields(ref, "readOnly")


def annotated_pointers(ref: str, instance: Any, flag: str = "writeOnly") -> list[str]:
    return contract().annotated_pointers(ref, instance, flag)


@cache
def declared_fields(ref: str) -> frozenset[str]:
    return contract().declared_fields(ref)


def deref(schema: Any, base: str) -> tuple[Any, str]:
    return contract().deref(schema, base)
