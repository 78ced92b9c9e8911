"""GET/POST /api/webhooks/whatsapp: Meta's handshake, signature, envelope, messages and statuses."""

import logging
import sqlite3

import pytest
from sqlalchemy import func, select

from app.extensions import db, socketio
from app.models import Conversation, Event, Message
from app.services import auth as auth_service
from app.services import replies, whatsapp_numbers
from app.services.users import create_user
from tests import whatsapp_payloads as meta
from tests.conftest import PASSWORD, received

pytestmark = pytest.mark.usefixtures("fast_password_hashes")

URL = "/api/webhooks/whatsapp"


def configure(app) -> None:
    app.config.update(WHATSAPP_APP_SECRET=meta.APP_SECRET, WHATSAPP_VERIFY_TOKEN=meta.VERIFY_TOKEN)


@pytest.fixture
def cloud(app, people):
    """The owner's number is tied to them; the app knows Meta's secrets."""
    configure(app)
    whatsapp_numbers.add(meta.PHONE_NUMBER_ID, people["owner"].email)
    return people


@pytest.fixture
def deliver(client):
    """deliver(*changes, entries=1) -> the response to Meta's signed envelope."""

    def post(*changes, entries: int = 1):
        raw, headers = meta.signed(meta.envelope(*changes, entries=entries))
        return client.post(URL, data=raw, headers=headers)

    return post


def counts() -> tuple[int, int, int]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Message, Conversation, Event)
    )


# The verification handshake


