"""Attachments: a multipart upload whose mediaUrl image and file messages use, and its removal.

An upload made ``for=message`` goes with the message that uses it; one made for the app stays until
it is removed by its mediaUrl.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from conformance.contract.resources import resource
from conformance.definitions import messages as defs
from conformance.model import Exchange, Expect, FilePart, MultipartBody, RawBody, Variant
from conformance.session.session import ConformanceSession
from conformance.suites.expectations import created
from conformance.suites.flows import Records
from conformance.variants.strategies import safe_text

MESSAGE = resource("message")
BAD = "bad_request"
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>'


def upload(name: str, media_type: str, content: bytes, label: str, expect: Expect, **query: str) -> Variant:
    body = MultipartBody(files=(FilePart("source", name, media_type, content),))
    return Variant(label, body, expect, params={"query": {"access": "public", **query}})


def uploads(conversation_id: str) -> st.SearchStrategy[list[Variant]]:
    """An SVG image for a message of the conversation, and a text file for the app."""
    return st.tuples(safe_text(1, 12), safe_text(1, 40)).map(
        lambda found: [
            upload(
                f"{found[0]}.svg",
                "image/svg+xml",
                SVG.encode(),
                "an image for a message",
                Expect(201),
                **{"for": "message", "conversationId": conversation_id},
            ),
            upload(f"{found[0]}.txt", "text/plain", found[1].encode(), "a file for the app", Expect(201)),
        ]
    )


def attachment(exchange: Exchange) -> dict[str, Any]:
    body = exchange.body if isinstance(exchange.body, dict) else {}
    found = body.get("attachment")
    return found if isinstance(found, dict) else {}


def remove(url: str, label: str, expect: Expect) -> Variant:
    return Variant(label, {"mediaUrl": url}, expect)


def test_attachment_uploaded_as_multipart_then_sent_and_removed(sunco: ConformanceSession) -> None:
    """Upload, send the mediaUrl as an image and a file, remove: once by its message, once by its URL."""
    records = Records(sunco, MESSAGE)
    where = records.parents()
    image, text = sunco.variants("uploads", uploads(where["conversationId"]), 2)
    answers = [sunco.call("UploadAttachment", variant=v) for v in (image, text)]
    urls = [
        sunco.require(attachment(a).get("mediaUrl"), "the uploaded attachment's mediaUrl", v)
        for a, v in zip(answers, (image, text), strict=True)
    ]
    for answer, sent in zip(answers, (image, text), strict=True):
        part = sent.body.files[0]
        sunco.expect_state(
            answer,
            attachment(answer).get("mediaType") == part.content_type,
            title="did not report the media type the file was uploaded with.",
            pointer="/attachment/mediaType",
            rule="an attachment's mediaType is its file's",
            expected=part.content_type,
            actual=attachment(answer).get("mediaType"),
            variant=sent.id,
        )
    using = st.tuples(defs.bodies("image"), defs.bodies("file")).map(
        lambda found: [
            created(MESSAGE, {**found[0], "content": {"type": "image", "mediaUrl": urls[0]}}, "image of the upload"),
            created(MESSAGE, {**found[1], "content": {"type": "file", "mediaUrl": urls[1]}}, "file of the upload"),
        ]
    )
    messages = sunco.variants("messages", using, 2)
    made = [sunco.require(records.create(v).id, v.label, v) for v in messages]
    page = records.call("list", expect=Expect(200))
    listed = {m.get("id"): m for m in (page.body or {}).get("messages", []) if isinstance(m, dict)}
    for message_id, sent in zip(made, (image, text), strict=True):
        shown = (listed.get(message_id) or {}).get("content") or {}
        part = sent.body.files[0]
        sunco.expect_state(
            page,
            (shown.get("mediaType"), shown.get("mediaSize")) == (part.content_type, len(part.content)),
            title="did not describe an uploaded attachment by its media type and size.",
            pointer="/messages",
            rule="a message of an upload's mediaUrl reports the upload's mediaType and mediaSize",
            expected=[part.content_type, len(part.content)],
            actual=[shown.get("mediaType"), shown.get("mediaSize")],
        )
    # for=message: the upload goes with its message.
    records.delete(made[0])
    removals = sunco.variants(
        "removals",
        st.just(
            [
                remove(urls[0], "an upload deleted with its message", Expect(404, "not_found")),
                remove(urls[1], "an upload for the app", Expect(200)),
                remove(urls[1], "the same upload again", Expect(404, "not_found")),
            ]
        ),
        3,
    )
    for variant in removals:
        sunco.call("DeleteAttachment", variant=variant)
    sunco.finish()


def test_upload_attachment_rejects_invalid_uploads(sunco: ConformanceSession) -> None:
    svg = SVG.encode()
    refused = Expect(400, BAD)
    variants = st.just(
        [
            upload("a.svg", "image/svg+xml", svg, "access private, which is not supported", refused, access="private"),
            upload(
                "a.svg",
                "image/svg+xml",
                svg,
                "for a conversation, where only message is supported",
                refused,
                **{"for": "conversation"},
            ),
            upload("empty.txt", "text/plain", b"", "an empty file", refused),
            upload("setup.exe", "application/octet-stream", b"MZ\x90\x00", "an executable file", refused),
            Variant(
                "source sent as a text field, not a file",
                MultipartBody(fields=(("source", SVG),)),
                refused,
                params={"query": {"access": "public"}},
            ),
            Variant(
                "no source part",
                MultipartBody(fields=(("note", "x"),)),
                refused,
                params={"query": {"access": "public"}},
            ),
            Variant(
                "no access parameter",
                MultipartBody(files=(FilePart("source", "a.svg", "image/svg+xml", svg),)),
                refused,
            ),
        ]
    )
    for variant in sunco.variants("invalid-uploads", variants, 7):
        sunco.call("UploadAttachment", variant=variant)
    sunco.finish()


def test_delete_attachment_rejects_foreign_and_unknown_urls(sunco: ConformanceSession) -> None:
    made = sunco.variants(
        "upload",
        safe_text(1, 12).map(
            lambda name: upload(f"{name}.svg", "image/svg+xml", SVG.encode(), "an image", Expect(201))
        ),
        1,
    )[0]
    url = sunco.require(attachment(sunco.call("UploadAttachment", variant=made)).get("mediaUrl"), "a mediaUrl", made)
    # The same URL with the attachment's id changed: the API's host, but nothing uploaded there.
    segments = url.split("/")
    segments[-2] = "0" * len(segments[-2])
    unknown = "/".join(segments)
    cases = st.just(
        [
            remove("https://badhost.example.com/image.png", "a URL of another host", Expect(400, BAD)),
            Variant("no mediaUrl", {}, Expect(400, BAD)),
            Variant("a body that is not JSON", RawBody("mediaUrl=" + url), Expect(400, BAD)),
            remove(unknown, "a URL of the API's that names no attachment", Expect(404, "not_found")),
            remove(url, "the upload", Expect(200)),
        ]
    )
    for variant in sunco.variants("removals", cases, 5):
        sunco.call("DeleteAttachment", variant=variant)
    sunco.finish()


def test_attachment_operations_require_credentials(sunco: ConformanceSession) -> None:
    refused = Expect(401, "unauthorized")
    cases = st.just(
        [
            upload("a.svg", "image/svg+xml", SVG.encode(), "an upload without credentials", refused),
            remove("https://badhost.example.com/image.png", "a removal without credentials", refused),
        ]
    )
    made, removal = sunco.variants("without-credentials", cases, 2)
    query = dict(made.params["query"])
    sunco.call("UploadAttachment", body=made.body, query=query, authenticate=False, expect=made.expect)
    sunco.call("DeleteAttachment", body=removal.body, authenticate=False, expect=removal.expect)
    sunco.finish()
