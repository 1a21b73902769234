"""Secrets out before anything is written.

Scrubbing works on structure first. In JSON (request and response bodies, pinned variants, the
report, JUnit properties) a credential field's value, and any value equal to a known secret (a
``SUNCO_*`` secret or any leaf of ``SUNCO_CHANNELS``: nested, numeric, short), becomes a
placeholder that satisfies that field's schema (:mod:`conformance.scrubbing.placeholders`), and so
do two values of one object that are the halves of a secret. Text inside JSON strings and free
text (failure messages, tracebacks, captured output, progress lines) loses every known secret,
its encoded forms (:func:`encoded_forms`), its long halves, long fragments of it, and any JWT a
known secret signed. Headers lose the same distinctive forms (a short secret only as the whole value); URIs and the
serialized cassette get the exact secret and its distinctive forms replaced, as a last guard,
and never in a path literal or a field name.

A secret that is one of the API's own words (a field name, enum value or path literal, say a key
secret ``integration``) cannot be told from structure, so it is never replaced by value.
Placeholders are stable: scrubbing is idempotent, so a replayed request matches its recording.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import html
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote, unquote_plus, urlencode, urlsplit, urlunsplit

import ahocorasick
from vcr.request import Request
from vcr.serialize import CASSETTE_FORMAT_VERSION
from vcr.serializers import compat

from conformance.cassettes.vcr_adapter import request_as_dict
from conformance.contract.schemas import Contract, shipped
from conformance.scrubbing.placeholders import PLACEHOLDER, SECRET_PLACEHOLDER, placeholder, vocabulary
from conformance.transport.client import TEST_HEADER
from conformance.transport.headers import header_items, headers_dict

__all__ = ["PLACEHOLDER", "SECRET_PLACEHOLDER", "Scrubber", "credential_fields"]

# Server-generated secrets: read-only, so not in the writeOnly set, yet still credentials.
RESPONSE_SECRET_FIELDS = frozenset({"secret", "webhookSecret", "access_token", "refresh_token"})
# In an OAuth token request (an object with grant_type) these are credentials too; "code" is
# one only there, since the error envelope has a "code" of its own.
TOKEN_REQUEST_SECRETS = frozenset({"code", "code_verifier", "refresh_token", "client_secret"})
# Query (or fragment) parameters of a redirect's Location that carry a credential.
REDIRECT_SECRETS = frozenset({"code", "access_token", "id_token", "refresh_token"})
FORM_TYPE = "application/x-www-form-urlencoded"
# Credentials the documentation does not mark writeOnly (so the API may even return them).
UNMARKED_CREDENTIALS = frozenset(
    {
        "channelSecret",
        "channelAccessToken",
        "switcherSecret",
        "accountManagementAccessToken",
        "authenticationMessageSecret",
    }
)
# writeOnly because a response does not repeat them, not because they are secret: they name records
# (a participant's user, a brand, a quoted message), and a test may need them again to list or find.
WRITE_ONLY_IDENTIFIERS = frozenset({"userExternalId", "brandId", "quotedMessageId", "defaultResponderId"})
# Write-only for another reason than secrecy (the API renders it into another field).
NOT_SECRET = frozenset({"markdownText"})
# The test's name is for the sandbox only: recorded, it would tie a cassette to where its test lives.
DROPPED_HEADERS = ("cookie", "set-cookie", "x-api-key", TEST_HEADER.lower())
# Shorter secrets (or ones inside an API word) are replaced in text only as whole words.
DISTINCT = 8
# A run this long copied from a secret is a leak too (an error title may echo a secret cut short).
FRAGMENT = 16
_KEEP = r"(?P<keep><scrubbed[^<>\s]*>)"
_PLACEHOLDERS = re.compile(_KEEP)
_PATH_SAFE = "/<>:@!$&'()*+,;=-._~"
_URLSAFE = str.maketrans("+/", "-_")
_PERCENT = re.compile(r"%[0-9A-F]{2}")
# A JWT (header.payload.signature, each base64url): scrubbed whole when a known secret signed it.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+")
_JWT_HASHES = (hashlib.sha256, hashlib.sha384, hashlib.sha512)
# A secret split across two fields of one JSON object is found when each part is at least this long.
SPLIT = 4
# A leading or trailing part of a secret this long, and at least half of it, goes from free text.
HALF = 12
# Which scrubbing a form belongs to: the last guard, headers, free text; and short secrets, whole words only.
_GUARD, _HEADER, _TEXT, _WHOLE = 1, 2, 4, 8
_WORD_CHAR = re.compile(r"\w")


# A value a pinned body lost to a placeholder: field name, whether an array item, the value, its placeholder.
Replaced = tuple[str | None, bool, Any, Any]


@dataclass(frozen=True)
class _Pin:
    keep: Callable[[str], bool]
    replaced: list[Replaced]


def credential_fields(contract: Contract | None = None) -> frozenset[str]:
    """Every writeOnly property name of every request schema in the index, and known credentials."""
    chosen = contract or shipped()
    names: set[str] = set()
    for op in chosen.operations.values():
        if op.request:
            names |= chosen.write_only_fields(op.request)
    return frozenset((names - WRITE_ONLY_IDENTIFIERS - NOT_SECRET) | UNMARKED_CREDENTIALS | RESPONSE_SECRET_FIELDS)


def _replace_in(body: bytes | str, old: str, new: str) -> bytes | str:
    if isinstance(body, bytes):
        return body.replace(old.encode(), new.encode())
    return body.replace(old, new)


def credential_values(value: Any, fields: frozenset[str], hidden: bool = False) -> Iterator[object]:
    """Every value a JSON value holds under a credential field's name, at any depth."""
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from credential_values(sub, fields, hidden or key in fields)
    elif isinstance(value, list):
        for sub in value:
            yield from credential_values(sub, fields, hidden)
    elif hidden:
        yield value


