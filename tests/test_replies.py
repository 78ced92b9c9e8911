"""POST /api/conversations/<id>/messages: storing a reply, idempotency, refusals, events."""

import sqlite3

import pytest
from sqlalchemy import func, select

from app.extensions import db, socketio
from app.models import Event, Message, OutboundDelivery
from app.services import auth as auth_service
from app.services.users import create_user
from tests.conftest import NEW_MESSAGE_KEYS, PASSWORD, received, webhook_body


def stored() -> tuple[int, int, int]:
    """(messages, outbox rows, events) in the database."""
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Message, OutboundDelivery, Event)
    )


@pytest.fixture
def conversation_id(people, post_webhook):
    """A conversation of the owner, started by one inbound message."""
    response = post_webhook(**webhook_body(people["owner"], message_id="wamid.IN-1"))
    return response.get_json()["data"]["conversationId"]


@pytest.fixture
def reply(client, headers_for, people, conversation_id):
    """reply(content=..., as_=user, conversation=id, **fields) -> the POST response."""

    def post(content="Kargoya verildi.", as_="owner", conversation=None, **fields):
        body = {"content": content, **fields}
        return client.post(
            f"/api/conversations/{conversation or conversation_id}/messages",
            json=body,
            headers=headers_for(people[as_]),
        )

    return post


@pytest.fixture
def watchers(people, socket_for):
    """Connected sockets of the owner, another user and an admin; drained after setup."""
    sockets = {name: socket_for(user) for name, user in people.items()}
    for test_client in sockets.values():
        received(test_client)
    return sockets


def assert_error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["message"]
    if field:
        assert error["field"] == field
    return error


# Storing a reply


def test_reply_is_201_the_new_message_keys_plus_pending_status(reply, people, conversation_id):
    response = reply("Siparişiniz yarın kargoda.")
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == NEW_MESSAGE_KEYS | {"status"}
    assert body["status"] == "pending"
    assert body["direction"] == "OUTBOUND"
    assert body["messageContent"] == "Siparişiniz yarın kargoda."
    assert body["conversationId"] == conversation_id
    assert body["userId"] == people["owner"].id
    assert body["customerPhone"] == "+905551234567"
    assert body["timestamp"].endswith("Z")
    assert body["isRead"] is False


def test_reply_is_stored_queued_and_shown_in_the_conversation_list(
    reply, client, headers_for, people
):
    message_id = reply("Teşekkürler").get_json()["id"]
    message = db.session.scalar(select(Message).where(Message.id == message_id))
    assert (message.status, message.sent_by) == ("pending", people["owner"].id)
    (delivery,) = db.session.scalars(select(OutboundDelivery))
    assert (delivery.message_seq, delivery.state, delivery.attempts) == (message.seq, "queued", 0)
    (conversation,) = client.get("/api/conversations", headers=headers_for(people["owner"])).json
    assert conversation["lastMessage"] == "Teşekkürler"


def test_reply_emits_new_message_once_to_owner_and_admin_only(reply, watchers):
    body = reply().get_json()
    for name in ("owner", "admin"):
        (payload,) = received(watchers[name])["new_message"]
        assert isinstance(payload.pop("eventId"), int)
        assert payload == {key: body[key] for key in NEW_MESSAGE_KEYS}
    assert received(watchers["other"]) == {}


def test_admin_may_reply_in_an_agents_conversation(reply, people, watchers):
    response = reply("Yönetici yanıtı", as_="admin")
    assert response.status_code == 201
    body = response.get_json()
    assert body["userId"] == people["owner"].id
    message = db.session.scalar(select(Message).where(Message.id == body["id"]))
    assert message.sent_by == people["admin"].id
    assert len(received(watchers["owner"])["new_message"]) == 1


def test_content_is_trimmed(reply):
    assert reply("  Merhaba \n").get_json()["messageContent"] == "Merhaba"


def test_listings_carry_the_status_of_replies_and_null_for_inbound(
    reply, client, headers_for, people, conversation_id
):
    reply("yanıt")
    headers = headers_for(people["owner"])
    page = client.get(f"/api/conversations/{conversation_id}/messages", headers=headers).json
    assert [(m["direction"], m["status"]) for m in page] == [
        ("INBOUND", None),
        ("OUTBOUND", "pending"),
    ]
    resync = client.get("/api/messages", headers=headers).json
    assert [m["status"] for m in resync] == [None, "pending"]
    assert client.get("/api/messages/stats", headers=headers).json["outbound"] == 1


# Idempotency on clientMessageId


