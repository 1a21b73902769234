"""Connection settings, read from ``SUNCO_*`` environment variables.

Any missing or malformed value is a :class:`ConfigError` whose message is one line naming the
variable and what it accepts; the plugin turns it into a pytest usage error, never a traceback.
"""

from __future__ import annotations

import base64
import json
import re
import warnings
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt

from conformance.failures import ConfigError

AUTH_MODES = ("basic", "jwt")
JWT_SCOPES = ("app", "account")
# Short names for the documented hosts, so a user can write SUNCO_API_URL=eu-1.
REGIONS = {
    "us": "https://api.smooch.io",
    "eu-1": "https://api.eu-1.smooch.io",
}
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_HEX24 = re.compile(r"^[0-9a-f]{24}$")
_SUBDOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# (connect, read) seconds: a host that never answers costs this, not forever.
DEFAULT_TIMEOUT = (10.0, 30.0)
MAX_TIMEOUT = 600.0
# The most bytes an answer may have, decompressed: the largest documented answer (a page of messages)
# is a small fraction of it; past it, reading stops and the exchange is a server fault.
DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024
TIMEOUT_FORM = "seconds, e.g. 10, or connect,read seconds, e.g. 5,30 (each above 0 and at most 600)"
# The documentation serves these from its OAuth bridge (SUNCO_OAUTH_URL), not from the app's API URL.
OAUTH_TAG = "OAuth Endpoints"
OAUTH_VARIABLES = ("SUNCO_OAUTH_CLIENT_ID", "SUNCO_OAUTH_CLIENT_SECRET", "SUNCO_OAUTH_REDIRECT_URI")


