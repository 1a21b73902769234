"""The linear scrubber (Aho-Corasick passes) scrubs exactly as the step-per-character one did.

The reference below is the former algorithm, kept here only to compare against: every generated text
(secrets, their forms, fragments, placeholders, word boundaries) must come out the same.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.scrubbing.placeholders import SECRET_PLACEHOLDER
from conformance.scrubbing.scrubber import _GUARD, _PLACEHOLDERS, _TEXT, _WHOLE, FRAGMENT, Scrubber

SECRETS = ("key-secret-Zx9Qv-long-enough-to-cut-0123", "tok_9f8e7d6c5b4a39281706", "short1", "pat")
SCRUBBER = Scrubber(SECRETS, fields=frozenset(), public=("https://api.example.test", "5d8cff3cd55b040010928b5b"))


def _word_pattern(word: str) -> str:
    before = r"(?<!\w)" if re.match(r"\w", word[0]) else ""
    after = r"(?!\w)" if re.match(r"\w", word[-1]) else ""
    return before + re.escape(word) + after


def reference_pattern(scrubber: Scrubber, kind: int) -> re.Pattern[str]:
    """The one regex the former scrubber ran: a placeholder kept, else the longest form at each position."""
    kinds = {word: mask for word, (_, mask) in scrubber._form_finder.items()}
    plain = [word for word, mask in kinds.items() if mask & kind and not mask & _WHOLE]
    whole = [word for word, mask in kinds.items() if mask & kind and mask & _WHOLE]
    both = sorted(
        [(word, re.escape) for word in plain] + [(word, _word_pattern) for word in whole],
        key=lambda item: (-len(item[0]), item[0]),
    )
    found = "|".join(pattern(word) for word, pattern in both)
    return re.compile(r"(?P<keep><scrubbed[^<>\s]*>)" + (f"|{found}" if found else ""))


def reference_replace(pattern: re.Pattern[str], text: str) -> str:
    return pattern.sub(lambda match: match.group("keep") or SECRET_PLACEHOLDER, text)


def reference_cut(scrubber: Scrubber, text: str) -> str:
    out: list[str] = []
    start = position = 0
    while position <= len(text) - FRAGMENT:
        if text[position] == "<" and (kept := _PLACEHOLDERS.match(text, position)):
            position = kept.end()
            continue
        if text[position : position + FRAGMENT] not in scrubber._fragments:
            position += 1
            continue
        end = position + FRAGMENT
        while end < len(text) and any(text[position : end + 1] in value for value in scrubber._fragment_sources):
            end += 1
        out += [text[start:position], SECRET_PLACEHOLDER]
        start = position = end
    return "".join(out) + text[start:]


def reference_text(scrubber: Scrubber, text: str) -> str:
    step: Any = lambda value: reference_cut(scrubber, reference_replace(reference_pattern(scrubber, _TEXT), value))  # noqa: E731
    return scrubber._fixpoint(text, step)


def reference_guard(scrubber: Scrubber, text: str) -> str:
    return scrubber._fixpoint(text, lambda value: reference_replace(reference_pattern(scrubber, _GUARD), value))


def pieces() -> st.SearchStrategy[str]:
    secret = st.sampled_from(SECRETS)
    return st.one_of(
        secret,
        secret.map(lambda value: base64.b64encode(value.encode()).decode().rstrip("=")),
        st.builds(
            lambda value, start, size: value[start : start + size], secret, st.integers(0, 20), st.integers(1, 30)
        ),
        st.sampled_from(["<scrubbed>", "<scrubbed-secret>", "<", ">", " ", "_", "a", "é", "<scrubbed", "\n"]),
        st.text(alphabet="abcdef0123456789-_<> ", max_size=12),
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(pieces(), max_size=25).map("".join))
def test_free_text_is_scrubbed_exactly_as_the_step_per_character_scrubber_did(text):
    assert SCRUBBER.text(text) == reference_text(SCRUBBER, text)


@settings(max_examples=200, deadline=None)
@given(st.lists(pieces(), max_size=25).map("".join))
def test_the_last_guard_is_applied_exactly_as_before(text):
    assert SCRUBBER.guard(text) == reference_guard(SCRUBBER, text)


def test_a_text_of_many_placeholders_and_fragments_is_scrubbed_like_before():
    text = ("<scrubbed-secret>" + SECRETS[0][2:20] + " x " + SECRETS[1] + "<" + SECRETS[0][5:40]) * 200
    assert SCRUBBER.text(text) == reference_text(SCRUBBER, text)
    assert SECRETS[0][5:21] not in SCRUBBER.text(text)
