"""Credentials and scopes, for every operation the contract marks authenticated.

A request without credentials, or with wrong ones, is refused with 401; a key may call only the
operations whose security lists its scope, and the others refuse it with 403. The operations come
from the index's security, so a new operation is covered without touching this module.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from hypothesis import strategies as st

from conformance.contract.resources import RESOURCES, resource
from conformance.contract.schemas import Operation, UnknownOperation, shipped
from conformance.model import Exchange, Expect, Variant
from conformance.session.session import ConformanceSession
from conformance.suites import flows
from conformance.suites.flows import Records
from conformance.transport.client import Client, needs_account
from conformance.variants.strategies import hex_id

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
APP, APP_KEY = resource("app"), resource("appKey")
INTEGRATION, INTEGRATION_KEY = resource("integration"), resource("integrationKey")
# The wrong credentials, each in both schemes the security of every operation allows.
WRONG = {
    "basic-wrong-secret": "Basic credentials: the key id the operation uses, a wrong secret",
    "basic-unknown-key": "Basic credentials: a well-formed key id no key has",
    "jwt-wrong-secret": "a JWT whose kid is the key the operation uses, signed with a wrong secret",
    "jwt-unknown-kid": "a JWT whose kid is a well-formed key id no key has",
}
# A JWT's HMAC secret of at least 32 bytes, so that nothing warns about its length.
WRONG_SECRET = st.text(alphabet="0123456789abcdefghijklmnopqrstuvwxyz", min_size=40, max_size=40)


def _made_up_path(op: Operation, drawn: str, given: Mapping[str, str]) -> dict[str, str]:
    """Every path parameter not ``given`` gets a made-up id: credentials and scopes are checked first."""
    return {name: drawn for name in _PARAM.findall(op.path) if name not in given}


def _per_operation(
    ops: Sequence[Operation], build: Callable[[Operation, str], Variant]
) -> st.SearchStrategy[list[Variant]]:
    """One variant per operation, each built with an id drawn for it."""
    ids = st.lists(hex_id(), min_size=len(ops), max_size=len(ops))
    return ids.map(lambda drawn: [build(op, drawn[n]) for n, op in enumerate(ops)])


def _keep_if_created(sunco: ConformanceSession, op: Operation, exchange: Exchange, path: Mapping[str, str]) -> None:
    """A create that should have been refused but made a record: teardown deletes it all the same."""
    for item in RESOURCES:
        found = flows.created_id(exchange, item) if item.operations.get("create") == op.operation_id else None
        if found:
            sunco.ledger.add(item, {**path, item.id_param: found})


# -- no credentials ------------------------------------------------------------------------------


def _unauthenticated() -> st.SearchStrategy[list[Variant]]:
    """One request per authenticated operation, with made-up ids: credentials are checked first."""
    return _per_operation(
        shipped().authenticated(),
        lambda op, drawn: Variant(
            f"{op.operation_id} without credentials",
            None,
            Expect(401, shipped().documented_code(op, 401)),
            params={"path": _made_up_path(op, drawn, {"appId": ""})},
        ),
    )


def _operation_of(variant: Variant) -> str:
    """The operation a pinned variant is for: its label starts with the operationId. Replay pairs them by
    name, not by position, so a contract with other operations (another release) pairs them right."""
    return variant.label.split(" ", 1)[0]


def _each_present(variants: Sequence[Variant], send: Callable[[Variant], None]) -> UnknownOperation | None:
    """Send each pinned variant; one for an operation the contract lacks (another release) is left out,
    and the first such operation is returned, so the others are still judged."""
    absent: UnknownOperation | None = None
    for variant in variants:
        try:
            send(variant)
        except UnknownOperation as error:
            absent = absent or error
    return absent


def _finish(sunco: ConformanceSession, absent: UnknownOperation | None) -> None:
    """What the other operations broke fails the test; if they all held, a left-out one skips it, in one line."""
    sunco.finish()
    if absent is not None:
        # The plugin skips a test whose operation the contract lacks, in one line naming both.
        raise absent


def test_every_authenticated_operation_requires_credentials(sunco: ConformanceSession) -> None:
    def send(variant: Variant) -> None:
        sunco.call(_operation_of(variant), variant=variant, authenticate=False)

    _finish(
        sunco, _each_present(sunco.variants("no-credentials", _unauthenticated(), len(shipped().authenticated())), send)
    )


# -- wrong credentials ---------------------------------------------------------------------------


def wrong_kinds() -> dict[str, str]:
    """The wrong credentials each operation gets: taken in turn among the operations that use the account
    key and among the others, so each kind is tried on account-scope and app-scope operations alike."""
    kinds = list(WRONG)
    turns: dict[bool, int] = {}
    chosen: dict[str, str] = {}
    for op in shipped().authenticated():
        group = needs_account(op)
        turn = turns.get(group, 0)
        chosen[op.operation_id], turns[group] = kinds[turn % len(kinds)], turn + 1
    return chosen


def _credentials(kind: str, unknown: str, secret: str) -> dict[str, str]:
    """What a wrong-credentials variant pins: its kind, the wrong secret, and the unknown id's hex if it uses one."""
    return {"kind": kind, "secret": secret, **({"unknownKey": unknown} if "unknown" in kind else {})}


