"""What a session's symbols stand for: written when a variant is pinned, resolved when it is sent again.

See :mod:`conformance.variants.symbols` for how symbols are written. The kinds:

- ``target`` and ``oauth``: the API's base URL and the OAuth endpoints' (the client's settings,
  so in replay the recorded target);
- ``webhooks``: where the test's webhooks point (the receiver, or what forwards to it);
- ``setting:NAME``: a setting that is not secret (``app_id``, ``sdk_user_id``, ``oauth.client_id``…);
  a recording keeps its value under the pins' ``settings`` for replay;
- ``secret:NAME``: a secret setting (``key_secret``, ``oauth.client_secret``, ``channels.TYPE.FIELD``):
  filled in from the settings when sent live; in replay it becomes the placeholder the recording's
  scrubber made of it, so the request matches;
- ``created:RESOURCE:N``: the id of the Nth record (from 0) of RESOURCE this test created;
- ``answer:OPERATION:N:WHERE``: a value the server chose in the Nth answer of OPERATION in this
  test, at a JSON pointer of its body, or ``location:NAME``, a parameter of its Location.

Another kind (a run tag's run part, say) is one more branch in :meth:`Symbols._lookup` and, if a
recording must write it, one more source in :meth:`Symbols.known`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from conformance import pointer
from conformance.contract.resources import RESOURCES, Resource
from conformance.model import Exchange, body_as_json, body_from_json
from conformance.scrubbing.placeholders import SECRET_PLACEHOLDER, vocabulary
from conformance.scrubbing.scrubber import Scrubber
from conformance.variants.symbols import DISTINCT

if TYPE_CHECKING:
    from conformance.transport.settings import Settings

# Stands for every secret in replay, then scrubbed as the secret was: long and distinct, never sent live.
MARKER = "replay-stands-for-a-secret-7f3c9e1a5b"
SETTINGS_KEY = "settings"
PUBLIC_SETTINGS = ("app_id", "sdk_user_id", "zendesk_id", "oauth.client_id", "oauth.redirect_uri")
SECRET_SETTINGS = ("key_id", "key_secret", "account_key_id", "account_key_secret", "oauth.client_secret")
# Values a server chose, by the name of the field that holds them.
_CHOSEN = re.compile(r"^(id|.*Id|.*Url)$")
_CREATES: dict[str, Resource] = {r.operations["create"]: r for r in RESOURCES if "create" in r.operations}


class Symbols:
    """What this test's symbols stand for: its answers, its settings, and where its webhooks point.

    ``target`` gives the client's settings (live, or the recorded target in replay); ``webhooks`` where
    the test's webhooks point (opening its inbox), ``webhooks_open`` the same if the inbox is open, else None.
    """

    def __init__(
        self,
        *,
        recording: bool,
        settings: Settings | None,
        answered: Sequence[Exchange],
        target: Callable[[], Settings],
        webhooks: Callable[[], str],
        webhooks_open: Callable[[], str | None],
    ) -> None:
        self.recording = recording
        self.settings = settings
        # Every answer the test got, in order; the session appends to it.
        self.answered = answered
        self._target = target
        self._webhooks = webhooks
        self._webhooks_open = webhooks_open

    def known(self) -> dict[str, str]:
        """While recording: each value this test holds that it did not draw (concrete value -> symbol name)."""
        found: dict[str, str] = {}
        for name, value in _answers(self.answered):
            found.setdefault(value, name)
        for name, value in _created(self.answered):
            found[value] = name
        settings = self.settings
        if settings is not None:
            for name in SECRET_SETTINGS:
                found.update(_setting_entry(settings, name, "secret"))
            for path, value in _leaves(settings.channels, "channels"):
                if isinstance(value, str) and value:
                    found[value] = f"secret:{path}"
            for name in PUBLIC_SETTINGS:
                found.update(_setting_entry(settings, name, "setting"))
            if settings.oauth_url:
                found[settings.oauth_url.rstrip("/")] = "oauth"
            found[settings.api_url.rstrip("/")] = "target"
        webhooks = self._webhooks_open()
        if webhooks is not None:
            found[webhooks] = "webhooks"
        # Never one of the API's own words (an enum value): the scrubber cannot tell those from structure either.
        words = vocabulary()
        return {value: name for value, name in found.items() if value and value not in words}

    def lookup(self, held: dict[str, Any]) -> Callable[[str], str | None]:
        """What each symbol stands for now: live, from the settings and this run; in replay, as recorded."""
        return lambda name: self._lookup(held, name)

    def remember(self, held: dict[str, Any], names: list[str]) -> None:
        """While recording, keep the value of each public setting these symbols name, for replay to read."""
        for name in names:
            if name.startswith("setting:"):
                self._lookup(held, name)

    def _lookup(self, held: dict[str, Any], name: str) -> str | None:
        kind, _, argument = name.partition(":")
        if kind == "target":
            return self._target().api_url.rstrip("/")
        if kind == "oauth":
            oauth_url = self._target().oauth_url
            return oauth_url.rstrip("/") if oauth_url else None
        if kind == "webhooks":
            return self._webhooks()
        if kind == "created":
            resource, _, index = argument.rpartition(":")
            made = [value for symbol, value in _created(self.answered) if symbol.startswith(f"created:{resource}:")]
            return made[int(index)] if index.isdigit() and int(index) < len(made) else None
        if kind == "answer":
            return _answer(self.answered, argument)
        if kind == "setting" and argument == "app_id":
            return self._target().app_id
        if kind == "setting":
            kept: dict[str, str] = held.setdefault(SETTINGS_KEY, {})
            if not self.recording:
                return kept.get(argument)
            value = _setting(self.settings, argument)
            if isinstance(value, str):
                kept[argument] = value  # the new recording's replay reads it from here
                return value
            return None
        if kind == "secret":
            if not self.recording:
                return MARKER
            value = _setting(self.settings, argument)
            return value if isinstance(value, str) and value else None
        return None


def as_replayed(pinned: dict[str, Any]) -> dict[str, Any]:
    """A resolved variant in replay: the secrets' stand-in scrubbed as the recording's scrubber scrubbed them."""
    if MARKER not in repr(pinned):
        return pinned
    scrubbed = dict(pinned)
    scrubbed["body"] = body_as_json(body_from_json(pinned["body"]), _marker_scrubber().json_value)
    if "params" in pinned:
        scrubbed["params"] = {
            kind: {name: str(value).replace(MARKER, SECRET_PLACEHOLDER) for name, value in values.items()}
            for kind, values in pinned["params"].items()
        }
    return scrubbed


@cache
def _marker_scrubber() -> Scrubber:
    return Scrubber([MARKER])


# -- sources -----------------------------------------------------------------------------------


def _created(answered: Sequence[Exchange]) -> Iterator[tuple[str, str]]:
    counts: dict[str, int] = {}
    for exchange in answered:
        item = _CREATES.get(exchange.operation.operation_id)
        if item is None or not 200 <= exchange.status < 300 or not isinstance(exchange.body, dict):
            continue
        try:
            record = pointer.resolve(exchange.body, item.record_pointer)
        except (KeyError, IndexError, TypeError, ValueError):
            continue
        if isinstance(record, dict) and isinstance(record.get("id"), str):
            index = counts.get(item.name, 0)
            counts[item.name] = index + 1
            yield f"created:{item.name}:{index}", record["id"]


def _answers(answered: Sequence[Exchange]) -> Iterator[tuple[str, str]]:
    """Values the server chose: an answer's ids and URLs that no request of the test sent before."""
    counts: dict[str, int] = {}
    sent: list[str] = []
    for exchange in answered:
        op = exchange.operation.operation_id
        index = counts.get(op, 0)
        counts[op] = index + 1
        sent += [exchange.url, repr(exchange.request_body)]
        if 200 <= exchange.status < 300 and isinstance(exchange.body, dict | list):
            for where, value in _leaves(exchange.body, ""):
                field = pointer.tokens(where)[-1] if where else ""
                if not isinstance(value, str) or len(value) < DISTINCT or not _CHOSEN.match(field):
                    continue
                if not any(value in text for text in sent):
                    yield f"answer:{op}:{index}:{where}", value
        elif 300 <= exchange.status < 400:
            for param, value in _location(exchange).items():
                if param == "code":
                    yield f"answer:{op}:{index}:location:{param}", value


