"""PATCH /api/conversations/<id>: status, snooze, labels, transfer; conversation_updated."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Conversation, Event, Message
from app.services import workflow
from app.timeutil import isoformat, utcnow
from tests.conftest import received, webhook_body

UPDATED_KEYS = {
    "conversationId",
    "userId",
    "previousUserId",
    "status",
    "snoozedUntil",
    "labels",
    "eventId",
}


@pytest.fixture
def conversation_id(people, post_webhook):
    response = post_webhook(**webhook_body(people["owner"], message_id="wamid.W-1"))
    return response.get_json()["data"]["conversationId"]


@pytest.fixture
def patch(client, headers_for, people, conversation_id):
    """patch(as_="owner", conversation=None, **body) -> the response."""

    def send(as_="owner", conversation=None, **body):
        return client.patch(
            f"/api/conversations/{conversation or conversation_id}",
            json=body,
            headers=headers_for(people[as_]),
        )

    return send


@pytest.fixture
def sockets(people, socket_for):
    found = {name: socket_for(user) for name, user in people.items()}
    for test_client in found.values():
        received(test_client)
    return found


def later(**delta) -> str:
    return isoformat(utcnow() + timedelta(**delta))


def test_owner_resolves_and_every_watcher_hears_once(patch, sockets, conversation_id, people):
    response = patch(status="resolved", labels=["vip", "iade", "VIP"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "resolved"
    assert body["labels"] == ["vip", "iade"]  # repeats dropped, case-insensitively
    assert body["snoozedUntil"] is None
    for name in ("owner", "admin"):
        events = received(sockets[name])["conversation_updated"]
        assert len(events) == 1
        assert set(events[0]) == UPDATED_KEYS
        assert events[0]["status"] == "resolved"
        assert events[0]["userId"] == events[0]["previousUserId"] == people["owner"].id
    assert "conversation_updated" not in received(sockets["other"])


def test_conversation_list_shows_status_and_labels(client, headers_for, people, patch):
    patch(status="pending", labels=["kargo"])
    listed = client.get("/api/conversations", headers=headers_for(people["owner"])).get_json()
    assert listed[0]["status"] == "pending"
    assert listed[0]["labels"] == ["kargo"]


def test_unchanged_patch_emits_nothing(patch, sockets):
    assert patch(status="open").status_code == 200
    assert "conversation_updated" not in received(sockets["owner"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, None),
        ({"status": "closed"}, "status"),
        ({"status": "snoozed"}, "snoozedUntil"),
        ({"status": "open", "snoozedUntil": "2099-01-01T00:00:00Z"}, "snoozedUntil"),
        ({"snoozedUntil": "2001-01-01T00:00:00Z"}, "snoozedUntil"),
        ({"labels": "vip"}, "labels"),
        ({"labels": [""]}, "labels.0"),
        ({"labels": ["x" * 41]}, "labels.0"),
        ({"userId": "two"}, "userId"),
    ],
)
def test_bad_patches_are_refused_and_change_nothing(patch, sockets, body, field):
    response = patch(**body)
    assert response.status_code == 400, response.get_json()
    if field:
        assert response.get_json()["error"]["field"] == field
    assert "conversation_updated" not in received(sockets["owner"])
    assert db.session.scalar(select(Conversation.status)) == "open"


def test_only_owner_or_admin_may_patch(patch):
    assert patch(as_="other", status="resolved").status_code == 403
    assert patch(as_="admin", status="resolved").status_code == 200
    assert patch(as_="owner", conversation=999999, status="resolved").status_code == 404


def test_only_admins_transfer(patch, people):
    response = patch(as_="owner", userId=people["other"].id)
    assert response.status_code == 403
    assert db.session.scalar(select(Conversation.user_id)) == people["owner"].id


def test_transfer_moves_conversation_messages_and_future_events(
    patch, sockets, people, post_webhook, client, headers_for, conversation_id
):
    owner, other = people["owner"], people["other"]
    response = patch(as_="admin", userId=other.id)
    assert response.status_code == 200
    assert response.get_json()["userId"] == other.id
    for name in ("owner", "other", "admin"):
        events = received(sockets[name])["conversation_updated"]
        assert len(events) == 1, name
        assert events[0]["previousUserId"] == owner.id and events[0]["userId"] == other.id
    assert set(db.session.scalars(select(Message.user_id))) == {other.id}
    assert client.get("/api/conversations", headers=headers_for(owner)).get_json() == []
    mine = client.get("/api/conversations", headers=headers_for(other)).get_json()
    assert [c["id"] for c in mine] == [conversation_id]
    # n8n still names the previous owner: the message reaches the transferred conversation.
    later_message = post_webhook(**webhook_body(owner, message_id="wamid.W-2"))
    assert later_message.status_code == 201
    assert later_message.get_json()["data"]["conversationId"] == conversation_id
    assert received(sockets["other"])["new_message"][0]["userId"] == other.id
    assert "new_message" not in received(sockets["owner"])
    assert db.session.scalar(select(db.func.count()).select_from(Conversation)) == 1


def test_transfer_and_back_routes_to_the_owner_again(patch, people, post_webhook, conversation_id):
    owner, other = people["owner"], people["other"]
    assert patch(as_="admin", userId=other.id).status_code == 200
    assert patch(as_="admin", userId=owner.id).status_code == 200
    for n, named in enumerate((owner, other)):
        response = post_webhook(**webhook_body(named, message_id=f"wamid.B-{n}"))
        assert response.get_json()["data"]["conversationId"] == conversation_id
    assert set(db.session.scalars(select(Message.user_id))) == {owner.id}


def test_transfer_to_someone_with_that_customer_is_a_conflict(patch, people, post_webhook):
    post_webhook(**webhook_body(people["other"], message_id="wamid.OTHER"))
    response = patch(as_="admin", userId=people["other"].id)
    assert response.status_code == 409
    assert response.get_json()["error"]["field"] == "userId"


def test_transfer_to_unknown_or_inactive_user_is_refused(patch, make_user):
    assert patch(as_="admin", userId=987654).status_code == 404
    inactive = make_user(active=False)
    assert patch(as_="admin", userId=inactive.id).status_code == 400


def test_previous_owner_gets_the_transfer_on_replay(patch, people, socket_for):
    owner = people["owner"]
    last = db.session.scalar(select(db.func.max(Event.id)))
    patch(as_="admin", userId=people["other"].id)
    replayed = received(socket_for(owner, lastEventId=last))
    assert [e["userId"] for e in replayed["conversation_updated"]] == [people["other"].id]


def test_event_log_lists_the_change_for_both_owners(patch, people, client, headers_for):
    patch(as_="admin", userId=people["other"].id)
    for name in ("owner", "other"):
        page = client.get("/api/events?after=0", headers=headers_for(people[name])).get_json()
        assert "conversation_updated" in [e["event"] for e in page["events"]], name


@pytest.mark.parametrize("status", ["resolved", "snoozed"])
def test_new_inbound_message_reopens(patch, post_webhook, people, sockets, status):
    body = {"status": status}
    if status == "snoozed":
        body["snoozedUntil"] = later(hours=2)
    assert patch(**body).status_code == 200
    received(sockets["owner"])
    post_webhook(**webhook_body(people["owner"], message_id="wamid.W-again"))
    events = received(sockets["owner"])
    assert events["conversation_updated"][0]["status"] == "open"
    assert events["conversation_updated"][0]["snoozedUntil"] is None
    assert db.session.scalar(select(Conversation.status)) == "open"


def test_a_reply_does_not_reopen(patch, client, headers_for, people, conversation_id):
    patch(status="resolved")
    client.post(
        f"/api/conversations/{conversation_id}/messages",
        json={"content": "Rica ederiz."},
        headers=headers_for(people["owner"]),
    )
    assert db.session.scalar(select(Conversation.status)) == "resolved"


def test_snooze_reopens_once_when_due(patch, sockets, conversation_id):
    assert patch(snoozedUntil=later(hours=1)).status_code == 200
    received(sockets["owner"])
    assert workflow.wake_due_snoozes() == 0  # not yet
    db.session.execute(
        db.update(Conversation).values(snoozed_until=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    assert workflow.wake_due_snoozes() == 1
    assert workflow.wake_due_snoozes() == 0  # claimed once, whoever runs it again
    events = received(sockets["owner"])["conversation_updated"]
    assert [(e["status"], e["conversationId"]) for e in events] == [("open", conversation_id)]


def test_transfer_takes_the_previous_owner_out_of_the_room(
    patch, people, socket_for, conversation_id
):
    owner, admin = socket_for(people["owner"]), socket_for(people["admin"])
    for test_client in (owner, admin):
        assert test_client.emit("join_conversation", conversation_id, callback=True) == {"ok": True}
    assert patch(as_="admin", userId=people["other"].id).status_code == 200
    received(owner)
    # The admin joins again (as the panel does on conversation_updated); the owner may not.
    assert admin.emit("join_conversation", conversation_id, callback=True) == {"ok": True}
    assert owner.emit("join_conversation", conversation_id, callback=True) == {
        "error": "Unauthorized"
    }
    refused = owner.emit(
        "typing", {"conversationId": conversation_id, "isTyping": True}, callback=True
    )
    assert refused == {"error": "Unauthorized"}
    admin.emit("typing", {"conversationId": conversation_id, "isTyping": True}, callback=True)
    assert "user_typing" not in received(owner)
