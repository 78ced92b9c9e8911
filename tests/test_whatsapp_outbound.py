"""OUTBOUND_TRANSPORT=whatsapp: replies sent to the Graph API from the durable queue.

Against tests/graph_server.py, a real local HTTP server standing in for Meta.
"""

import io

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Message, OutboundDelivery
from app.services import whatsapp_numbers
from tests import graph_server
from tests import whatsapp_payloads as meta
from tests.conftest import received, webhook_body
from tests.graph_server import HANG, GraphServer
from tests.test_replies_outbox import message, send_until_settled

pytestmark = pytest.mark.usefixtures("fast_password_hashes")


@pytest.fixture
def graph(app, people):
    """The app sends to a local Graph API from the owner's number, with short waits."""
    with GraphServer() as server:
        app.config.update(
            OUTBOUND_TRANSPORT="whatsapp",
            WHATSAPP_GRAPH_URL=server.url,
            WHATSAPP_GRAPH_VERSION=graph_server.VERSION,
            WHATSAPP_ACCESS_TOKEN=graph_server.TOKEN,
            WHATSAPP_APP_SECRET=meta.APP_SECRET,
            OUTBOUND_BACKOFF_SECONDS=0.01,
            OUTBOUND_MAX_ATTEMPTS=3,
            OUTBOUND_TIMEOUT_SECONDS=1,
        )
        whatsapp_numbers.add(meta.PHONE_NUMBER_ID, people["owner"].email)
        yield server


@pytest.fixture
def reply(client, headers_for, people, post_webhook):
    """reply(**body) -> the stored reply's id, in the owner's conversation with a customer."""
    created = post_webhook(**webhook_body(people["owner"], customer_phone="905551234567"))
    url = f"/api/conversations/{created.get_json()['data']['conversationId']}/messages"

    def send(**body) -> str:
        response = client.post(url, json=body, headers=headers_for(people["owner"]))
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    return send


def test_a_text_reply_is_sent_to_the_graph_api_and_its_wamid_kept(graph, reply, client):
    reply_id = reply(content="Kargonuz yolda.")
    send_until_settled()
    [sent] = graph.sends()
    assert sent.path == f"/{graph_server.VERSION}/{meta.PHONE_NUMBER_ID}/messages"
    assert sent.headers["Authorization"] == f"Bearer {graph_server.TOKEN}"
    assert sent.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+905551234567",
        "type": "text",
        "text": {"preview_url": False, "body": "Kargonuz yolda."},
    }
    stored = message(reply_id)
    assert stored.status == "sent" and stored.whatsapp_id == "wamid.graph-1"
    # Meta's later status names that wamid, and moves the reply on.
    raw, headers = meta.signed(
        meta.envelope(meta.change(statuses=[meta.status("wamid.graph-1", "delivered")]))
    )
    assert client.post("/api/webhooks/whatsapp", data=raw, headers=headers).status_code == 200
    assert message(reply_id).status == "delivered"


def test_a_template_reply_is_sent_as_a_template(graph, reply):
    template = {
        "name": "order_update",
        "language": "tr",
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "TR-1"}]}],
    }
    reply_id = reply(template=template)
    send_until_settled()
    [sent] = graph.sends()
    assert sent.body["type"] == "template"
    assert sent.body["template"] == {
        "name": "order_update",
        "language": {"code": "tr"},
        "components": template["components"],
    }
    assert message(reply_id).status == "sent"


@pytest.mark.parametrize("failure", [500, 503, 429])
def test_a_passing_failure_is_retried_from_the_queue(graph, reply, failure):
    graph.plan["Tekrar dene"] = [failure]
    reply_id = reply(content="Tekrar dene")
    send_until_settled()
    assert [r.answer for r in graph.sends()] == [failure, 200]
    assert message(reply_id).status == "sent"


def test_a_pair_rate_limit_is_retried(graph, reply):
    graph.plan["Yavaş"], graph.codes["Yavaş"] = [400], 131056
    reply_id = reply(content="Yavaş")
    send_until_settled()
    assert [r.answer for r in graph.sends()] == [400, 200]
    assert message(reply_id).status == "sent"


