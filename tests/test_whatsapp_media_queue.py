"""Cloud API files: the message is emitted at once, its file fetched from the Graph API by id
from a durable queue, then `message_media`; plus locations, quotes and reactions from Meta."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Media, Message, WhatsappMediaFetch
from app.services import media_fetches, whatsapp_numbers
from tests import graph_server
from tests import whatsapp_payloads as meta
from tests.conftest import received
from tests.graph_server import GraphServer
from tests.media_samples import png

pytestmark = pytest.mark.usefixtures("fast_password_hashes")

URL = "/api/webhooks/whatsapp"


@pytest.fixture
def graph(app, people, tmp_path):
    with GraphServer() as server:
        app.config.update(
            WHATSAPP_APP_SECRET=meta.APP_SECRET,
            WHATSAPP_GRAPH_URL=server.url,
            WHATSAPP_GRAPH_VERSION=graph_server.VERSION,
            WHATSAPP_ACCESS_TOKEN=graph_server.TOKEN,
            OUTBOUND_BACKOFF_SECONDS=0,
            OUTBOUND_MAX_ATTEMPTS=3,
            OUTBOUND_TIMEOUT_SECONDS=2,
            MEDIA_ROOT=str(tmp_path / "media"),
        )
        whatsapp_numbers.add(meta.PHONE_NUMBER_ID, people["owner"].email)
        yield server


@pytest.fixture
def deliver(client):
    def post(*parts):
        raw, headers = meta.signed(meta.envelope(meta.change(list(parts))))
        response = client.post(URL, data=raw, headers=headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    return post


def fetch_row() -> WhatsappMediaFetch:
    query = select(WhatsappMediaFetch).execution_options(populate_existing=True)
    return db.session.scalar(query)


def test_the_message_comes_at_once_and_its_file_follows(
    graph, deliver, socket_for, people, client, headers_for
):
    listener = socket_for(people["owner"])
    image = png()
    graph.media["1013859600285441"] = ("image/png", image)
    deliver(
        meta.image(
            media_id="1013859600285441", caption="Faturam", data=image, mime_type="image/png"
        )
    )
    [first] = received(listener)["new_message"]
    assert first["messageType"] == "image" and first["media"] is None
    assert first["messageContent"] == "Faturam"
    assert graph.requests == []  # the webhook answered before any download

    assert media_fetches.fetch_due() == 1
    [event] = received(listener)["message_media"]
    assert event["messageId"] == first["id"] and event["eventId"] > first["eventId"]
    assert event["media"]["mimeType"] == "image/png" and event["media"]["size"] == len(image)
    assert event["media"]["caption"] == "Faturam"
    served = client.get(event["media"]["url"])
    assert served.status_code == 200 and served.data == image
    page = client.get(
        f"/api/conversations/{first['conversationId']}/messages",
        headers=headers_for(people["owner"]),
    ).get_json()
    assert page[0]["media"]["id"] == event["media"]["id"]
    assert fetch_row().state == "done"


def test_a_failed_download_is_retried_from_the_queue(graph, deliver):
    image = png()
    graph.media["55"] = ("image/png", image)
    graph.plan["media:/files/55"] = [503]
    deliver(meta.image(media_id="55", data=image, mime_type="image/png"))
    media_fetches.fetch_due()
    row = fetch_row()
    assert row.state == "queued" and row.attempts == 1 and "503" in row.last_error
    media_fetches.fetch_due()
    assert fetch_row().state == "done"
    assert db.session.scalar(select(Media.message_id)) == db.session.scalar(select(Message.id))


def test_after_the_last_try_the_message_stays_without_its_file(graph, deliver):
    deliver(meta.image(media_id="404404"))
    for _ in range(3):
        media_fetches.fetch_due()
    row = fetch_row()
    assert row.state == "failed" and row.attempts == 3
    assert "gave up after 3 attempts" in row.last_error
    assert db.session.scalar(select(Media)) is None


def test_a_file_whose_bytes_lie_is_not_tried_again(graph, deliver):
    lying = b"MZ\x90\x00 this is no picture" * 20
    graph.media["66"] = ("image/jpeg", lying)
    deliver(meta.image(media_id="66", data=lying))
    media_fetches.fetch_due()
    row = fetch_row()
    assert row.state == "failed" and row.attempts == 1
    assert db.session.scalar(select(Media)) is None


def test_a_file_that_is_not_the_one_meta_described_is_refused(graph, deliver):
    graph.media["67"] = ("image/png", png())
    deliver(meta.image(media_id="67", data=b"other bytes", mime_type="image/png"))
    media_fetches.fetch_due()
    row = fetch_row()
    assert row.state == "failed" and "sha256" in row.last_error


def test_a_repeated_wamid_queues_no_second_fetch(graph, deliver):
    graph.media["77"] = ("image/png", png())
    sent = meta.image(media_id="77")
    deliver(sent)
    assert deliver(sent)["duplicates"] == 1
    assert len(db.session.scalars(select(WhatsappMediaFetch)).all()) == 1


def test_location_quote_and_reaction_use_the_rich_message_fields(
    graph, deliver, socket_for, people
):
    listener = socket_for(people["owner"])
    first = meta.text("Adresiniz?")
    deliver(first)
    place = meta.location(context={"from": meta.CUSTOMER, "id": first["id"]})
    deliver(place)
    events = received(listener)["new_message"]
    assert events[1]["location"] == {
        "latitude": 41.0082,
        "longitude": 28.9784,
        "name": "Sultanahmet",
        "address": "Fatih, İstanbul",
    }
    assert events[1]["replyTo"] == events[0]["id"]
    reacted = deliver(meta.reaction(first["id"], "\U0001f44d"))
    assert reacted["stored"] == 1
    [reaction] = received(listener)["message_reaction"]
    assert reaction["messageId"] == events[0]["id"] and reaction["reactions"] == {"\U0001f44d": 1}
    assert deliver(meta.reaction("wamid.never-seen"))["ignored"] == 1