def canonical(value: object) -> str | None:
    """How a known secret is compared: text as it is, numbers as JSON; other values hold no secret."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return json.dumps(value)
    return value if isinstance(value, str) and value else None


def _base64_alignments(raw: bytes) -> set[str]:
    """Base64 of ``raw`` wherever it starts in a larger blob (``Basic base64("user:" + secret)``): for each
    of the three byte offsets, only the characters that depend on ``raw`` alone (its stable middle)."""
    found = {base64.b64encode(raw).decode("ascii").rstrip("=")}
    for offset, skip in ((0, 0), (1, 2), (2, 3)):
        whole = base64.b64encode(b"\0" * offset + raw).decode("ascii")
        found.add(whole[skip : (offset + len(raw)) // 3 * 4])
    return found | {form.translate(_URLSAFE) for form in found}


def _html_forms(secret: str) -> set[str]:
    """The secret HTML-escaped: named entities, and decimal and hex references for its special characters."""
    special = {char for char in secret if char in "&<>\"'" or ord(char) > 127}
    if not special:
        return set()
    styles: list[Callable[[str], str]] = [
        lambda char: f"&#{ord(char)};",
        lambda char: f"&#x{ord(char):x};",
        lambda char: f"&#X{ord(char):X};",
    ]
    found = {html.escape(secret), html.escape(secret, quote=False)}
    found |= {"".join(style(char) if char in special else char for char in secret) for style in styles}
    found |= {"".join(style(char) if char in "&<>\"'" else char for char in secret) for style in styles}
    return found


def _misread(secret: str) -> set[str]:
    """The secret's UTF-8 bytes shown as Latin-1 or cp1252 (a text/plain body without a charset)."""
    raw = secret.encode("utf-8", "surrogatepass")
    return {raw.decode("latin-1"), raw.decode("cp1252", "replace")} - {secret}