@dataclass(frozen=True)
class OAuthClient:
    """A partner integration's OAuth client: what Authorize and Get Token are called with."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str


@dataclass(frozen=True)
class Settings:
    api_url: str
    app_id: str
    # Kept out of repr: a traceback that shows a Settings must not show its secrets.
    key_id: str = field(repr=False)
    key_secret: str = field(repr=False)
    auth: str = "basic"
    scope: str = "app"
    # An account-scope key, for the operations app keys may not call (apps, app keys).
    account_key_id: str | None = field(default=None, repr=False)
    account_key_secret: str | None = field(default=None, repr=False)
    # Real channel settings per integration type, merged into the bodies that must be accepted.
    channels: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, repr=False)
    timeout: tuple[float, float] = DEFAULT_TIMEOUT
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    # The target's documented limits, lower on a sandbox started with --max-messages/--message-page-size.
    max_messages: int = 30_000
    message_page_size: int = 100
    # Optional, each enabling tests a live run skips without it (the summary names the variable).
    oauth: OAuthClient | None = field(default=None, repr=False)
    oauth_url: str | None = None
    sdk_user_id: str | None = None
    zendesk_id: str | None = None
    # A public URL that forwards to the webhook receiver, and the local port the receiver listens on.
    webhook_url: str | None = None
    webhook_port: int = 0

    @property
    def secrets(self) -> tuple[str | int | float, ...]:
        """Values that must never reach a file: the keys, their encoded credentials, every channel value."""
        keys = [self.key_id, self.key_secret, self.authorization().split(" ", 1)[-1]]
        if self.account_key_id and self.account_key_secret:
            keys += [self.account_key_id, self.account_key_secret, self.authorization(account=True).split(" ", 1)[-1]]
        if self.oauth is not None:
            keys.append(self.oauth.client_secret)
        leaves = (value for fields in self.channels.values() for value in _leaves(fields))
        return tuple(value for value in (*keys, *leaves) if value != "")

    def base_url(self, tag: str = "") -> str:
        """Where an operation of ``tag`` is served: the OAuth endpoints may have a host of their own."""
        return (self.oauth_url or self.api_url) if tag == OAUTH_TAG else self.api_url

    @property
    def public(self) -> tuple[str, ...]:
        """Values pinned in every cassette, so never scrubbed: the API URL and the app id."""
        return (self.api_url, self.app_id)

    @property
    def webhooks_reachable(self) -> bool:
        """Whether the API can reach the webhook receiver: through SUNCO_WEBHOOK_URL, or on this machine."""
        return bool(self.webhook_url) or (urlsplit(self.api_url).hostname or "") in LOOPBACK

    def authorization(self, *, account: bool = False) -> str:
        """The Authorization header: Basic over the UTF-8 bytes of ``id:secret``, or an HS256 JWT.

        ``account`` uses the account-scope key (apps, app keys, other apps than the configured one).
        """
        return self.authorization_with(*self.key(account=account))

    def key(self, *, account: bool = False) -> tuple[str, str, str]:
        """(id, secret, scope) of the configured key, or of the account key when ``account`` and one is set."""
        if account and self.account_key_id:
            return self.account_key_id, self.account_key_secret or "", "account"
        return self.key_id, self.key_secret, self.scope

    def authorization_with(self, key_id: str, secret: str, scope: str, mode: str | None = None) -> str:
        """The Authorization header for another key (an integration key a test created), in the settings'
        mode or in ``mode`` (basic or jwt: a test sending wrong credentials of both kinds)."""
        if (mode or self.auth) == "jwt":
            with warnings.catch_warnings():
                # PyJWT's advice on short HMAC keys is the key owner's business, not the suite's.
                warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
                token = jwt.encode({"scope": scope}, secret, algorithm="HS256", headers={"kid": key_id})
            return f"Bearer {token}"
        pair = f"{key_id}:{secret}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    @classmethod
    def from_env(cls, env: Mapping[str, str], channel_types: Collection[str] = ()) -> Settings:
        """Settings from ``SUNCO_*`` variables; ``channel_types`` are the names SUNCO_CHANNELS may use."""
        extra: dict[str, Any] = {**account_key_from_env(env), **optional_from_env(env)}
        return cls(
            api_url=api_url_from_env(env),
            app_id=_app_id(env),
            key_id=_key_id(env),
            key_secret=_required(env, "SUNCO_KEY_SECRET", "the API key secret"),
            auth=_choice(env, "SUNCO_AUTH", AUTH_MODES, "basic"),
            scope=_choice(env, "SUNCO_JWT_SCOPE", JWT_SCOPES, "app"),
            channels=channels_from_env(env, channel_types),
            timeout=timeout_from_env(env),
            max_response_bytes=_positive(
                env,
                "SUNCO_MAX_RESPONSE_BYTES",
                DEFAULT_MAX_RESPONSE_BYTES,
                f"the most bytes an answer may have, decompressed (default {DEFAULT_MAX_RESPONSE_BYTES})",
            ),
            max_messages=_positive(env, "SUNCO_MAX_MESSAGES", 30_000, "the messages a conversation may hold"),
            message_page_size=_positive(env, "SUNCO_MESSAGE_PAGE_SIZE", 100, "the messages per List Messages page"),
            webhook_url=webhook_url_from_env(env),
            webhook_port=webhook_port_from_env(env),
            **extra,
        )


def webhook_url_from_env(env: Mapping[str, str]) -> str | None:
    """``SUNCO_WEBHOOK_URL``: a public http(s) URL that forwards to the webhook receiver."""
    raw = env.get("SUNCO_WEBHOOK_URL", "").strip()
    if not raw:
        return None
    _without_userinfo("SUNCO_WEBHOOK_URL", raw)
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
        raise ConfigError(
            f"SUNCO_WEBHOOK_URL={raw!r} is not an http(s) URL: use the public URL that forwards to "
            "the receiver's SUNCO_WEBHOOK_PORT, e.g. https://abc.example-tunnel.io/webhooks"
        )
    return raw


def webhook_port_from_env(env: Mapping[str, str]) -> int:
    """``SUNCO_WEBHOOK_PORT``: the port the webhook receiver listens on (127.0.0.1); 0 picks a free one."""
    raw = env.get("SUNCO_WEBHOOK_PORT", "").strip() or "0"
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 5 and int(raw) <= 65535):
        raise ConfigError(f"SUNCO_WEBHOOK_PORT={raw!r} is not allowed: use a port from 0 to 65535 (0 picks a free one)")
    return int(raw)


def account_key_from_env(env: Mapping[str, str]) -> dict[str, str]:
    """``SUNCO_ACCOUNT_KEY_ID`` and ``SUNCO_ACCOUNT_KEY_SECRET``: both or neither."""
    key_id, secret = env.get("SUNCO_ACCOUNT_KEY_ID", "").strip(), env.get("SUNCO_ACCOUNT_KEY_SECRET", "").strip()
    if not key_id and not secret:
        return {}
    if not key_id or not secret:
        missing = "SUNCO_ACCOUNT_KEY_ID" if not key_id else "SUNCO_ACCOUNT_KEY_SECRET"
        raise ConfigError(f"{missing} is not set: an account key needs both its id (act_…) and its secret")
    return {
        "account_key_id": _required(env, "SUNCO_ACCOUNT_KEY_ID", "the account key id, e.g. act_5f0c…"),
        "account_key_secret": _required(env, "SUNCO_ACCOUNT_KEY_SECRET", "the account key secret"),
    }


def optional_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """The settings only some tests need: an OAuth client, an SDK user, a Zendesk-linked user."""
    found: dict[str, Any] = {}
    given = [name for name in OAUTH_VARIABLES if env.get(name, "").strip()]
    if given and len(given) < len(OAUTH_VARIABLES):
        missing = next(name for name in OAUTH_VARIABLES if name not in given)
        raise ConfigError(f"{missing} is not set: an OAuth client needs {', '.join(OAUTH_VARIABLES)} together")
    if given:
        found["oauth"] = OAuthClient(
            client_id=_required(env, "SUNCO_OAUTH_CLIENT_ID", "your OAuth client id"),
            client_secret=_required(env, "SUNCO_OAUTH_CLIENT_SECRET", "your OAuth client secret"),
            redirect_uri=_redirect_uri(env),
        )
    if env.get("SUNCO_OAUTH_URL", "").strip():
        found["oauth_url"] = _http_url(env, "SUNCO_OAUTH_URL", "e.g. https://oauth-bridge.zendesk.com/sc")
    if env.get("SUNCO_SDK_USER_ID", "").strip():
        meaning = "the id or externalId of a user who has signed in through an SDK (so has devices)"
        found["sdk_user_id"] = _required(env, "SUNCO_SDK_USER_ID", meaning)
    zendesk_id = env.get("SUNCO_ZENDESK_ID", "").strip()
    if zendesk_id:
        if not (zendesk_id.isascii() and zendesk_id.isdigit()):
            raise ConfigError(
                f"SUNCO_ZENDESK_ID={zendesk_id[:40]!r} is malformed: use the digits of a Zendesk Support user id"
            )
        found["zendesk_id"] = zendesk_id
    return found


def _redirect_uri(env: Mapping[str, str]) -> str:
    value = _required(env, "SUNCO_OAUTH_REDIRECT_URI", "a redirect URI registered for your OAuth client")
    parts = urlsplit(value)
    # RFC 6749 section 3.1.2: an absolute URI without a fragment.
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
        raise ConfigError(
            f"SUNCO_OAUTH_REDIRECT_URI={value[:80]!r} is not allowed: use an absolute http(s) URI without a fragment"
        )
    return value


def _http_url(env: Mapping[str, str], name: str, example: str) -> str:
    raw = env.get(name, "").strip()
    _without_userinfo(name, raw)
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(
            f"{name}={raw[:80]!r} is not allowed: use an http(s) URL without query or fragment, {example}"
        )
    return raw.rstrip("/")


def _leaves(value: Any) -> Iterator[Any]:
    """Every string and number inside a JSON value (booleans and null hold no secret)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, str | int | float) and not isinstance(value, bool):
        yield value