def test_a_refusal_fails_the_reply_at_once_with_whatsapps_code(graph, reply, people, socket_for):
    listener = socket_for(people["owner"])
    graph.plan["Ulaşmaz"], graph.codes["Ulaşmaz"] = [400, 400], 131026
    reply_id = reply(content="Ulaşmaz")
    send_until_settled()
    assert len(graph.sends()) == 1
    stored = message(reply_id)
    assert stored.status == "failed" and stored.error_code == 131026
    assert "Planned failure 400" in stored.error
    delivery = db.session.scalar(
        select(OutboundDelivery).where(OutboundDelivery.message_seq == stored.seq)
    )
    assert delivery.state == "failed"
    event = received(listener)["message_status"][-1]
    assert event["status"] == "failed" and event["errorCode"] == 131026


def test_a_timeout_is_retried_and_the_reply_sent_once(graph, reply):
    graph.plan["Bekle"] = [HANG]
    reply_id = reply(content="Bekle")
    try:
        send_until_settled()
    finally:
        graph.release()
    answers = [r.answer for r in graph.wait_for(lambda rs: len(rs) >= 2)]
    assert sorted(answers) == [200, 503]  # the held one answers only after the client gave up
    assert message(reply_id).status == "sent"
    assert message(reply_id).whatsapp_id is not None


def test_after_the_last_try_the_reply_fails_with_the_reason(graph, reply):
    graph.plan["Hep hata"] = [500, 500, 500]
    reply_id = reply(content="Hep hata")
    send_until_settled()
    stored = message(reply_id)
    assert stored.status == "failed"
    assert stored.error.startswith("WhatsApp did not accept the reply after 3 attempts")


def test_a_user_without_a_number_cannot_send(graph, reply):
    whatsapp_numbers.remove(meta.PHONE_NUMBER_ID)
    reply_id = reply(content="Numara yok")
    send_until_settled()
    assert graph.sends() == []
    assert "no WhatsApp number" in message(reply_id).error


def test_a_wrong_access_token_is_a_refusal(graph, app, reply):
    app.config["WHATSAPP_ACCESS_TOKEN"] = "expired"
    reply_id = reply(content="Yetki")
    send_until_settled()
    stored = message(reply_id)
    assert stored.status == "failed" and stored.error_code == 190
    assert db.session.scalar(select(Message.status).where(Message.id == reply_id)) == "failed"


def test_a_file_reply_is_sent_as_a_link_to_its_signed_url(
    graph, reply, app, client, people, headers_for, tmp_path
):
    from tests.media_samples import png

    app.config.update(MEDIA_ROOT=str(tmp_path / "media"), PUBLIC_URL="https://inbox.example.com")
    conversation_id = reply(content="önce metin")  # the fixture's conversation exists now
    conversation_id = message(conversation_id).conversation_id
    picture = png(64, 48)
    response = client.post(
        f"/api/conversations/{conversation_id}/messages",
        data={"file": (io.BytesIO(picture), "etiket.png", "image/png"), "content": "Etiketiniz"},
        content_type="multipart/form-data",
        headers=headers_for(people["owner"]),
    )
    assert response.status_code == 201, response.get_json()
    send_until_settled()
    sent = next(r for r in graph.sends() if r.body["type"] == "image")
    link = sent.body["image"]["link"]
    assert link.startswith("https://inbox.example.com/api/media/")
    assert sent.body["image"]["caption"] == "Etiketiniz"
    served = client.get(link.removeprefix("https://inbox.example.com"))
    assert served.status_code == 200 and served.data == picture
    assert message(response.get_json()["id"]).status == "sent"


def test_a_file_reply_after_the_window_is_refused_before_it_is_stored(
    graph, app, client, people, headers_for, post_webhook, tmp_path
):
    from tests.media_samples import png

    app.config["MEDIA_ROOT"] = str(tmp_path / "media")
    body = webhook_body(people["owner"], timestamp="2020-01-01T00:00:00Z")
    conversation_id = post_webhook(**body).get_json()["data"]["conversationId"]
    response = client.post(
        f"/api/conversations/{conversation_id}/messages",
        data={"file": (io.BytesIO(png(8, 8)), "a.png", "image/png")},
        content_type="multipart/form-data",
        headers=headers_for(people["owner"]),
    )
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "window_closed"
    assert [f for f in (tmp_path / "media").rglob("*") if f.is_file()] == []
