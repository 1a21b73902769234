"""The variant definitions: valid ones validate, invalid ones don't, and pinning is lossless."""

from __future__ import annotations

import pytest

from conformance.core.model import Expect, RawBody, Variant
from conformance.core.scrub import PLACEHOLDER, Scrubber
from conformance.core.variants import draw, number, pin, unpin
from conformance.definitions import integrations as defs
from conformance.spec.schemas import validator

CREATE = validator(defs.CREATE)


def update_for(kind: str):
    return validator(f"{defs.UPDATE}#/$defs/{kind}")


def test_create_valid_covers_all_sixteen_types_with_valid_bodies():
    variants = draw(defs.create_valid(), 16, seed=1)
    assert sorted(v.body["type"] for v in variants) == sorted(defs.TYPES)
    assert len(defs.TYPES) == 16
    for variant in variants:
        errors = [e.message for e in CREATE.iter_errors(variant.body)]
        assert not errors, (variant.body, errors)
        assert variant.expect.status == 201


INVALID_CREATE = [
    defs.create_missing_type,
    defs.create_unknown_type,
    defs.create_wrong_json_types,
    defs.create_long_display_name,
    defs.create_missing_required_field,
    defs.create_empty_object,
]


@pytest.mark.parametrize("strategy", INVALID_CREATE, ids=lambda s: s.__name__)
def test_invalid_create_variants_are_invalid_and_expect_400(strategy):
    variants = draw(strategy(), 12, seed=2)
    assert variants
    for variant in variants:
        assert not CREATE.is_valid(variant.body), variant.body
        assert variant.expect == Expect(400, "bad_request")


def test_not_json_variants_are_not_json():
    import json

    for variant in draw(defs.not_json(), 10, seed=3):
        assert isinstance(variant.body, RawBody)
        with pytest.raises(json.JSONDecodeError):
            json.loads(variant.body.text)


def test_update_variants_match_the_web_update_schema_or_not():
    for variant in draw(defs.update_valid(), 20, seed=4):
        assert update_for(defs.UPDATE_KIND).is_valid(variant.body), variant.body
    for variant in draw(defs.update_invalid(), 20, seed=5):
        if not isinstance(variant.body, RawBody):
            assert not update_for(defs.UPDATE_KIND).is_valid(variant.body), variant.body


def test_draw_is_reproducible_for_a_seed_and_varies_across_seeds():
    first = draw(defs.create_unknown_type(), 5, seed=7)
    assert first == draw(defs.create_unknown_type(), 5, seed=7)
    assert first != draw(defs.create_unknown_type(), 5, seed=8)


def test_pinning_round_trips_and_scrubs_credentials():
    scrub = Scrubber()
    variants = number(
        "g",
        [
            Variant("twilio", {"type": "twilio", "accountSid": "AC", "authToken": "real-token"}, Expect(201)),
            Variant("raw", RawBody("type=web"), Expect(400, "bad_request")),
            Variant("id", None, Expect(404), params={"path": {"integrationId": "a" * 24}}),
        ],
    )
    restored = unpin(pin("g", variants, scrub.variant_body))
    assert [v.id for v in restored] == ["g-0", "g-1", "g-2"]
    assert restored[0].body["authToken"] == PLACEHOLDER
    assert restored[1:] == variants[1:]