def test_handshake_echoes_the_challenge(client, cloud):
    response = client.get(
        URL,
        query_string={
            "hub.mode": "subscribe",
            "hub.verify_token": meta.VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "1158201444"


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": meta.VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ],
)
def test_handshake_with_a_wrong_token_is_403(client, cloud, query):
    response = client.get(URL, query_string=query)
    assert response.status_code == 403
    assert "1" not in response.get_data(as_text=True).split('"')


def test_handshake_without_a_configured_token_is_403(client, app):
    query = {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
    assert client.get(URL, query_string=query).status_code == 403


# The signature


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "sha1=abc", ""])
def test_a_missing_or_wrong_signature_is_401_and_stores_nothing(client, cloud, signature):
    raw, headers = meta.signed(meta.envelope(meta.change([meta.text("Merhaba")])))
    if signature is None:
        del headers["X-Hub-Signature-256"]
    else:
        headers["X-Hub-Signature-256"] = signature
    response = client.post(URL, data=raw, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert counts() == (0, 0, 0)


def test_a_body_changed_after_signing_is_401(client, cloud):
    raw, headers = meta.signed(meta.envelope(meta.change([meta.text("Merhaba")])))
    response = client.post(URL, data=raw.replace(b"Merhaba", b"Hacked!"), headers=headers)
    assert response.status_code == 401
    assert counts() == (0, 0, 0)


def test_a_body_signed_with_another_secret_is_401(client, cloud):
    raw, headers = meta.signed(meta.envelope(meta.change([meta.text("x")])), secret="other")
    assert client.post(URL, data=raw, headers=headers).status_code == 401


def test_without_a_configured_app_secret_every_post_is_401(client, people):
    whatsapp_numbers.add(meta.PHONE_NUMBER_ID, people["owner"].email)
    raw, headers = meta.signed(meta.envelope(meta.change([meta.text("x")])))
    assert client.post(URL, data=raw, headers=headers).status_code == 401


def test_a_signed_body_that_is_not_an_envelope_is_400(client, cloud):
    raw, headers = meta.signed({"entry": "nope"})
    response = client.post(URL, data=raw, headers=headers)
    assert response.status_code == 400
    assert counts() == (0, 0, 0)


# Messages


def test_text_message_is_stored_and_emitted_like_an_n8n_one(cloud, deliver, socket_for):
    owner, admin, other = cloud["owner"], cloud["admin"], cloud["other"]
    sockets = {name: socket_for(cloud[name]) for name in ("owner", "admin", "other")}
    sent = meta.text("Siparişim nerede?", at=1765100000)
    response = deliver(meta.change([sent]))
    assert response.status_code == 200
    assert response.get_json() == {
        "success": True,
        "stored": 1,
        "duplicates": 0,
        "statuses": 0,
        "ignored": 0,
    }
    events = {name: received(s).get("new_message", []) for name, s in sockets.items()}
    assert events["other"] == []
    assert events["owner"] == events["admin"] and len(events["owner"]) == 1
    event = events["owner"][0]
    assert event["userId"] == owner.id != admin.id != other.id
    assert event["customerPhone"] == "+905551110000"
    assert event["customerName"] == "Ayşe Kaya"
    assert event["messageContent"] == "Siparişim nerede?"
    assert event["messageType"] == "text" and event["direction"] == "INBOUND"
    assert event["timestamp"] == "2025-12-07T09:33:20.000Z"
    stored = db.session.scalar(select(Message))
    assert stored.whatsapp_id == sent["id"]


def test_the_same_wamid_again_stores_and_emits_nothing(cloud, deliver, socket_for):
    listener = socket_for(cloud["owner"])
    sent = meta.text("Bir kez")
    assert deliver(meta.change([sent])).get_json()["stored"] == 1
    again = deliver(meta.change([sent]))
    assert again.status_code == 200
    assert again.get_json()["duplicates"] == 1 and again.get_json()["stored"] == 0
    assert len(received(listener)["new_message"]) == 1
    assert counts() == (1, 1, 1)


def test_n8n_and_cloud_spellings_of_one_customer_share_a_conversation(cloud, deliver, post_webhook):
    from tests.conftest import webhook_body

    deliver(meta.change([meta.text("Cloud API")]))
    response = post_webhook(**webhook_body(cloud["owner"], customer_phone="+90 555 111 00 00"))
    assert response.status_code == 201
    assert db.session.scalar(select(func.count()).select_from(Conversation)) == 1


def test_several_entries_and_changes_are_all_stored(cloud, deliver):
    changes = [
        meta.change([meta.text("bir"), meta.text("iki")]),
        meta.change([meta.text("üç", sender="905552220000")], sender="905552220000", name="Can"),
        meta.change([meta.text("dört", sender="905553330000")], sender="905553330000", name="Efe"),
    ]
    response = deliver(*changes, entries=2)
    assert response.get_json()["stored"] == 4
    phones = set(db.session.scalars(select(Conversation.customer_phone)))
    assert phones == {"+905551110000", "+905552220000", "+905553330000"}


def test_messages_are_written_in_metas_order_and_a_late_older_one_is_no_preview(
    cloud, deliver, socket_for
):
    listener = socket_for(cloud["owner"])
    newer, older = meta.text("yeni", at=1765100300), meta.text("eski", at=1765100100)
    deliver(meta.change([newer, older]))
    order = [e["messageContent"] for e in received(listener)["new_message"]]
    assert order == ["eski", "yeni"]
    late = meta.text("daha eski, geç geldi", at=1765100000)
    deliver(meta.change([late]))
    conversation = db.session.scalar(select(Conversation))
    db.session.refresh(conversation)
    assert conversation.last_message == "yeni"


def test_a_change_for_an_unknown_number_is_200_and_logged(cloud, deliver, caplog):
    with caplog.at_level(logging.WARNING, logger="app.channels.whatsapp_cloud"):
        response = deliver(meta.change([meta.text("kime?")], number="999999999"))
    assert response.status_code == 200
    assert response.get_json()["ignored"] == 1
    assert counts() == (0, 0, 0)
    assert "999999999" in caplog.text


def test_other_fields_are_acknowledged_and_ignored(cloud, deliver):
    response = deliver(meta.change([meta.text("x")], field="message_template_status_update"))
    assert response.status_code == 200 and response.get_json()["ignored"] == 1
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize(
    ("build", "kind", "content"),
    [
        (meta.location, "location", "Sultanahmet, Fatih, İstanbul (41.0082, 28.9784)"),
        (meta.contacts, "contacts", "Barbara Johnson +1 (940) 555-1234"),
        (meta.button_reply, "interactive", "Değiştir"),
        (meta.list_reply, "interactive", "Express"),
        (meta.quick_reply_button, "button", "Stop promotions"),
        (
            meta.unsupported,
            "unsupported",
            "Message type unknown: Message type is currently not supported.",
        ),
        (meta.image, "image", "Faturam"),
    ],
)
def test_each_message_shape_is_stored_with_its_type(cloud, deliver, build, kind, content):
    assert deliver(meta.change([build()])).get_json()["stored"] == 1
    stored = db.session.scalar(select(Message))
    assert (stored.message_type, stored.content) == (kind, content)


def test_a_message_type_meta_adds_later_is_stored_as_unsupported(cloud, deliver):
    deliver(meta.change([meta.message("poll_creation", {"name": "?"})]))
    stored = db.session.scalar(select(Message))
    assert stored.message_type == "unsupported"
    assert "poll_creation" in stored.content


def test_a_reaction_is_not_stored_as_a_message(cloud, deliver):
    first = meta.text("Teşekkürler")
    deliver(meta.change([first]))
    response = deliver(meta.change([meta.reaction(first["id"])]))
    assert response.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Message)) == 1


