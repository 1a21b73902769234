"""What the harness knows of messages beyond the sandbox: the table record, generated tests, echoes
of objects the API completes, write-only fields behind a $ref, lowered limits and seeded clocks."""

from __future__ import annotations

import argparse

import pytest

from conformance.contract.resources import resource
from conformance.contract.schemas import shipped
from conformance.model import Exchange
from conformance.sandbox import Sandbox, cli
from conformance.sandbox.store import Tokens
from conformance.scrubbing.scrubber import Scrubber
from conformance.suites.expectations import created, echo_pairs
from conformance.suites.flows import created_id
from conformance.suites.generic.generated import generated_for

MESSAGE = resource("message")


def test_the_message_record_reads_its_record_from_a_list():
    assert MESSAGE.record_pointer == "/messages/0"
    assert resource("integration").record_pointer == "/integration"
    assert str(MESSAGE.record_schema).endswith("components/message.json")
    answer = {"messages": [{"id": "m1", "content": {"type": "text", "text": "x"}}]}
    exchange = Exchange(
        shipped().operation("PostMessage"), "POST", "u", "/p", None, 201, {}, "", body=answer, contract=shipped()
    )
    assert created_id(exchange, MESSAGE) == "m1"
    assert created(MESSAGE, {"author": {"type": "business"}}, "x").expect.defaults_at == "/messages/0"


def test_objects_the_api_completes_are_echoed_member_by_member():
    body = {
        "author": {"type": "user", "userExternalId": "ann", "displayName": "Ann"},
        "content": {"type": "image", "mediaUrl": "https://e.com/a.png", "actions": [{"type": "link"}]},
        "metadata": {"lang": "en"},
        "schema": "whatsapp",
    }
    pairs = dict(echo_pairs(MESSAGE, body))
    assert pairs == {
        "/author/type": "/messages/0/author/type",
        "/author/displayName": "/messages/0/author/displayName",
        "/content/type": "/messages/0/content/type",
        "/content/mediaUrl": "/messages/0/content/mediaUrl",
        "/metadata/lang": "/messages/0/metadata/lang",
    }
    # Other resources still compare their objects whole.
    profile = {"profile": {"givenName": "Ann"}, "externalId": "x"}
    assert ("/profile", "/user/profile") in echo_pairs(resource("user"), profile)


def test_generated_message_tests_leave_out_the_sized_page_walk():
    names = set(generated_for("message"))
    assert "test_list_messages_rejects_invalid_page_parameters" in names
    assert "test_list_messages_paginates_forwards_and_backwards" not in names
    assert "test_list_integrations_paginates_forwards_and_backwards" in generated_for("integration")


def test_write_only_fields_behind_a_ref_are_seen():
    content = {"type": "text", "text": "a", "markdownText": "**a**"}
    assert shipped().annotated_pointers("components/content.json", content) == ["/markdownText"]
    assert "markdownText" in shipped().write_only_fields("components/messagePost.json")
    # Write-only so that it is never read back, but no secret: recordings keep it.
    assert "markdownText" not in Scrubber().fields


def test_a_seeded_clock_repeats_itself_and_the_wall_clock_moves():
    first, second = Tokens(3), Tokens(3)
    times = [first.now() for _ in range(3)]
    assert times == [second.now() for _ in range(3)]
    assert times[0] == "2024-01-01T00:00:01.000Z"
    assert times == sorted(set(times))
    assert Tokens().now().endswith("Z")


def test_sandbox_limits_are_checked_and_lowered_from_the_command_line(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(ValueError, match="unknown limits"):
        Sandbox(limits={"max_users": 3})
    with pytest.raises(ValueError, match="positive integer"):
        Sandbox(limits={"max_messages": 0})
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    sandbox = cli._checked(parser.parse_args(["--max-messages", "7", "--message-page-size", "2"]))
    assert sandbox.limits == {"max_messages": 7, "message_page_size": 2}
    with sandbox:
        cli._announce(sandbox)
    out = capsys.readouterr().out
    assert "max messages: 7 (lowered from 30000)" in out
    assert "message page size: 2 (lowered from 100)" in out