def test_same_client_message_id_is_200_with_the_same_message_nothing_twice(reply, watchers):
    first = reply("bir kez", clientMessageId="c-123")
    assert first.status_code == 201
    received(watchers["owner"])
    before = stored()

    again = reply("bir kez", clientMessageId="c-123")
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert stored() == before
    assert received(watchers["owner"]) == {}


def test_same_client_message_id_by_the_admin_returns_the_stored_reply(reply):
    first = reply("ilk", clientMessageId="shared-key")
    again = reply("ilk", as_="admin", clientMessageId="shared-key")
    assert (again.status_code, again.get_json()["id"]) == (200, first.get_json()["id"])


def test_client_message_id_is_scoped_to_the_conversation(reply, people, post_webhook):
    other_phone = webhook_body(people["owner"], customer_phone="+905559999999")
    second = post_webhook(**other_phone).get_json()["data"]["conversationId"]
    first = reply("a", clientMessageId="k-1")
    elsewhere = reply("a", conversation=second, clientMessageId="k-1")
    assert elsewhere.status_code == 201
    assert elsewhere.get_json()["id"] != first.get_json()["id"]


def test_replies_without_client_message_id_are_each_stored(reply):
    ids = {reply("aynı metin").get_json()["id"] for _ in range(3)}
    assert len(ids) == 3
    assert stored()[1] == 3


# Refusals: nothing stored, nothing emitted


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"content": ""}, "content"),
        ({"content": "   \n "}, "content"),
        ({"content": 42}, "content"),
        ({"content": None}, "content"),
        ({}, "content"),
        ({"content": "x" * 4097}, "content"),
        ({"content": "ok", "clientMessageId": ""}, "clientMessageId"),
        ({"content": "ok", "clientMessageId": 7}, "clientMessageId"),
        ({"content": "ok", "clientMessageId": "k" * 65}, "clientMessageId"),
        ({"content": "a\x00b"}, "content"),
        ({"content": "ok", "clientMessageId": "k\x00"}, "clientMessageId"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_nothing_stored(
    client, headers_for, people, conversation_id, watchers, fields, field
):
    before = stored()
    response = client.post(
        f"/api/conversations/{conversation_id}/messages",
        json=fields,
        headers=headers_for(people["owner"]),
    )
    assert_error(response, 400, field)
    assert stored() == before
    assert received(watchers["owner"]) == {}


def test_content_of_4096_characters_is_accepted(reply):
    assert reply("y" * 4096).status_code == 201


def test_body_not_a_json_object_is_400(client, headers_for, people, conversation_id):
    response = client.post(
        f"/api/conversations/{conversation_id}/messages",
        data="content=hello",
        headers=headers_for(people["owner"]),
    )
    assert_error(response, 400, "body")


def test_body_over_64_kib_is_413(reply):
    before = stored()
    assert_error(reply("ş" * 40_000), 413)
    assert stored() == before


def test_someone_elses_conversation_is_403_and_nothing_stored(reply, watchers):
    before = stored()
    assert_error(reply("sızma", as_="other"), 403)
    assert stored() == before
    assert all(received(test_client) == {} for test_client in watchers.values())


def test_unknown_conversation_is_404(reply):
    before = stored()
    assert_error(reply("boşluğa", conversation=999_999), 404)
    assert stored() == before


def test_without_a_token_is_401(client, conversation_id):
    response = client.post(f"/api/conversations/{conversation_id}/messages", json={"content": "x"})
    assert response.status_code == 401
    assert stored()[1] == 0


# The database down


def test_database_locked_is_503_and_the_clients_retry_sends_once(file_app, fast_password_hashes):
    app, path = file_app
    user = create_user("locked-reply@example.com", PASSWORD)
    client = app.test_client()
    headers = {"X-Webhook-Secret": "test-webhook-secret"}
    created = client.post("/api/webhooks/n8n/message", json=webhook_body(user), headers=headers)
    url = f"/api/conversations/{created.get_json()['data']['conversationId']}/messages"
    auth = {"Authorization": f"Bearer {auth_service.issue_tokens(user)['accessToken']}"}
    socket = socketio.test_client(app, auth={"token": auth["Authorization"][7:]})
    body = {"content": "kilitli", "clientMessageId": "retry-after-503"}
    before = stored()

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        assert_error(client.post(url, json=body, headers=auth), 503)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert stored() == before
    assert received(socket) == {}

    assert client.post(url, json=body, headers=auth).status_code == 201
    assert client.post(url, json=body, headers=auth).status_code == 200
    assert stored() == (before[0] + 1, 1, before[2] + 1)
    assert len(received(socket)["new_message"]) == 1
    socket.disconnect()
