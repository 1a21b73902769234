"""Variants from the schemas: valid ones validate, derived invalid ones don't, and pinning is lossless."""

from __future__ import annotations

import importlib
import json

import pytest
from hypothesis import strategies as st

from conformance.contract.resources import RESOURCES, resource
from conformance.contract.schemas import shipped
from conformance.model import Expect, FilePart, FormBody, MultipartBody, RawBody, Variant
from conformance.scrubbing.scrubber import PLACEHOLDER, Scrubber
from conformance.suites import flows
from conformance.variants import negative
from conformance.variants.draw import draw, number, pin, unpin

INTEGRATION = resource("integration")
CREATE = shipped().validator("components/integration.json", "request")


@pytest.mark.parametrize("item", [r for r in RESOURCES if r.has("create")], ids=lambda r: r.name)
def test_valid_bodies_are_valid_for_every_resource(item):
    request = item.op("create").request
    bodies = draw(flows.bodies_per_shape(item), 16, seed=1)
    if request is None:  # a create that takes no body (switchboards) sends none
        assert bodies == [None]
        return
    validator = shipped().validator(str(request), "request")
    for body in bodies:
        assert validator.is_valid(body), [e.message for e in validator.iter_errors(body)]


def test_one_valid_body_per_integration_type():
    bodies = draw(flows.bodies_per_shape(INTEGRATION), 16, seed=1)
    assert [b["type"] for b in bodies] == flows.shapes(INTEGRATION)
    assert len(flows.shapes(INTEGRATION)) == 16
    twilio = next(b for b in bodies if b["type"] == "twilio")
    assert "phoneNumberSid" in twilio  # the prose rule's hint
    mailgun = next(b for b in bodies if b["type"] == "mailgun")
    assert mailgun["incomingAddress"].endswith("@" + mailgun["domain"])


BREAKERS = [negative.missing_required, negative.out_of_bounds, negative.outside_enum, negative.broken_pattern]


@pytest.mark.parametrize("breaker", BREAKERS, ids=lambda b: b.__name__)
def test_derived_invalid_bodies_are_invalid_and_name_their_error_code(breaker):
    bases = draw(flows.bodies_per_shape(INTEGRATION), 16, seed=2)
    variants = negative.invalid(
        "components/integration.json", bases, breaker, "bad_request", limit=40, discriminator="type"
    )
    assert variants
    for variant in variants:
        assert not CREATE.is_valid(variant.body), variant.label
        assert variant.expect == Expect(400, "bad_request")
    # A cap keeps every shape represented, and the discriminator's own break appears once.
    labels = [v.label for v in variants]
    assert len([label for label in labels if label.endswith("without type")]) <= 1


def test_missing_required_leaves_out_exactly_one_required_field():
    base = {"type": "twilio", "accountSid": "AC1", "authToken": "t", "phoneNumberSid": "PN1"}
    variants = negative.invalid("components/integration.json", [base], negative.missing_required, "bad_request",
                                limit=10, discriminator="type")  # fmt: skip
    # phoneNumberSid is required too: without it (and no messagingServiceSid) the prose rule breaks.
    assert sorted(v.label for v in variants) == [
        "twilio body without accountSid",
        "twilio body without authToken",
        "twilio body without phoneNumberSid",
        "twilio body without type",
    ]


def test_wrong_types_change_one_field_to_another_json_type():
    strategy = negative.wrong_types(
        flows.bodies_per_shape(INTEGRATION),
        "components/integration.json",
        "bad_request",
        limit=12,
        discriminator="type",
    )
    variants = draw(strategy, 12, seed=3)
    assert len(variants) == 12
    for variant in variants:
        assert not CREATE.is_valid(variant.body), variant.label
        assert "of a wrong JSON type" in variant.label


def test_not_json_variants_are_not_json():
    for variant in draw(negative.not_json(), 5, seed=3):
        assert isinstance(variant.body, RawBody)
        with pytest.raises(json.JSONDecodeError):
            json.loads(variant.body.text)


def test_update_bodies_follow_the_stored_type():
    web = shipped().validator("components/webUpdate.json", "request")
    for body in draw(flows.update_bodies(INTEGRATION, "web"), 10, seed=4):
        assert body, body
        assert web.is_valid(body), body
    assert flows.decided_by_stored(INTEGRATION)
    assert flows.update_schema(INTEGRATION, "telegram").endswith("components/telegramUpdate.json")


def test_draw_is_reproducible_for_a_seed_and_varies_across_seeds():
    first = draw(flows.valid_bodies(resource("user")), 5, seed=7)
    assert first == draw(flows.valid_bodies(resource("user")), 5, seed=7)
    assert first != draw(flows.valid_bodies(resource("user")), 5, seed=8)
    assert len({json.dumps(b, sort_keys=True) for b in first}) == 5


def test_pinning_round_trips_every_kind_of_body_and_scrubs_credentials():
    scrub = Scrubber()
    variants = number(
        "g",
        [
            Variant("twilio", {"type": "twilio", "accountSid": "AC", "authToken": "real-token"}, Expect(201)),
            Variant("raw", RawBody("type=web"), Expect(400, "bad_request")),
            Variant("id", None, Expect(404, "integration_not_found"), params={"path": {"integrationId": "a" * 24}}),
            Variant("form", FormBody((("grant_type", "authorization_code"),)), Expect(200)),
            Variant(
                "file",
                MultipartBody((("for", "message"),), (FilePart("source", "a.png", "image/png", b"\x89PNG"),)),
                Expect(201),
            ),
        ],
    )
    restored = unpin(pin("g", variants, scrub.json_value))
    assert [v.id for v in restored] == ["g-0", "g-1", "g-2", "g-3", "g-4"]
    assert restored[0].body["authToken"] != "real-token"
    assert restored[0].body["authToken"].startswith(PLACEHOLDER[:5])
    assert restored[1:] == variants[1:]
    assert [v.media_type for v in restored[1:]] == [
        "application/json",
        None,
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ]


def test_a_seed_draws_the_same_variants_whatever_literals_local_modules_hold(tmp_path, monkeypatch):
    # Hypothesis also draws string literals found in the source of local modules; a recording
    # must not change because a module was added or edited, or because fewer tests were loaded.
    strategy = st.text(min_size=1, max_size=30)
    before = draw(strategy, 80, seed=3)
    literals = ", ".join(f'"zz-local-literal-{n}"' for n in range(300))
    (tmp_path / "literal_holder.py").write_text(f"WORDS = [{literals}]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("literal_holder")
    after = draw(strategy, 80, seed=3)
    assert after == before
    assert not [value for value in after if "zz-local-literal" in value]