def test_a_locked_database_is_503_and_metas_retry_stores_once(file_app):
    app, path = file_app
    configure(app)
    owner = create_user("cloud-locked@example.com", PASSWORD)
    whatsapp_numbers.add(meta.PHONE_NUMBER_ID, owner.email)
    listener = socketio.test_client(
        app, auth={"token": auth_service.issue_tokens(owner)["accessToken"]}
    )
    client = app.test_client()
    raw, headers = meta.signed(meta.envelope(meta.change([meta.text("a"), meta.text("b")])))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        response = client.post(URL, data=raw, headers=headers)
        assert response.status_code == 503
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert counts() == (0, 0, 0)
    assert received(listener) == {}
    retry = client.post(URL, data=raw, headers=headers)
    assert retry.get_json()["stored"] == 2
    assert len(received(listener)["new_message"]) == 2
    listener.disconnect()


# Statuses


@pytest.fixture
def reply(cloud, deliver):
    """A reply in the owner's conversation, handed over with a wamid (as the sender keeps it)."""
    deliver(meta.change([meta.text("Merhaba")]))
    conversation = db.session.scalar(select(Conversation))
    sent, _ = replies.create(conversation, cloud["owner"], "Size nasıl yardımcı olabilirim?", None)
    message = db.session.scalar(select(Message).where(Message.id == sent.id))
    message.whatsapp_id = meta.wamid()
    db.session.commit()
    return message


def test_statuses_move_the_reply_forward_only(
    cloud, deliver, reply, socket_for, client, headers_for
):
    listener = socket_for(cloud["owner"])
    response = deliver(
        meta.change(
            statuses=[
                meta.status(reply.whatsapp_id, "read", at=1765100300),
                meta.status(reply.whatsapp_id, "sent", at=1765100100),
                meta.status(reply.whatsapp_id, "delivered", at=1765100200),
            ]
        )
    )
    assert response.status_code == 200
    # In Meta's order: sent, delivered, read; a late one would be accepted and ignored.
    statuses = [e["status"] for e in received(listener)["message_status"]]
    assert statuses == ["sent", "delivered", "read"]
    again = deliver(meta.change(statuses=[meta.status(reply.whatsapp_id, "delivered")]))
    assert again.get_json()["statuses"] == 0 and again.get_json()["ignored"] == 1
    assert "message_status" not in received(listener)


def test_a_failed_status_keeps_whatsapps_error_and_code(
    cloud, deliver, reply, socket_for, client, headers_for
):
    listener = socket_for(cloud["owner"])
    error = meta.meta_error(
        131047,
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer"
        " last replied to this number.",
    )
    deliver(meta.change(statuses=[meta.status(reply.whatsapp_id, "failed", error=error)]))
    event = received(listener)["message_status"][0]
    assert event["status"] == "failed"
    assert event["errorCode"] == 131047
    assert event["error"].startswith("Re-engagement message: Message failed to send")
    page = client.get(
        f"/api/conversations/{reply.conversation_id}/messages", headers=headers_for(cloud["owner"])
    ).get_json()
    failed = next(m for m in page if m["id"] == reply.id)
    assert failed["status"] == "failed" and failed["errorCode"] == 131047
    assert failed["error"] == event["error"]


def test_a_status_of_a_message_we_do_not_know_is_acknowledged(cloud, deliver):
    response = deliver(meta.change(statuses=[meta.status("wamid.unknown", "delivered")]))
    assert response.status_code == 200 and response.get_json()["ignored"] == 1


def test_errors_meta_reports_are_logged(cloud, deliver, caplog):
    change = meta.change()
    change["value"]["errors"] = [meta.meta_error(130429, "Rate limit hit", "Too many messages")]
    with caplog.at_level(logging.ERROR, logger="app.channels.whatsapp_cloud"):
        assert deliver(change).status_code == 200
    assert "Rate limit hit: Too many messages" in caplog.text
