"""One authenticated read before a live run records anything.

A wrong key, secret or app id would otherwise answer every request with 401 or ``app_not_found``
and a re-recording would replace good cassettes with those answers. One cheap GET finds out first;
its verdict is one line naming the setting to check.
"""

from __future__ import annotations

from collections.abc import Callable

import requests

from conformance.contract.schemas import Contract
from conformance.failures import ConfigError, brief_cause
from conformance.model import Exchange
from conformance.transport.client import BrokenExchange, Client
from conformance.transport.settings import Settings

# The cheapest authenticated reads, best first; the first one the index has is used.
PROBES: tuple[tuple[str, dict[str, str]], ...] = (
    ("GetApp", {}),
    ("ListIntegrations", {"page[size]": "1"}),
)
KEY_SETTINGS = "SUNCO_KEY_ID and SUNCO_KEY_SECRET (and SUNCO_AUTH)"


def probe(contract: Contract) -> tuple[str, dict[str, str]] | None:
    """The read to make, or None for a contract with nothing to read by app (there is nothing to check)."""
    index = contract.operations
    for operation_id, query in PROBES:
        if operation_id in index:
            return operation_id, query
    # Any GET that needs only the app id will do.
    for op in index.values():
        if op.method == "GET" and op.path.count("{") == 1 and "{appId}" in op.path:
            return op.operation_id, {}
    return None


def verdict(exchange: Exchange, settings: Settings) -> str | None:
    """The one-line reason the target cannot be recorded, or None when it answered as the API documents.

    Refusals name the key or app setting; anything else that is not the documented answer (another
    404, a 5xx, a redirect, a body that is not JSON or not the documented one) means the URL does not
    lead to the API: a proxy, a static server, a path with /v2 twice.
    """
    codes = exchange.error_codes
    answered = f"{exchange.operation.operation_id} answered {exchange.status}" + (f" {codes[0]}" if codes else "")
    if "app_not_found" in codes:
        return f"{answered}: no app {settings.app_id} is visible to this key; check SUNCO_APP_ID (and {KEY_SETTINGS})"
    if exchange.status == 401:
        return f"{answered}: {settings.api_url} refused the key; check {KEY_SETTINGS}"
    if exchange.status == 403:
        scope = " and SUNCO_JWT_SCOPE" if settings.auth == "jwt" else ""
        return (
            f"{answered}: the key may not read app {settings.app_id}; check that SUNCO_KEY_ID belongs to "
            f"SUNCO_APP_ID{scope}"
        )
    wrong = _not_the_api(exchange)
    if wrong is not None:
        return (
            f"{answered}, {wrong}: {settings.api_url} does not look like the API; check SUNCO_API_URL (the "
            "API's root, without /v2: the suite adds the paths)"
        )
    return None


def _not_the_api(exchange: Exchange) -> str | None:
    """How the probe's answer differs from the documented success, or None when it is that answer."""
    if 300 <= exchange.status < 400:
        where = exchange.headers.get("Location") or exchange.headers.get("location")
        return f"a redirect to {where}" if where else "a redirect"
    if exchange.status != 200:
        return "not the documented success"
    if not exchange.text.strip():
        return "an empty body"
    if not exchange.body_is_json:
        kind = exchange.media_type or "no Content-Type"
        return f"a body that is not JSON ({kind})"
    schema = exchange.operation.response_schema(200)
    if schema is None:
        return None
    error = next(iter(exchange.contract.validator(schema).iter_errors(exchange.body)), None)
    if error is None:
        # Every documented field is optional, so any JSON object validates: the answer must show one of them.
        documented = exchange.contract.declared_fields(schema)
        if documented and not (isinstance(exchange.body, dict) and documented & exchange.body.keys()):
            return f"a body that is not the documented one (none of {', '.join(sorted(documented))})"
        return None
    where = "/" + "/".join(str(part) for part in error.absolute_path)
    return f"a body that is not the documented one ({where}: {error.message[:80]})"


def check_access(
    settings: Settings, scrub: Callable[[str], str], client: Client | None = None, *, contract: Contract | None = None
) -> None:
    """Raise ConfigError (one line, scrubbed) when the live API refuses the settings or cannot be reached.

    The probe is an operation of ``contract`` (the client's, when a client is given; else the shipped one).
    """
    client = client or Client(settings, contract=contract)
    found = probe(client.contract)
    if found is None:
        return
    operation_id, query = found
    try:
        exchange = client.call(operation_id, query=query)
    except BrokenExchange as error:
        # A server answered, but no whole answer came (cut off, reset, or past SUNCO_MAX_RESPONSE_BYTES).
        raise ConfigError(
            scrub(
                f"nothing was recorded: {operation_id} got no whole answer from {settings.api_url}: "
                f"{error.broken.what}; check SUNCO_API_URL (and SUNCO_MAX_RESPONSE_BYTES for an answer too large)"
            )
        ) from None
    except requests.RequestException as error:
        raise ConfigError(
            scrub(
                f"got no answer from {settings.api_url}: {brief_cause(error)}; check SUNCO_API_URL, that the host is "
                f"reachable from here, and SUNCO_TIMEOUT (now {settings.timeout[0]:g},{settings.timeout[1]:g} s)"
            )
        ) from None
    reason = verdict(exchange, settings)
    if reason is not None:
        raise ConfigError(scrub(f"nothing was recorded: {reason}"))