def _required(env: Mapping[str, str], name: str, meaning: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set: set it to {meaning}")
    if any(character.isspace() for character in value):
        raise ConfigError(f"{name} contains white space: set it to {meaning}")
    _utf8(name, value, meaning)
    return value


def _utf8(name: str, value: str, meaning: str) -> None:
    # Credentials travel as UTF-8; bytes that are not UTF-8 reach os.environ as lone surrogates.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ConfigError(
            f"{name} is not valid UTF-8 text (a stray byte at position {error.start}): set it to {meaning}"
        ) from None


def _positive(env: Mapping[str, str], name: str, default: int, meaning: str) -> int:
    value = env.get(name, "").strip()
    if not value:
        return default
    if not (value.isascii() and value.isdigit() and len(value) < 10 and int(value) > 0):
        raise ConfigError(f"{name}={value!r} is not allowed: set it to a positive integer, {meaning}")
    return int(value)


def _key_id(env: Mapping[str, str]) -> str:
    meaning = "the API key id, e.g. app_5f0c… or act_5f0c…"
    value = _required(env, "SUNCO_KEY_ID", meaning)
    # Basic credentials split the key id from the secret at the first colon.
    if ":" in value:
        raise ConfigError(f"SUNCO_KEY_ID contains ':': set it to {meaning}")
    return value


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = env.get(name, "").strip().lower() or default
    if value not in allowed:
        raise ConfigError(f"{name}={value!r} is not allowed: use one of {', '.join(allowed)}")
    return value


