"""The 24-hour window: windowExpiresAt, free-form replies refused after it, templates always."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Message, OutboundDelivery
from tests.conftest import webhook_body

pytestmark = pytest.mark.usefixtures("fast_password_hashes")

TEMPLATES = [
    {"name": "order_update", "language": "tr", "text": "Siparişiniz {{1}} kargoya verildi."},
    {"name": "hello_world", "language": "en_US", "text": "Hello World"},
]


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


@pytest.fixture
def conversation_at(people, post_webhook):
    """conversation_at(hours_ago) -> the id of a conversation whose customer wrote then."""

    def make(hours_ago: float, phone: str = "+905551234567") -> int:
        when = datetime.now(UTC) - timedelta(hours=hours_ago)
        body = webhook_body(people["owner"], customer_phone=phone, timestamp=_iso(when))
        return post_webhook(**body).get_json()["data"]["conversationId"]

    return make


@pytest.fixture
def reply(client, headers_for, people):
    def post(conversation_id: int, **body):
        return client.post(
            f"/api/conversations/{conversation_id}/messages",
            json=body,
            headers=headers_for(people["owner"]),
        )

    return post


def stored_replies() -> tuple[int, int]:
    outbound = select(func.count()).select_from(Message).where(Message.direction == "OUTBOUND")
    queued = select(func.count()).select_from(OutboundDelivery)
    return db.session.scalar(outbound), db.session.scalar(queued)


def test_every_conversation_has_its_window(client, headers_for, people, conversation_at):
    conversation_at(2, phone="+905551111111")
    listed = client.get("/api/conversations", headers=headers_for(people["owner"])).get_json()
    expires = datetime.fromisoformat(listed[0]["windowExpiresAt"].replace("Z", "+00:00"))
    expected = datetime.now(UTC) + timedelta(hours=22)
    assert abs((expires - expected).total_seconds()) < 120


def test_no_inbound_message_means_no_window(client, headers_for, people, post_webhook):
    post_webhook(**webhook_body(people["owner"], direction="OUTBOUND"))
    listed = client.get("/api/conversations", headers=headers_for(people["owner"])).get_json()
    assert listed[0]["windowExpiresAt"] is None


def test_the_window_follows_the_customers_newest_message(
    client, headers_for, people, conversation_at
):
    conversation_at(30)
    conversation_at(1)
    conversation_at(50)  # a late older one does not move it back
    listed = client.get("/api/conversations", headers=headers_for(people["owner"])).get_json()
    expires = datetime.fromisoformat(listed[0]["windowExpiresAt"].replace("Z", "+00:00"))
    assert expires > datetime.now(UTC) + timedelta(hours=22)


def test_a_free_form_reply_inside_the_window_is_sent(conversation_at, reply):
    response = reply(conversation_at(23), content="Hâlâ buradayız")
    assert response.status_code == 201
    assert stored_replies() == (1, 1)


def test_a_free_form_reply_after_the_window_is_409_window_closed(conversation_at, reply):
    response = reply(conversation_at(25), content="Çok geç")
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "window_closed" and error["message"]
    assert stored_replies() == (0, 0)


def test_without_any_customer_message_free_form_is_refused(people, post_webhook, reply):
    body = webhook_body(people["owner"], direction="OUTBOUND")
    conversation_id = post_webhook(**body).get_json()["data"]["conversationId"]
    assert reply(conversation_id, content="Merhaba").status_code == 409


def test_a_template_is_allowed_after_the_window(app, conversation_at, reply, socket_for, people):
    app.config["WHATSAPP_TEMPLATES"] = json.dumps(TEMPLATES)
    listener = socket_for(people["owner"])
    template = {
        "name": "order_update",
        "language": "tr",
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "TR-981"}]}],
    }
    response = reply(conversation_at(72), template=template, clientMessageId="tpl-1")
    assert response.status_code == 201, response.get_json()
    sent = response.get_json()
    assert sent["messageType"] == "template"
    assert sent["messageContent"] == "Siparişiniz TR-981 kargoya verildi."
    assert sent["status"] == "pending"
    stored = db.session.scalar(select(Message).where(Message.id == sent["id"]))
    assert json.loads(stored.template) == {
        "name": "order_update",
        "language": {"code": "tr"},
        "components": template["components"],
    }
    event = listener.get_received()[-1]["args"][0]
    assert event["id"] == sent["id"] and event["messageType"] == "template"


def test_an_unlisted_template_is_sent_under_its_name(conversation_at, reply):
    response = reply(conversation_at(30), template={"name": "promo", "language": "de"})
    assert response.status_code == 201
    assert response.get_json()["messageContent"] == "[promo (de)]"


def test_a_repeated_client_message_id_after_the_window_closed_is_the_stored_reply(
    app, conversation_at, reply
):
    conversation_id = conversation_at(23.99)
    first = reply(conversation_id, content="Son dakika", clientMessageId="late-1")
    assert first.status_code == 201
    db.session.execute(
        Message.__table__.update()
        .where(Message.direction == "INBOUND")
        .values(timestamp=Message.timestamp - timedelta(hours=2))
    )
    db.session.commit()
    again = reply(conversation_id, content="Son dakika", clientMessageId="late-1")
    assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"content": "x", "template": {"name": "hello_world", "language": "en_US"}},
        {"template": {"name": "hello_world"}},
        {"template": {"name": " ", "language": "en"}},
        {"content": None},
    ],
)
def test_content_or_a_template_is_required(conversation_at, reply, body):
    response = reply(conversation_at(1), **body)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"].split(".")[0] in ("content", "template")
    assert stored_replies() == (0, 0)


def test_the_window_can_be_left_to_another_channel(app, conversation_at, reply):
    app.config["REPLY_WINDOW_ENFORCED"] = False
    assert reply(conversation_at(48), content="SMS ile").status_code == 201


def test_templates_are_listed_from_configuration(app, client, headers_for, people):
    assert client.get("/api/templates", headers=headers_for(people["owner"])).get_json() == []
    app.config["WHATSAPP_TEMPLATES"] = json.dumps(TEMPLATES)
    listed = client.get("/api/templates", headers=headers_for(people["owner"])).get_json()
    assert listed == TEMPLATES
    assert client.get("/api/templates").status_code == 401
