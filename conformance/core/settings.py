"""Connection settings, read from ``SUNCO_*`` environment variables.

Any missing or malformed value is a :class:`ConfigError` whose message is one line naming the
variable and what it accepts; the plugin turns it into a pytest usage error, never a traceback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance.core.failures import ConfigError

AUTH_MODES = ("basic", "jwt")
JWT_SCOPES = ("app", "account")
# Short names for the documented hosts, so a user can write SUNCO_API_URL=eu-1.
REGIONS = {
    "us": "https://api.smooch.io",
    "eu-1": "https://api.eu-1.smooch.io",
}
_HEX24 = re.compile(r"^[0-9a-f]{24}$")
_SUBDOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# (connect, read) seconds: a host that never answers costs this, not forever.
DEFAULT_TIMEOUT = (10.0, 30.0)
MAX_TIMEOUT = 600.0
TIMEOUT_FORM = "seconds, e.g. 10, or connect,read seconds, e.g. 5,30 (each above 0 and at most 600)"


@dataclass(frozen=True)
class Settings:
    api_url: str
    app_id: str
    key_id: str
    key_secret: str
    auth: str = "basic"
    scope: str = "app"
    # Real channel settings per integration type, merged into the bodies that must be accepted.
    channels: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    timeout: tuple[float, float] = DEFAULT_TIMEOUT

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never reach a file."""
        from_channels = [
            value for fields in self.channels.values() for value in fields.values() if isinstance(value, str)
        ]
        return tuple(value for value in (self.key_id, self.key_secret, *from_channels) if value)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        return cls(
            api_url=api_url_from_env(env),
            app_id=_app_id(env),
            key_id=_required(env, "SUNCO_KEY_ID", "the API key id, e.g. app_5f0c… or act_5f0c…"),
            key_secret=_required(env, "SUNCO_KEY_SECRET", "the API key secret"),
            auth=_choice(env, "SUNCO_AUTH", AUTH_MODES, "basic"),
            scope=_choice(env, "SUNCO_JWT_SCOPE", JWT_SCOPES, "app"),
            channels=channels_from_env(env),
            timeout=timeout_from_env(env),
        )


def _required(env: Mapping[str, str], name: str, meaning: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set: set it to {meaning}")
    if any(character.isspace() for character in value):
        raise ConfigError(f"{name} contains white space: set it to {meaning}")
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


def channels_from_env(env: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """``SUNCO_CHANNELS``: a JSON file of real channel settings, ``{"telegram": {"token": "…"}}``."""
    name = env.get("SUNCO_CHANNELS", "").strip()
    if not name:
        return {}
    from conformance.spec.schemas import resolve

    types = resolve("integration.json#/$defs/types")["enum"]
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
    unknown = sorted(set(loaded) - set(types))
    if unknown:
        raise ConfigError(f"SUNCO_CHANNELS names unknown integration types {unknown}: use {', '.join(types)}")
    return loaded
