"""Symbols in pinned variants: written for what a run chose, resolved again to the same text."""

from __future__ import annotations

import pytest

from conformance.variants.symbols import (
    Unresolved,
    abstracter,
    map_pinned,
    names_in,
    only_symbols,
    resolver,
    symbols_in,
)

KNOWN = {
    "http://127.0.0.1:47151": "target",
    "0123456789abcdef01234567": "created:user:0",
    "Ψ~q": "secret:channels.messagebird.originator",
}


@pytest.mark.parametrize(
    ("sent", "pinned"),
    [
        ("0123456789abcdef01234567", "{{created:user:0}}"),
        ("http://127.0.0.1:47151/attachments/v2/0123456789abcdef01234567/a.png",
         "{{target}}/attachments/v2/{{created:user:0}}/a.png"),
        ("Ψ~q", "{{secret:channels.messagebird.originator}}"),
        # A short value is one only as a whole string: inside another it could be anything.
        ("xΨ~qx", "xΨ~qx"),
        ("{{not a symbol}}", "{{open}}not a symbol}}"),
        ("plain text", "plain text"),
    ],
)  # fmt: skip
def test_a_value_the_run_chose_is_pinned_as_its_symbol_and_resolves_back(sent, pinned):
    assert abstracter(KNOWN)(sent) == pinned
    by_name = {name: value for value, name in KNOWN.items()}
    assert resolver(by_name.get)(pinned) == sent


def test_a_symbol_the_run_cannot_give_is_unresolved_by_name():
    with pytest.raises(Unresolved) as raised:
        resolver({}.get)("{{target}}/x/{{created:conversation:3}}")
    assert raised.value.symbol == "target"


def test_only_the_values_a_variant_sends_hold_symbols():
    pinned = {
        "id": "g-0",
        "label": "{{target}} in a label stays",
        "body": {"form": [["{{name}}", "{{created:user:0}}"]]},
        "expect": {"status": 201},
        "params": {"path": {"userId": "{{created:user:0}}"}, "query": {"q": "a{{open}}b"}},
    }
    assert symbols_in(pinned) == ["created:user:0", "created:user:0"]
    changed = map_pinned(pinned, str.upper)
    assert changed["label"] == pinned["label"]
    assert changed["body"]["form"] == [["{{name}}", "{{CREATED:USER:0}}"]]
    assert changed["params"]["query"] == {"q": "A{{OPEN}}B"}


@pytest.mark.parametrize(
    ("text", "only"),
    [("{{secret:key_secret}}", True), ("{{a}}{{b}}", True), ("{{open}}", False), ("x{{a}}", False), ("", False)],
)
def test_a_secret_field_keeps_its_value_only_when_it_is_nothing_but_symbols(text, only):
    assert only_symbols(text) is only
    assert names_in("{{open}}{{a}}") == ["a"]


def test_variants_pinned_before_symbols_are_resent_literally():
    """A format-1 pin holds no symbols: a "{{" it holds is escaped, so it is sent as it was pinned."""
    from conformance.variants.pins import reused_variants

    item = {"id": "g-0", "label": "l", "body": {"json": {"text": "{{x}}"}}, "expect": {"status": 201}}
    escaped = reused_variants({"format": 1, "variants": {"g": [item]}})["g"][0]
    assert escaped["body"]["json"]["text"] == "{{open}}x}}"
    assert map_pinned(escaped, resolver({}.get))["body"]["json"]["text"] == "{{x}}"
    assert reused_variants({"format": 2, "variants": {"g": [item]}})["g"][0] == item
