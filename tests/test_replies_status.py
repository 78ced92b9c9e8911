"""POST /api/webhooks/n8n/status: the monotonic rule, look-ups, refusals, message_status events."""

import sqlite3

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Event, Message, OutboundDelivery
from app.services.delivery_status import may_change
from tests.conftest import WEBHOOK_SECRET, received, webhook_body

URL = "/api/webhooks/n8n/status"
MISSING = object()


@pytest.fixture
def reply_id(client, headers_for, people, post_webhook):
    """A pending reply in a conversation of the owner."""
    created = post_webhook(**webhook_body(people["owner"], message_id="wamid.IN-1"))
    conversation_id = created.get_json()["data"]["conversationId"]
    response = client.post(
        f"/api/conversations/{conversation_id}/messages",
        json={"content": "Yanıtımız"},
        headers=headers_for(people["owner"]),
    )
    return response.get_json()["id"]


@pytest.fixture
def watchers(people, socket_for, reply_id):
    """Sockets of the owner, another user and an admin, connected after the reply."""
    sockets = {name: socket_for(user) for name, user in people.items()}
    for test_client in sockets.values():
        received(test_client)
    return sockets


@pytest.fixture
def post_status(client):
    """post_status(message_id, status, secret=..., **fields) -> the response."""

    def post(message_id, status, secret=WEBHOOK_SECRET, **fields):
        body = {"message_id": message_id, "status": status, **fields}
        return client.post(URL, json=body, headers={"X-Webhook-Secret": secret})

    return post


def status_of(message_id: str) -> tuple[str, str | None]:
    message = db.session.scalar(
        select(Message).where(Message.id == message_id).execution_options(populate_existing=True)
    )
    return message.status, message.error


def status_events() -> list[dict]:
    rows = db.session.scalars(
        select(Event).where(Event.name == "message_status").order_by(Event.id)
    )
    return [row.data for row in rows]


# The rule


@pytest.mark.parametrize(
    "current, new, allowed",
    [
        ("pending", "sent", True),
        ("pending", "read", True),
        ("sent", "delivered", True),
        ("delivered", "read", True),
        ("read", "delivered", False),
        ("delivered", "sent", False),
        ("read", "read", False),
        ("pending", "failed", True),
        ("sent", "failed", True),
        ("delivered", "failed", False),
        ("read", "failed", False),
        ("failed", "sent", False),
        ("failed", "read", False),
        (None, "delivered", True),
    ],
)
def test_monotonic_rule(current, new, allowed):
    assert may_change(current, new) is allowed


# The webhook


def test_sent_read_delivered_ends_read_with_two_events(post_status, reply_id, watchers):
    answers = [post_status(reply_id, s) for s in ("sent", "read", "delivered")]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.get_json()["changed"] for a in answers] == [True, True, False]
    assert answers[2].get_json()["data"] == {
        "id": reply_id,
        "conversationId": answers[0].get_json()["data"]["conversationId"],
        "status": "read",
    }
    assert status_of(reply_id) == ("read", None)
    for name in ("owner", "admin"):
        events = received(watchers[name])["message_status"]
        assert [e["status"] for e in events] == ["sent", "read"]
        assert events[0]["eventId"] < events[1]["eventId"]
        assert set(events[0]) == {"messageId", "conversationId", "status", "at", "eventId"}
    assert received(watchers["other"]) == {}
    assert [e["status"] for e in status_events()] == ["sent", "read"]


def test_repeated_status_is_accepted_and_ignored(post_status, reply_id, watchers):
    post_status(reply_id, "delivered")
    again = post_status(reply_id, "delivered")
    assert (again.status_code, again.get_json()["changed"]) == (200, False)
    assert len(received(watchers["owner"])["message_status"]) == 1


def test_timestamp_becomes_the_events_at(post_status, reply_id, watchers):
    post_status(reply_id, "delivered", timestamp="2026-03-01T10:00:00+03:00")
    (payload,) = received(watchers["owner"])["message_status"]
    assert payload["at"] == "2026-03-01T07:00:00.000Z"


def test_failed_carries_the_error_and_then_nothing_replaces_it(post_status, reply_id, watchers):
    response = post_status(reply_id, "failed", error="131026: receiver incapable")
    assert response.get_json()["data"]["error"] == "131026: receiver incapable"
    assert status_of(reply_id) == ("failed", "131026: receiver incapable")
    for late in ("sent", "delivered", "read", "failed"):
        assert post_status(reply_id, late).get_json()["changed"] is False
    (payload,) = received(watchers["owner"])["message_status"]
    assert (payload["status"], payload["error"]) == ("failed", "131026: receiver incapable")


def test_failed_without_an_error_text_gets_a_reason(post_status, reply_id):
    post_status(reply_id, "failed")
    assert status_of(reply_id)[1]


def test_failed_after_delivered_is_ignored(post_status, reply_id):
    post_status(reply_id, "delivered")
    assert post_status(reply_id, "failed", error="late").get_json()["changed"] is False
    assert status_of(reply_id) == ("delivered", None)


def test_status_word_is_case_insensitive(post_status, reply_id):
    assert post_status(reply_id, " Delivered ").get_json()["changed"] is True