def _wrong_credentials() -> st.SearchStrategy[list[Variant]]:
    """One request per authenticated operation with wrong credentials; every id in the path is made up,
    the app's too, so a server that took the credentials would find nothing to change."""
    ops, kinds = shipped().authenticated(), wrong_kinds()
    extras = st.lists(st.tuples(hex_id(), WRONG_SECRET), min_size=len(ops), max_size=len(ops))

    def build(drawn: list[str], extra: list[tuple[str, str]]) -> list[Variant]:
        return [
            Variant(
                f"{op.operation_id} with {WRONG[kinds[op.operation_id]]}",
                None,
                Expect(401, shipped().documented_code(op, 401)),
                params={
                    "path": _made_up_path(op, drawn[n], {}),
                    "credentials": _credentials(kinds[op.operation_id], *extra[n]),
                },
            )
            for n, op in enumerate(ops)
        ]

    return st.tuples(st.lists(hex_id(), min_size=len(ops), max_size=len(ops)), extras).map(lambda t: build(*t))


def wrong_authorization(client: Client, op: Operation, credentials: Mapping[str, str]) -> str:
    """The Authorization header a pinned wrong-credentials variant stands for, built at send time: the
    key the operation would use (the account key for account-scope operations), or an unknown id of the
    same form (its prefix, then the drawn hex), with the drawn secret."""
    key_id, _secret, scope = client.settings.key(account=client.uses_account(op))
    if "unknownKey" in credentials:
        prefix, underscore, _rest = key_id.partition("_")
        key_id = f"{prefix}{underscore}{credentials['unknownKey']}" if underscore else credentials["unknownKey"]
    scheme = credentials["kind"].partition("-")[0]
    return client.settings.authorization_with(key_id, credentials["secret"], scope, mode=scheme)


def test_every_authenticated_operation_refuses_wrong_credentials(sunco: ConformanceSession) -> None:
    """A wrong secret, an unknown key id, a JWT signed with a wrong secret and a JWT with an unknown kid:
    each is refused with 401, on operations of account scope and of app scope."""

    def send(variant: Variant) -> None:
        op = sunco.contract.operation(_operation_of(variant))
        authorization = wrong_authorization(sunco.client, op, variant.params["credentials"])
        exchange = sunco.call(op.operation_id, variant=variant, authorization=authorization)
        _keep_if_created(sunco, op, exchange, variant.params["path"])

    _finish(
        sunco,
        _each_present(sunco.variants("wrong-credentials", _wrong_credentials(), len(shipped().authenticated())), send),
    )


# -- scopes --------------------------------------------------------------------------------------


def _out_of_scope(ops: Sequence[Operation], scope: str, given: Mapping[str, str]) -> st.SearchStrategy[list[Variant]]:
    return _per_operation(
        ops,
        lambda op, drawn: Variant(
            f"{op.operation_id} with a key of {scope} scope",
            None,
            Expect(403, shipped().documented_code(op, 403)),
            params={"path": _made_up_path(op, drawn, given)},
        ),
    )


def _own_app(sunco: ConformanceSession) -> str:
    """An app the test creates (with the account key), so that a key wrongly let through changes only it."""
    sunco.require_account()
    made = sunco.variants("setup-app", flows.setup_variants(APP), 1)[0]
    return sunco.require(Records(sunco, APP, parents={}).create(made).id, "an app of the test's own", made)


def _new_key(sunco: ConformanceSession, records: Records, scope: str) -> tuple[str, str, str]:
    """A key made through ``records``: its (id, secret, scope), the secret as its create response gave it."""
    item = records.item
    made = sunco.variants(f"setup-{item.name}", flows.setup_variants(item), 1)[0]
    key = records.create(made)
    key_id = sunco.require(key.id, f"a new {item.name}", made)
    secret = key.record.get("secret")
    found = sunco.require(secret, f"the {item.name}'s secret", made, pointer=f"/{item.envelope}/secret")
    return key_id, str(found), scope


def _try_out_of_scope(
    sunco: ConformanceSession, scope: str, key: tuple[str, str, str], given: dict[str, str]
) -> UnknownOperation | None:
    ops = shipped().refusing(scope)

    def send(variant: Variant) -> None:
        op = sunco.contract.operation(_operation_of(variant))
        path = {**given, **variant.params["path"]}
        exchange = sunco.call(op.operation_id, variant=variant, path_params=given, key=key)
        _keep_if_created(sunco, op, exchange, path)

    return _each_present(sunco.variants(f"{scope}-scope", _out_of_scope(ops, scope, given), len(ops)), send)


def test_operations_outside_app_scope_refuse_an_app_key(sunco: ConformanceSession) -> None:
    """An app key reads its own app; every operation whose security leaves out app scope (apps, app keys,
    the OAuth token operations) refuses it with 403. All of it happens in an app the test creates."""
    app_id = _own_app(sunco)
    key = _new_key(sunco, Records(sunco, APP_KEY, parents={"appId": app_id}), "app")
    # The key works within its scope, so the refusals below are about scope, not a key the API does not know.
    sunco.call(APP.operations["get"], path_params={"appId": app_id}, key=key, expect=Expect(200))
    _finish(sunco, _try_out_of_scope(sunco, "app", key, {"appId": app_id}))


def test_operations_outside_integration_scope_refuse_an_integration_key(sunco: ConformanceSession) -> None:
    """A custom integration's key reads its own integration's webhooks; every operation whose security
    leaves out integration scope refuses it with 403, on the key's own app and integration."""
    app_id = _own_app(sunco)
    integrations = Records(sunco, INTEGRATION, parents={"appId": app_id})
    made = sunco.variants("setup-integration", flows.setup_variants(INTEGRATION, INTEGRATION_KEY.name), 1)[0]
    integration_id = sunco.require(integrations.create(made).id, "a custom integration", made)
    own = {"appId": app_id, "integrationId": integration_id}
    key = _new_key(sunco, Records(sunco, INTEGRATION_KEY, parents=own), "integration")
    sunco.call(resource("webhook").operations["list"], path_params=own, key=key, expect=Expect(200))
    _finish(sunco, _try_out_of_scope(sunco, "integration", key, own))