def encoded_forms(secret: str) -> set[str]:
    """The secret as it may be written: plain, JSON-escaped, URL-encoded (either case), base64 at any
    alignment, hex, HTML-escaped, and its UTF-8 bytes misread as Latin-1 or cp1252 (and those escaped)."""
    raw = secret.encode("utf-8", "surrogatepass")
    forms = {secret, *_misread(secret)}
    forms |= {json.dumps(form)[1:-1] for form in forms} | {json.dumps(form, ensure_ascii=False)[1:-1] for form in forms}
    percent = {quote(secret, safe=""), quote_plus(secret)}
    forms |= percent | {_PERCENT.sub(lambda found: found.group().lower(), form) for form in percent}
    forms |= _base64_alignments(raw) | {raw.hex(), raw.hex().upper()} | _html_forms(secret)
    return {form for form in forms if form}


def basic_credential(key_id: str, secret: str) -> str:
    """What follows ``Basic`` in an Authorization header for this key."""
    return base64.b64encode(f"{key_id}:{secret}".encode("utf-8", "surrogatepass")).decode("ascii")


def _whole_word(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is not part of a longer word (as the regex ``\\b`` would see it)."""
    before = start == 0 or not (_WORD_CHAR.match(text[start]) and _WORD_CHAR.match(text[start - 1]))
    after = end == len(text) or not (_WORD_CHAR.match(text[end - 1]) and _WORD_CHAR.match(text[end]))
    return bool(before and after)


def _kinds_automaton(kinds: dict[str, int]) -> Any:
    """As :func:`_automaton`, each word's value its length and the kinds of scrubbing it belongs to."""
    automaton = ahocorasick.Automaton()
    for word, mask in kinds.items():
        automaton.add_word(word, (len(word), mask))
    if len(automaton) == 0:
        return None
    automaton.make_automaton()
    return automaton


def _automaton(words: Iterable[str]) -> Any:
    """An Aho-Corasick automaton that finds every one of ``words`` in a text in one pass, or None for none."""
    automaton = ahocorasick.Automaton()
    for word in words:
        automaton.add_word(word, len(word))
    if len(automaton) == 0:
        return None
    automaton.make_automaton()
    return automaton


class Scrubber:
    def __init__(
        self,
        secrets: Iterable[object] = (),
        fields: frozenset[str] | None = None,
        public: Iterable[str] = (),
        *,
        contract: Contract | None = None,
    ) -> None:
        """``public`` values (the API URL, the app id) are pinned in cassettes: no part of one is scrubbed.

        A key id is often minted beside its app id and shares a long run of characters with it.
        ``contract`` names the credential fields and the placeholders (the shipped one if none is given).
        """
        self.contract = contract or shipped()
        self.fields = credential_fields(self.contract) if fields is None else fields
        self._public = tuple(public)
        self._words = vocabulary(self.contract)
        self._build({text for text in map(canonical, secrets) if text is not None})

    def learn(self, secrets: Iterable[object]) -> None:
        """Secrets met during the run (an access token, a key or webhook secret the API just handed out):
        scrubbed from now on, by value."""
        found = {text for text in map(canonical, secrets) if text is not None and not text.startswith("<scrubbed")}
        new = found - self._words - self.values
        if new:
            self._build(set(self.values) | new)

    def _build(self, secrets: set[str]) -> None:
        words = self._words
        within = "\n".join([*words, *self._public])
        known = secrets - words
        self.values = frozenset(known)
        anywhere = {form for value in known for form in encoded_forms(value) if len(form) >= DISTINCT}
        anywhere = {form for form in anywhere if form not in within}
        whole_words = {value for value in known if value not in anywhere}
        # A secret cut in two (two fields, two lines) leaves one part at least half its length: in free
        # text every leading or trailing half of a long secret goes too (HALF or longer, so that a
        # common start such as "https://" never goes).
        halves = {
            part
            for value in known
            for size in range(max(HALF, (len(value) + 1) // 2), len(value))
            for part in (value[:size], value[-size:])
        }
        text_forms = anywhere | {part for part in halves if part not in within}
        self._fragments = frozenset(
            value[start : start + FRAGMENT]
            for value in known
            if len(value) > FRAGMENT
            for start in range(len(value) - FRAGMENT + 1)
            if value[start : start + FRAGMENT] not in within
        )
        self._fragment_sources = tuple(value for value in known if len(value) > FRAGMENT)
        # Each leading part of a secret, so that its two halves in two fields of one object are found.
        self._halves: dict[str, set[str]] = {}
        for value in known:
            if len(value) >= DISTINCT:
                for cut in range(SPLIT, len(value) - SPLIT + 1):
                    self._halves.setdefault(value[:cut], set()).add(value)
        # The same parts as quoted strings, for a JSON object (or a repr) quoted whole in free text.
        self._quoted_halves = {
            f"{quote_mark}{part}{quote_mark}": (value, cut, part == value[:cut])
            for value in known
            if len(value) >= DISTINCT
            for cut in range(SPLIT, len(value) - SPLIT + 1)
            for part in (value[:cut], value[cut:])
            for quote_mark in "\"'"
        }
        self._quoted_finder = _automaton(self._quoted_halves)
        self._signing_keys = tuple(value.encode("utf-8", "surrogatepass") for value in known)
        self._fragment_finder = _automaton(self._fragments)
        # One automaton finds every form in one pass; each word knows which scrubbing it belongs to.
        kinds: dict[str, int] = {}
        for word in anywhere:
            kinds[word] = kinds.get(word, 0) | _GUARD
        for word in text_forms:
            kinds[word] = kinds.get(word, 0) | _HEADER | _TEXT
        for word in whole_words - text_forms:
            kinds[word] = kinds.get(word, 0) | _TEXT | _WHOLE
        self._form_finder = _kinds_automaton(kinds)

    # -- text --------------------------------------------------------------------------------

    def _replace(self, kind: int, text: str) -> str:
        """Every form of ``kind`` in ``text`` replaced, leftmost and then longest first, a placeholder kept
        as it is; a short secret (``_WHOLE``) only as a whole word.

        One Aho-Corasick pass finds them all; Python runs only per match found.
        """
        finder = self._form_finder
        if finder is None:
            return text
        found = [
            (last - length + 1, 1, -length, mask)
            for last, (length, mask) in finder.iter(text)
            if mask & kind and (not mask & _WHOLE or _whole_word(text, last - length + 1, last + 1))
        ]
        if not found:
            return text
        found += [(match.start(), 0, match.start() - match.end(), 0) for match in _PLACEHOLDERS.finditer(text)]
        found.sort()
        out: list[str] = []
        done = 0
        for start, is_secret, negative_length, _ in found:
            if start < done:
                continue
            end = start - negative_length
            if is_secret:
                out += [text[done:start], SECRET_PLACEHOLDER]
            else:
                out.append(text[done:end])
            done = end
        return "".join(out) + text[done:]

    def _cut_fragments(self, text: str) -> str:
        """Every run of 16 or more characters copied from a long secret, leftmost first; a placeholder is
        skipped whole.

        One Aho-Corasick pass over the text finds each fragment, whatever their number; Python runs
        only per fragment found, to grow it as far as it still copies a secret.
        """
        finder = self._fragment_finder
        if finder is None or len(text) < FRAGMENT:
            return text
        out: list[str] = []
        start = position = 0
        kept = _PLACEHOLDERS.search(text)
        # Matches come by where they end; all are FRAGMENT long, so also by where they start.
        for last, _ in finder.iter(text):
            first = last - FRAGMENT + 1
            while kept is not None and kept.start() <= first:
                if kept.start() >= position:
                    position = kept.end()
                kept = _PLACEHOLDERS.search(text, position)
            if first < position:
                continue
            end = last + 1
            while end < len(text) and any(text[first : end + 1] in value for value in self._fragment_sources):
                end += 1
            out += [text[start:first], SECRET_PLACEHOLDER]
            start = position = end
        return "".join(out) + text[start:]

    def _fixpoint(self, text: str, step: Any) -> str:
        # One pass can expose another match (a neighbour became a placeholder): repeat until stable,
        # so scrubbing scrubbed text changes nothing.
        for _ in range(8):
            scrubbed = step(text)
            if scrubbed == text:
                break
            text = scrubbed
        return text

    def _signed(self, token: str) -> bool:
        """Whether a known secret signed ``token`` (HS256, HS384 or HS512)."""
        signed, _, signature = token.rpartition(".")
        try:
            expected = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        except ValueError:
            return False
        return any(
            hmac.compare_digest(hmac.new(key, signed.encode(), digest).digest(), expected)
            for key in self._signing_keys
            for digest in _JWT_HASHES
            if len(expected) == digest().digest_size
        )

    def _tokens(self, text: str) -> str:
        """Every JWT a known secret signed, whole: its kid and signature together would rebuild it."""
        if "eyJ" not in text:
            return text
        return _JWT.sub(lambda found: SECRET_PLACEHOLDER if self._signed(found.group()) else found.group(), text)

    def _quoted_split(self, text: str) -> str:
        """Both halves of a secret, each a quoted string of the text (two fields of a JSON object quoted in
        a failure): each becomes a quoted placeholder."""
        finder = self._quoted_finder
        if finder is None:
            return text
        found = {text[last - length + 1 : last + 1] for last, length in finder.iter(text)}
        sides: dict[tuple[str, int], set[bool]] = {}
        for word in found:
            value, cut, first = self._quoted_halves[word]
            sides.setdefault((value, cut), set()).add(first)
        for word in sorted(found, key=len, reverse=True):
            value, cut, _ = self._quoted_halves[word]
            if len(sides[(value, cut)]) == 2:
                text = text.replace(word, f"{word[0]}{SECRET_PLACEHOLDER}{word[0]}")
        return text

    def text(self, text: str) -> str:
        """Free text (a failure, a traceback, a JSON string): every known secret, form and fragment."""
        if not self.values:
            return text
        return self._fixpoint(
            self._quoted_split(self._tokens(text)),
            lambda value: self._cut_fragments(self._replace(_TEXT, value)),
        )

    def guard(self, text: str) -> str:
        """The last guard for text with structure of its own: only distinctive secrets, anywhere."""
        if not self.values:
            return text
        return self._fixpoint(self._tokens(text), lambda value: self._replace(_GUARD, value))

    def header(self, text: str) -> str:
        """A header's value: every distinctive form of a secret, long fragments of one, a signed JWT."""
        if not self.values:
            return text
        if text in self.values:
            return SECRET_PLACEHOLDER
        return self._fixpoint(
            self._quoted_split(self._tokens(text)),
            lambda value: self._cut_fragments(self._replace(_HEADER, value)),
        )

    def _exact(self, text: str) -> str:
        return SECRET_PLACEHOLDER if text in self.values else self.guard(text)

    # -- JSON --------------------------------------------------------------------------------

    def json_value(self, value: Any) -> Any:
        """A copy of a JSON value with credentials and known secrets replaced, at any depth."""
        return self._walk(value, None, False, False)

    def _walk(self, value: Any, name: str | None, item: bool, hidden: bool, pin: _Pin | None = None) -> Any:
        if isinstance(value, dict):
            fields = self.fields | TOKEN_REQUEST_SECRETS if "grant_type" in value else self.fields
            halves = self._split_halves(value)
            return {
                key: self._walk(
                    sub, key, False, hidden or key in fields or (isinstance(sub, str) and sub in halves), pin
                )
                for key, sub in value.items()
            }
        if isinstance(value, list | tuple):
            return [self._walk(sub, name, True, hidden, pin) for sub in value]
        if isinstance(value, str):
            if pin is not None and pin.keep(value):
                return value
            if hidden or value in self.values:
                stand_in = placeholder(name, "string", item, contract=self.contract)
                if pin is not None:
                    pin.replaced.append((name, item, value, stand_in))
                return stand_in
            if not self.values or value == placeholder(name, "string", item, contract=self.contract):
                return value
            return self.text(value)
        if self.values and canonical(value) in self.values:
            return placeholder(name, "number", item, contract=self.contract)
        return value

    def _split_halves(self, value: dict[str, Any]) -> set[str]:
        """String values of one object that are the two halves of a known secret (each SPLIT or longer).

        Only a split in two, within one object, is found; a longer part (FRAGMENT) goes anywhere."""
        if not self._halves or len(value) < 2:
            return set()
        strings = {sub for sub in value.values() if isinstance(sub, str)}
        found: set[str] = set()
        for first in strings:
            for secret in self._halves.get(first, ()):
                if secret[len(first) :] in strings:
                    found |= {first, secret[len(first) :]}
        return found

    def body(self, raw: bytes | str | None) -> bytes | str | None:
        if raw is None or raw in (b"", ""):
            return raw
        if isinstance(raw, bytes):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("utf-8", "replace")
                # A secret sent in a single-byte encoding is found whole only when read byte for byte.
                byte_for_byte = raw.decode("latin-1")
                if self.text(byte_for_byte) != byte_for_byte:
                    text = byte_for_byte
        else:
            text = raw
        try:
            parsed = json.loads(text)
        except ValueError:
            cleaned = self.text(text)
        else:
            cleaned = json.dumps(self.json_value(parsed), ensure_ascii=False, separators=(",", ":"))
        return cleaned.encode() if isinstance(raw, bytes) else cleaned

    def form(self, raw: bytes | str) -> bytes | str:
        """A form-encoded body: its fields scrubbed as the JSON object they stand for."""
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        try:
            pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
        except ValueError:
            scrubbed_text = self.body(raw)
            return raw if scrubbed_text is None else scrubbed_text
        scrubbed = self.form_fields(pairs)
        cleaned = text if scrubbed == pairs else urlencode(scrubbed)
        return cleaned.encode() if isinstance(raw, bytes) else cleaned

    def form_fields(self, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        if len({name for name, _ in pairs}) == len(pairs):
            fields = self.json_value(dict(pairs))
            return [(name, str(fields[name])) for name, _ in pairs]
        return [(name, str(self.json_value(value))) for name, value in pairs]

    def pinned_body(self, body: Any, keep: Callable[[str], bool], replaced: list[Replaced]) -> Any:
        """A variant's body as pinned: as :meth:`json_value`, but a string ``keep`` accepts stays (a
        symbol, which names a secret without holding it), and each value replaced goes into ``replaced``."""
        return self._walk(body, None, False, False, _Pin(keep, replaced))

    def report_value(self, value: Any) -> Any:
        """A value about to be reported (JSON report, JUnit property): JSON by structure, else as text."""
        if value is None or isinstance(value, dict | list | tuple | str | int | float):
            return self.json_value(value)
        return self.text(str(value))

    # -- HTTP --------------------------------------------------------------------------------

    def uri(self, uri: str) -> str:
        """Path segments and query values that hold a secret; path literals and names stay as they are."""
        if not self.values:
            return uri
        parts = urlsplit(uri)
        words = vocabulary(self.contract)

        def segment(raw: str) -> str:
            decoded = unquote(raw)
            scrubbed = decoded if decoded in words else self._exact(decoded)
            return raw if scrubbed == decoded else quote(scrubbed, safe=_PATH_SAFE)

        def pair(raw: str) -> str:
            name, equals, value = raw.partition("=")
            decoded = unquote_plus(value)
            scrubbed = self._exact(decoded)
            return raw if scrubbed == decoded else f"{name}{equals}{quote_plus(scrubbed, safe='<>')}"

        path = "/".join(segment(raw) for raw in parts.path.split("/"))
        query = "&".join(pair(raw) for raw in parts.query.split("&")) if parts.query else ""
        return urlunsplit((parts.scheme, parts.netloc, path, query, parts.fragment))

    def request(self, request: Request) -> Request:
        """vcrpy's ``before_record_request``: it also runs on every replayed request, so it must be idempotent."""
        request = copy.copy(request)
        # Built as a plain dict and handed over once: vcrpy's header dict is slow to fill key by key.
        headers: dict[str, str] = {}
        media = ""
        for name, value in header_items(request.headers):
            lower = name.lower()
            # A proxy's credentials (HTTP_PROXY=http://user:pass@…) travel in a header of their own.
            if lower in ("authorization", "proxy-authorization"):
                headers[name] = f"{str(value).split(' ', 1)[0]} {PLACEHOLDER}"
            elif lower not in DROPPED_HEADERS:
                headers[name] = self.header(str(value))
                if lower == "content-type" and not media:
                    media = headers[name]
        request.headers = headers_dict(headers.items())
        uri = self.uri(request.uri)
        if uri != request.uri:
            request.uri = uri
        is_form = media.split(";")[0].strip().lower() == FORM_TYPE and request.body
        request.body = self.form(request.body) if is_form else self.body(request.body)
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        """vcrpy's ``before_record_response`` (it receives a copy already)."""
        headers = response.get("headers", {})
        carried: set[str] = set()
        for name in list(headers):
            if name.lower() in DROPPED_HEADERS:
                del headers[name]
            elif name.lower() == "location":
                headers[name] = [self.location(str(value), carried) for value in headers[name]]
            else:
                headers[name] = [self.header(str(value)) for value in headers[name]]
        body = response.get("body", {})
        if "string" in body:
            body["string"] = self.body(body["string"])
            # A redirect's body may repeat its Location ("Found. Redirecting to …").
            for secret in sorted(carried, key=len, reverse=True):
                body["string"] = _replace_in(body["string"], secret, SECRET_PLACEHOLDER)
        return response

    def location(self, uri: str, carried: set[str] | None = None) -> str:
        """A redirect target: credentials in its query or fragment (an OAuth code) become placeholders.

        What was replaced is added to ``carried``, so the same values can go from the body too.
        """
        parts = urlsplit(self.uri(uri))

        def clean(text: str) -> str:
            if not text or "=" not in text:
                return text
            pairs = parse_qsl(text, keep_blank_values=True)
            kept = []
            for name, value in pairs:
                if name in REDIRECT_SECRETS and value != placeholder(name, "string", contract=self.contract):
                    if carried is not None:
                        carried.add(value)
                    value = placeholder(name, "string", contract=self.contract)
                kept.append((name, value))
            return text if kept == pairs else urlencode(kept, safe="<>")

        return urlunsplit((parts.scheme, parts.netloc, parts.path, clean(parts.query), clean(parts.fragment)))

    def secrets_in(self, body: Any, headers: Any = None) -> set[str]:
        """Credentials a response hands out (an access token, a key secret, a code in a redirect)."""
        found: set[str] = set()

        def walk(value: Any) -> None:
            if isinstance(value, dict):
                for key, sub in value.items():
                    if key in RESPONSE_SECRET_FIELDS and isinstance(sub, str):
                        found.add(sub)
                        if key == "secret" and isinstance(value.get("id"), str):
                            # A key the run created: the Basic credential built from it is as secret.
                            found.add(basic_credential(value["id"], sub))
                    walk(sub)
            elif isinstance(value, list):
                for sub in value:
                    walk(sub)

        walk(body)
        for name, value in dict(headers or {}).items():
            if str(name).lower() == "location":
                self.location(str(value), found)
        return found

    def cassette_text(self, cassette_dict: dict[str, Any], serializer: Any) -> str:
        """vcrpy's serialization, with the last guard on every value (never on a key) on the way."""
        interactions = [
            {
                "request": compat.convert_to_unicode(request_as_dict(request)),
                "response": compat.convert_to_unicode(answer),
            }
            for request, answer in zip(cassette_dict["requests"], cassette_dict["responses"], strict=False)
        ]
        data: dict[str, Any] = {"version": CASSETTE_FORMAT_VERSION, "interactions": interactions}
        if cassette_dict.get("metadata"):
            data["metadata"] = cassette_dict["metadata"]
        return str(serializer.serialize(self._guard_values(data)))

    def _guard_values(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: self._guard_values(sub) for key, sub in value.items()}
        if isinstance(value, list):
            return [self._guard_values(sub) for sub in value]
        return self.guard(value) if isinstance(value, str) else value
