"""Evidence that each overlay correction matters: ``x-proof`` assertions on the imported contract.

An action's proof is a list of assertions. Each one holds on the contract imported *with* the
action; without the action at least one must fail, or the action changes nothing that anyone
can observe, and the import refuses it. The same assertions run in the test suite against the
committed ``schemas/`` (the "with" half), so each correction has a test that fails without it.

Assertion forms (``schema`` refs are relative to ``schemas/``; ``view`` is request or response):

* ``{schema, view?, valid: [instances]}`` / ``{schema, view?, invalid: [instances]}``
* ``{schema, instance, writeOnly: [pointers]}``: those pointers of the instance are write-only;
* ``{operation, statuses: [..]}``: the operation documents those statuses;
* ``{operation, errorCodes: {status: [codes]}}``: and shows those error codes for them.

An action that makes responses stricter needs more than a proof: evidence of what the live
service sends (``x-observed``). :func:`response_tightening` finds it mechanically: an ``invalid``
instance of the proof (in whichever view it names) that the response view refuses with the action
and accepts without it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from conformance.contract.schemas import Contract


def failures(contract: Contract, assertion: Mapping[str, Any]) -> Iterator[str]:
    """Why ``assertion`` does not hold on ``contract`` (nothing when it holds)."""
    try:
        yield from _failures(contract, assertion)
    except Exception as error:
        yield f"cannot be checked: {type(error).__name__}: {error}"


def _failures(contract: Contract, assertion: Mapping[str, Any]) -> Iterator[str]:
    view = assertion.get("view", "request")
    if "schema" in assertion and ("valid" in assertion or "invalid" in assertion):
        validator = contract.validator(assertion["schema"], view)
        for instance in assertion.get("valid", []):
            if not validator.is_valid(instance):
                yield f"{_show(instance)} should be valid against {assertion['schema']} ({view})"
        for instance in assertion.get("invalid", []):
            if validator.is_valid(instance):
                yield f"{_show(instance)} should be invalid against {assertion['schema']} ({view})"
    elif "writeOnly" in assertion:
        found = contract.annotated_pointers(assertion["schema"], assertion["instance"], "writeOnly")
        for pointer in assertion["writeOnly"]:
            if pointer not in found:
                yield f"{pointer} of {_show(assertion['instance'])} should be write-only in {assertion['schema']}"
    elif "operation" in assertion:
        if assertion["operation"] not in contract.operations:
            yield f"the contract has no operation {assertion['operation']}"
            return
        op = contract.operation(assertion["operation"])
        for status in assertion.get("statuses", []):
            if not op.documents(int(status)):
                yield f"{op.operation_id} should document {status}"
        for status, codes in (assertion.get("errorCodes") or {}).items():
            missing = sorted(set(codes) - set(op.error_codes(int(status))))
            if missing:
                yield f"{op.operation_id} {status} should show error codes {missing}"
    else:
        yield f"unknown proof form: {_show(dict(assertion))}"


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 100 else text[:99] + "…"


def holds(contract: Contract, proof: Sequence[Mapping[str, Any]]) -> list[str]:
    return [reason for assertion in proof for reason in failures(contract, assertion)]


def response_tightening(
    with_action: Contract, without: Contract | None, proof: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Instances of ``proof`` the response view refuses only because of the action (``without``
    None: it could not be built, so every instance the response view refuses counts)."""
    found: list[str] = []
    for assertion in proof:
        if "schema" not in assertion or not assertion.get("invalid"):
            continue
        ref = assertion["schema"]
        for instance in assertion["invalid"]:
            try:
                refused = not with_action.validator(ref, "response").is_valid(instance)
                accepted_before = without is None or without.validator(ref, "response").is_valid(instance)
            except Exception:  # noqa: S112 - a proof that cannot be judged here is judged by holds()
                continue
            if refused and accepted_before:
                found.append(f"{_show(instance)} against {ref}")
    return found
