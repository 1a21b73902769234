"""Which cassettes (and so which suite tests) call which operations, from the notes each cassette keeps.

A cassette's metadata lists its exchanges, each with the operation it called, and the operations
whose schemas it depended on (``EventWebhooks`` too when it checked deliveries; see
``conformance/cassettes/provenance.py``); a cassette ``cassettes/test_users/test_user_lifecycle.yaml``
is the recording of ``conformance/suites/test_users.py::test_user_lifecycle``.
"""

from __future__ import annotations

from pathlib import Path

from conformance.cassettes.provenance import operations_of, read_pins

SUITES = "conformance/suites"


def by_operation(folder: Path) -> dict[str, list[str]]:
    """operationId -> the cassette files (as paths under ``folder``) whose notes say they depend on it.

    A cassette that cannot be read, or that notes no exchanges, calls nothing here.
    """
    found: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("*.yaml")):
        try:
            pins = read_pins(path)
        except ValueError:
            continue
        for operation in operations_of(pins):
            found.setdefault(operation, set()).add(str(path))
    return {op: sorted(paths) for op, paths in sorted(found.items())}


def node_id(cassette: str, suites: str = SUITES) -> str:
    """The suite test a cassette records: its folder is the module, its name the test (``Class.test``)."""
    path = Path(cassette)
    return f"{suites.rstrip('/')}/{path.parent.name}.py::{path.stem.replace('.', '::')}"
