"""The imported contract: JSON Schemas under ``schemas/`` and the operation index that ties them to the API.

The public face of the contract: a :class:`Contract` is a value, loaded from a folder import-spec
wrote (:func:`load`) and passed to what needs it (the session, the checks, the generators, the
sandbox), so that one process can hold two. :func:`shipped` is the project's own, for callers with
no choice. Behind it: ``_schemas_operation`` (an index entry as an :class:`Operation`),
``_schemas_validators`` (the request and response views, our keywords) and ``_schemas_contract``
(the registry, validators and the walks that follow what applies to an instance).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

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
    "load",
    "schema_uri",
    "shipped",
]

# The package's link to the project's schemas/ (an installed package carries the files themselves).
SCHEMA_DIR = (Path(__file__).resolve().parents[1] / "_schemas").resolve()
ERROR_SCHEMA = "components/errorResponse.json"


@cache
def _load(directory: Path) -> Contract:
    return Contract.from_dir(directory)


def load(directory: Path) -> Contract:
    """The contract import-spec wrote to ``directory``, read once per folder (it is never written while in use)."""
    return _load(Path(directory).resolve())


def shipped() -> Contract:
    """The project's contract, as imported into ``schemas/``: for callers that are given none."""
    return _load(SCHEMA_DIR)