def _app_id(env: Mapping[str, str]) -> str:
    value = _required(env, "SUNCO_APP_ID", "your app id (24 hexadecimal characters)")
    if not _HEX24.match(value):
        raise ConfigError(f"SUNCO_APP_ID={value!r} is malformed: an app id is 24 lowercase hexadecimal characters")
    return value


def _without_userinfo(name: str, raw: str) -> None:
    """Refuse a URL that carries a user or password: requests would send them instead of the key, and every
    message that shows the URL would show them too. The message shows the URL without them."""
    parts = urlsplit(raw)
    if "@" not in parts.netloc:
        return
    shown = parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()
    raise ConfigError(
        f"{name} must not carry a user or password before '@' (given for {shown!r}): the suite authenticates "
        "with SUNCO_KEY_ID and SUNCO_KEY_SECRET; remove them from the URL"
    )


def api_url_from_env(env: Mapping[str, str]) -> str:
    """The base URL: a full URL, a region name, or a Zendesk subdomain."""
    raw = env.get("SUNCO_API_URL", "").strip()
    subdomain = env.get("SUNCO_SUBDOMAIN", "").strip().lower()
    if not raw and subdomain:
        if not _SUBDOMAIN.match(subdomain):
            raise ConfigError(f"SUNCO_SUBDOMAIN={subdomain!r} is malformed: use letters, digits and '-'")
        return f"https://{subdomain}.zendesk.com/sc"
    if not raw:
        raise ConfigError(
            "SUNCO_API_URL is not set: use https://{subdomain}.zendesk.com/sc, "
            f"{', '.join(REGIONS)} or any http(s) URL (or set SUNCO_SUBDOMAIN)"
        )
    if raw.lower() in REGIONS:
        return REGIONS[raw.lower()]
    _without_userinfo("SUNCO_API_URL", raw)
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"SUNCO_API_URL={raw!r} is not an http(s) URL: use e.g. https://api.smooch.io "
            f"or one of {', '.join(REGIONS)}"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"SUNCO_API_URL={raw!r} must not carry a query or fragment")
    return raw.rstrip("/")


def timeout_from_env(env: Mapping[str, str]) -> tuple[float, float]:
    """``SUNCO_TIMEOUT``: ``10`` (connect and read) or ``5,30`` (connect, then read)."""
    raw = env.get("SUNCO_TIMEOUT", "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    parts = [part.strip() for part in raw.split(",")]
    try:
        values = [float(part) for part in parts]
    except ValueError:
        values = []
    if len(values) not in (1, 2) or not all(0 < value <= MAX_TIMEOUT for value in values):
        raise ConfigError(f"SUNCO_TIMEOUT={raw!r} is malformed: use {TIMEOUT_FORM}")
    return (values[0], values[-1])


def channels_from_env(env: Mapping[str, str], types: Collection[str] = ()) -> dict[str, dict[str, Any]]:
    """``SUNCO_CHANNELS``: a JSON file of real channel settings, ``{"telegram": {"token": "…"}}``."""
    name = env.get("SUNCO_CHANNELS", "").strip()
    if not name:
        return {}
    try:
        loaded = json.loads(Path(name).read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"SUNCO_CHANNELS={name!r} cannot be read: {error.strerror}") from None
    except ValueError as error:
        raise ConfigError(f"SUNCO_CHANNELS={name!r} is not valid JSON: {error}") from None
    if not isinstance(loaded, dict) or not all(isinstance(v, dict) for v in loaded.values()):
        raise ConfigError(
            f'SUNCO_CHANNELS={name!r} must hold an object of objects, e.g. {{"telegram": {{"token": "…"}}}}'
        )
    unknown = sorted(set(loaded) - set(types)) if types else []
    if unknown:
        raise ConfigError(f"SUNCO_CHANNELS names unknown channel types {unknown}: use {', '.join(types)}")
    return loaded