def _answer(answered: Sequence[Exchange], argument: str) -> str | None:
    op, _, rest = argument.partition(":")
    index, _, where = rest.partition(":")
    if not index.isdigit():
        return None
    mine = [exchange for exchange in answered if exchange.operation.operation_id == op]
    if int(index) >= len(mine):
        return None
    exchange = mine[int(index)]
    if where.startswith("location:"):
        return _location(exchange).get(where.removeprefix("location:"))
    try:
        value = pointer.resolve(exchange.body, where)
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return value if isinstance(value, str) else None


def _location(exchange: Exchange) -> dict[str, str]:
    location = next((str(v) for k, v in exchange.headers.items() if k.lower() == "location"), "")
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def _leaves(value: Any, at: str) -> Iterator[tuple[str, Any]]:
    """Every leaf with where it is: a JSON pointer (``at`` "") or a dotted path (``at`` a name)."""
    items = value.items() if isinstance(value, Mapping) else enumerate(value) if isinstance(value, list) else None
    if items is None:
        yield at, value
        return
    for key, sub in items:
        yield from _leaves(sub, pointer.child(at, key) if not at or at.startswith("/") else f"{at}.{key}")


def _setting(settings: Any, path: str) -> Any:
    value = settings
    for part in path.split("."):
        if value is None:
            return None
        if dataclasses.is_dataclass(value):
            value = getattr(value, part, None)
        elif isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _setting_entry(settings: Any, name: str, kind: str) -> dict[str, str]:
    value = _setting(settings, name)
    return {value: f"{kind}:{name}"} if isinstance(value, str) and value else {}
