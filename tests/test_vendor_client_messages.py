"""The vendor's own generated client posts, lists and deletes messages of every content type and
uploads and removes attachments against the sandbox, as it would against the API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sunshine_conversations_client as vendor

from conformance.definitions import messages as defs
from conformance.sandbox import Sandbox
from conformance.variants.draw import draw

BODIES = {kind: draw(defs.bodies(kind).map(lambda body: [body]), 1, seed=31)[0] for kind in defs.SENDABLE}
MODELS = {
    "text": vendor.TextMessage,
    "image": vendor.ImageMessage,
    "file": vendor.FileMessage,
    "carousel": vendor.CarouselMessage,
    "list": vendor.ListMessage,
    "location": vendor.LocationMessage,
    "form": vendor.FormMessage,
    "template": vendor.TemplateMessage,
    "locationRequest": vendor.TextMessage,
}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


class Client:
    def __init__(self, sandbox: Sandbox) -> None:
        config = vendor.Configuration(host=sandbox.url, username=sandbox.key_id, password=sandbox.key_secret)
        api = vendor.ApiClient(config)
        self.app_id = sandbox.app_id
        self.messages = vendor.MessagesApi(api)
        self.attachments = vendor.AttachmentsApi(api)
        self.conversations = vendor.ConversationsApi(api)

    def conversation(self) -> str:
        body = vendor.ConversationCreateBody(type="sdkGroup")
        return str(self.conversations.create_conversation(self.app_id, body).conversation.id)

    def post(self, where: str, body: dict[str, Any]) -> Any:
        return self.messages.post_message(self.app_id, where, vendor.MessagePost.from_dict(body)).messages[0]


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with Sandbox(limits={"max_messages": 6, "message_page_size": 2}) as sandbox:
        yield Client(sandbox)


@pytest.mark.parametrize("kind", defs.SENDABLE)
def test_vendor_client_posts_and_reads_back_every_content_type(client: Client, kind: str) -> None:
    where = client.conversation()
    sent = client.post(where, BODIES[kind])
    assert isinstance(sent.content.actual_instance, MODELS[kind])
    listed = client.messages.list_messages(client.app_id, where).messages
    assert [m.id for m in listed] == [sent.id]
    assert listed[0].content.actual_instance.to_dict() == sent.content.actual_instance.to_dict()


def test_vendor_client_pages_back_deletes_one_and_all_and_meets_the_limit(client: Client) -> None:
    where = client.conversation()
    made = [client.post(where, BODIES["text"]).id for _ in range(5)]
    newest = client.messages.list_messages(client.app_id, where)
    assert [m.id for m in newest.messages] == made[3:5]
    assert newest.meta.has_more
    back = client.messages.list_messages(client.app_id, where, page=vendor.Page(before=newest.meta.before_cursor))
    assert [m.id for m in back.messages] == made[1:3]
    client.messages.delete_message(client.app_id, where, made[0])
    with pytest.raises(vendor.ApiException) as gone:
        client.messages.delete_message(client.app_id, where, made[0])
    assert gone.value.status == 404
    client.post(where, BODIES["text"])
    client.post(where, BODIES["text"])
    with pytest.raises(vendor.ApiException) as full:
        client.post(where, BODIES["text"])
    assert (full.value.status, '"locked"' in str(full.value.body)) == (423, True)
    client.messages.delete_all_messages(client.app_id, where)
    assert client.messages.list_messages(client.app_id, where).messages == []


def test_vendor_client_uploads_an_attachment_sends_it_and_removes_it(client: Client) -> None:
    where = client.conversation()
    found = client.attachments.upload_attachment(client.app_id, "public", ("cat.png", PNG)).attachment
    assert found.media_type == "image/png"
    image = client.post(where, {**BODIES["text"], "content": {"type": "image", "mediaUrl": found.media_url}})
    assert (image.content.actual_instance.media_size, image.content.actual_instance.alt_text) == (len(PNG), "cat.png")
    client.attachments.delete_attachment(client.app_id, vendor.AttachmentDeleteBody(media_url=found.media_url))
    with pytest.raises(vendor.ApiException) as gone:
        client.attachments.delete_attachment(client.app_id, vendor.AttachmentDeleteBody(media_url=found.media_url))
    assert gone.value.status == 404