def test_look_up_by_the_whatsapp_id(post_status, reply_id, watchers):
    db.session.execute(
        update(Message).where(Message.id == reply_id).values(whatsapp_id="wamid.OUT-1")
    )
    db.session.commit()
    response = post_status("wamid.OUT-1", "delivered")
    assert response.get_json()["data"]["id"] == reply_id
    assert received(watchers["owner"])["message_status"][0]["messageId"] == reply_id


def test_a_status_closes_the_queued_delivery_so_it_is_not_sent_again(post_status, reply_id):
    post_status(reply_id, "sent")
    assert db.session.scalar(select(OutboundDelivery.state)) == "done"


def test_outbound_message_reported_by_n8n_gets_its_first_status(post_status, post_webhook, people):
    body = webhook_body(people["owner"], direction="OUTBOUND", message_id="wamid.FROM-PHONE")
    post_webhook(**body)
    assert post_status("wamid.FROM-PHONE", "delivered").get_json()["changed"] is True
    assert post_status("wamid.FROM-PHONE", "sent").get_json()["changed"] is False


def test_message_status_is_replayed_on_reconnect(post_status, reply_id, people, socket_for):
    last_seen = db.session.scalar(select(func.max(Event.id)))
    post_status(reply_id, "sent")
    post_status(reply_id, "delivered")
    again = socket_for(people["owner"], lastEventId=last_seen)
    replayed = received(again)["message_status"]
    assert [e["status"] for e in replayed] == ["sent", "delivered"]


def test_message_status_is_in_the_rest_event_log(
    post_status, reply_id, client, headers_for, people
):
    post_status(reply_id, "sent")
    log = client.get("/api/events", headers=headers_for(people["owner"])).get_json()
    (entry,) = [e for e in log["events"] if e["event"] == "message_status"]
    assert entry["data"]["status"] == "sent" and entry["data"]["eventId"] == entry["eventId"]


# Refusals: nothing changed, nothing emitted


def test_wrong_or_missing_secret_is_401(post_status, reply_id, watchers):
    assert post_status(reply_id, "sent", secret="nope").status_code == 401
    assert post_status(reply_id, "sent", secret="").status_code == 401
    assert status_of(reply_id) == ("pending", None)
    assert received(watchers["owner"]) == {}


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"message_id": MISSING, "status": "sent"}, "message_id"),
        ({"message_id": None, "status": "sent"}, "message_id"),
        ({"message_id": "", "status": "sent"}, "message_id"),
        ({"message_id": 5, "status": "sent"}, "message_id"),
        ({"status": MISSING}, "status"),
        ({"status": "pending"}, "status"),
        ({"status": "seen"}, "status"),
        ({"status": None}, "status"),
        ({"status": 3}, "status"),
        ({"status": "sent", "timestamp": "yesterday"}, "timestamp"),
        ({"status": "failed", "error": {"code": 1}}, "error"),
        ({"status": "failed", "error": "e" * 1001}, "error"),
        ({"status": "failed", "error": "bad\x00"}, "error"),
        ({"message_id": "msg_\x00", "status": "sent"}, "message_id"),
    ],
)
def test_bad_input_is_400_naming_the_field(client, reply_id, watchers, fields, field):
    body = {"message_id": reply_id, **fields}
    body = {key: value for key, value in body.items() if value is not MISSING}
    response = client.post(URL, json=body, headers={"X-Webhook-Secret": WEBHOOK_SECRET})
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["field"] == field
    assert status_of(reply_id) == ("pending", None)
    assert received(watchers["owner"]) == {}


def test_body_not_an_object_is_400(client):
    response = client.post(URL, data="x", headers={"X-Webhook-Secret": WEBHOOK_SECRET})
    assert response.status_code == 400


def test_body_over_64_kib_is_413(post_status, reply_id):
    response = post_status(reply_id, "failed", error="e" * 70_000)
    assert response.status_code == 413
    assert status_of(reply_id) == ("pending", None)


def test_unknown_message_is_404(post_status, reply_id):
    response = post_status("msg_nope", "sent")
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "message_id"
    assert status_events() == []


def test_inbound_message_is_409(post_status, reply_id):
    response = post_status("wamid.IN-1", "read")
    assert response.status_code == 409
    assert status_events() == []


# The database down


def test_database_locked_is_503_and_n8ns_retry_applies_once(file_app, fast_password_hashes):
    _locked_status_round_trip(*file_app)


def _locked_status_round_trip(app, path) -> None:
    from app.services.users import create_user
    from tests.conftest import PASSWORD

    user = create_user("status-locked@example.com", PASSWORD)
    client = app.test_client()
    headers = {"X-Webhook-Secret": WEBHOOK_SECRET}
    body = webhook_body(user, direction="OUTBOUND", message_id="wamid.LOCKED-OUT")
    client.post("/api/webhooks/n8n/message", json=body, headers=headers)
    status = {"message_id": "wamid.LOCKED-OUT", "status": "delivered"}

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        assert client.post(URL, json=status, headers=headers).status_code == 503
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert status_events() == []
    assert client.post(URL, json=status, headers=headers).get_json()["changed"] is True
    assert client.post(URL, json=status, headers=headers).get_json()["changed"] is False
    assert [e["status"] for e in status_events()] == ["delivered"]
