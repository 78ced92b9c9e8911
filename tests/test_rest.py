"""The REST API: conversations, messages, read receipts, stats, presence, health, events."""

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import create_app
from app.extensions import db
from app.services import events as event_log
from app.timeutil import isoformat, utcnow
from tests import services
from tests.conftest import NEW_MESSAGE_KEYS, WEBHOOK_FIELDS, Numbered, received, webhook_body

pytestmark = pytest.mark.usefixtures("fast_password_hashes")

# What REST adds to the `new_message` keys beyond these (delivery status) is not ours.
MESSAGE_KEYS = NEW_MESSAGE_KEYS | {"readBy", "readAt"}


def assert_error(response, status, field=None):
    """The contract's JSON error body with this status (and the named field)."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.get_json()["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    if field:
        assert error["field"] == field
        assert field in error["message"]
    return error


class World:
    """Two agents and an admin, with conversations posted through the webhook."""

    def __init__(self, client, post_webhook, make_user, headers_for):
        self.client = client
        self.post_webhook = post_webhook
        self.owner = make_user(name="Owner")
        self.other = make_user(name="Other")
        self.admin = make_user(role="ADMIN", name="Admin")
        self.headers_for = headers_for

    def inbound(self, user, phone, content, minutes_ago=0, **extra) -> dict:
        """Post a message through the webhook; returns {id, conversationId}."""
        moment = isoformat(utcnow() - timedelta(minutes=minutes_ago))
        body = webhook_body(
            user, customer_phone=phone, message_content=content, timestamp=moment, **extra
        )
        response = self.post_webhook(**body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["data"]

    def get(self, path, user, **params):
        return self.client.get(path, query_string=params, headers=self.headers_for(user))

    def patch_read(self, message_id, user):
        return self.client.patch(f"/api/messages/{message_id}/read", headers=self.headers_for(user))


@pytest.fixture
def world(client, post_webhook, make_user, headers_for):
    return World(client, post_webhook, make_user, headers_for)


@pytest.fixture
def seeded(world):
    """owner: +1 (two messages, older) and +2 (newest); other: +3 (in between)."""
    world.a1 = world.inbound(world.owner, "+1", "a1", minutes_ago=30)
    world.a2 = world.inbound(world.owner, "+1", "a2", minutes_ago=20)
    world.c1 = world.inbound(world.other, "+3", "c1", minutes_ago=10)
    world.b1 = world.inbound(world.owner, "+2", "b1", minutes_ago=5)
    return world


# GET /api/conversations


def test_conversations_shape_and_newest_first(seeded):
    response = seeded.get("/api/conversations", seeded.owner)
    assert response.status_code == 200
    listed = response.get_json()
    assert [c["customerPhone"] for c in listed] == ["+2", "+1"]
    first = listed[1]
    assert set(first) == {
        "id",
        "userId",
        "customerPhone",
        "customerName",
        "lastMessage",
        "lastMessageAt",
        "unreadCount",
        "windowExpiresAt",
        "status",
        "snoozedUntil",
        "labels",
    }
    assert first["id"] == seeded.a1["conversationId"]
    assert first["userId"] == seeded.owner.id
    assert first["customerName"] == "Ahmet Yılmaz"
    assert first["lastMessage"] == "a2"
    assert first["lastMessageAt"].endswith("Z")
    assert first["unreadCount"] == 2


def test_a_late_older_message_does_not_take_over_the_preview(seeded):
    seeded.inbound(seeded.owner, "+1", "delayed", minutes_ago=60)
    listed = seeded.get("/api/conversations", seeded.owner).get_json()
    assert [c["customerPhone"] for c in listed] == ["+2", "+1"]
    assert listed[1]["lastMessage"] == "a2"
    assert listed[1]["unreadCount"] == 3


def test_a_new_message_moves_its_conversation_to_the_top(seeded):
    seeded.inbound(seeded.owner, "+1", "a3")
    listed = seeded.get("/api/conversations", seeded.owner).get_json()
    assert [c["lastMessage"] for c in listed] == ["a3", "b1"]


def test_users_see_only_their_own_conversations_and_admins_all(seeded):
    mine = seeded.get("/api/conversations", seeded.other).get_json()
    assert [c["customerPhone"] for c in mine] == ["+3"]
    everything = seeded.get("/api/conversations", seeded.admin).get_json()
    assert [c["customerPhone"] for c in everything] == ["+2", "+3", "+1"]


def test_admin_can_filter_by_user_id(seeded):
    listed = seeded.get("/api/conversations", seeded.admin, userId=seeded.other.id).get_json()
    assert [c["customerPhone"] for c in listed] == ["+3"]
    assert seeded.get("/api/conversations", seeded.admin, userId=9999).get_json() == []


def test_a_user_cannot_list_someone_elses_conversations_with_user_id(seeded):
    listed = seeded.get("/api/conversations", seeded.owner, userId=seeded.other.id).get_json()
    assert {c["userId"] for c in listed} == {seeded.owner.id}


@pytest.mark.parametrize("value", ["abc", "0", "-1", "1.5"])
def test_bad_user_id_filter_is_400(seeded, value):
    assert_error(seeded.get("/api/conversations", seeded.admin, userId=value), 400, "userId")


def test_a_page_of_conversations_and_the_next_one(seeded):
    """?limit= gives the newest first, ?before=<last id> the rest, unread counts included."""
    everything = seeded.get("/api/conversations", seeded.admin).get_json()
    first = seeded.get("/api/conversations", seeded.admin, limit=2).get_json()
    assert first == everything[:2]
    rest = seeded.get(
        "/api/conversations", seeded.admin, limit=2, before=first[-1]["id"]
    ).get_json()
    assert rest == everything[2:]
    mine = seeded.get("/api/conversations", seeded.owner, limit=1).get_json()
    assert [c["customerPhone"] for c in mine] == ["+2"]
    older = seeded.get("/api/conversations", seeded.owner, before=mine[0]["id"]).get_json()
    assert [(c["customerPhone"], c["unreadCount"]) for c in older] == [("+1", 2)]


def test_paging_walks_equal_times_and_conversations_without_messages(world):
    """Conversations sharing a lastMessageAt, and those with none (last), page by id."""
    for phone in ("+1", "+2", "+3"):
        world.inbound(world.owner, phone, phone, minutes_ago=10)
    with world.client.application.app_context():
        from app.models import Conversation

        empty = Conversation(user_id=world.owner.id, customer_phone="+4", customer_name="")
        db.session.add(empty)
        db.session.commit()
    everything = world.get("/api/conversations", world.owner).get_json()
    assert everything[-1]["customerPhone"] == "+4"
    walked, before = [], None
    while True:
        params = {"limit": 1} | ({"before": before} if before else {})
        page = world.get("/api/conversations", world.owner, **params).get_json()
        if not page:
            break
        walked += page
        before = page[-1]["id"]
    assert walked == everything


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"limit": "x"}])
def test_bad_conversation_page_limit_is_400(seeded, params):
    assert_error(seeded.get("/api/conversations", seeded.owner, **params), 400, "limit")


def test_before_naming_someone_elses_or_no_conversation_is_400(seeded):
    others = seeded.c1["conversationId"]
    assert_error(seeded.get("/api/conversations", seeded.owner, before=others), 400, "before")
    assert_error(seeded.get("/api/conversations", seeded.owner, before=99999), 400, "before")


def test_outbound_messages_are_not_unread(world):
    world.inbound(world.owner, "+1", "from us", direction="OUTBOUND")
    (conversation,) = world.get("/api/conversations", world.owner).get_json()
    assert conversation["unreadCount"] == 0


# GET /api/conversations/<id>/messages


def test_messages_oldest_first_with_the_rest_shape(seeded):
    conversation_id = seeded.a1["conversationId"]
    page = seeded.get(f"/api/conversations/{conversation_id}/messages", seeded.owner).get_json()
    assert [m["messageContent"] for m in page] == ["a1", "a2"]
    assert MESSAGE_KEYS <= set(page[0])
    assert page[0]["id"] == seeded.a1["id"]
    assert page[0]["readBy"] is None and page[0]["readAt"] is None


def test_messages_limit_and_before_page_backwards(world):
    ids = [world.inbound(world.owner, "+1", f"m{n}", minutes_ago=10 - n)["id"] for n in range(5)]
    conversation_id = world.get("/api/conversations", world.owner).get_json()[0]["id"]
    path = f"/api/conversations/{conversation_id}/messages"
    newest = world.get(path, world.owner, limit=2).get_json()
    assert [m["messageContent"] for m in newest] == ["m3", "m4"]
    older = world.get(path, world.owner, limit=2, before=newest[0]["id"]).get_json()
    assert [m["messageContent"] for m in older] == ["m1", "m2"]
    oldest = world.get(path, world.owner, limit=2, before=older[0]["id"]).get_json()
    assert [m["messageContent"] for m in oldest] == ["m0"]
    assert world.get(path, world.owner, before=ids[0]).get_json() == []


@pytest.mark.parametrize(
    "params, field",
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"before": "msg_unknown"}, "before"),
    ],
)
def test_messages_bad_paging_is_400(seeded, params, field):
    path = f"/api/conversations/{seeded.a1['conversationId']}/messages"
    assert_error(seeded.get(path, seeded.owner, **params), 400, field)


def test_messages_of_someone_elses_conversation_are_403(seeded):
    path = f"/api/conversations/{seeded.c1['conversationId']}/messages"
    assert_error(seeded.get(path, seeded.owner), 403)
    assert seeded.get(path, seeded.admin).status_code == 200


@pytest.mark.parametrize("conversation_id", ["999999", "abc", "-1", "0"])
def test_messages_of_a_missing_conversation_are_404(seeded, conversation_id):
    assert_error(seeded.get(f"/api/conversations/{conversation_id}/messages", seeded.owner), 404)


# GET /api/messages?since=


def test_messages_since_returns_later_visible_messages_oldest_first(seeded):
    later = seeded.get("/api/messages", seeded.owner, since=seeded.a1["id"]).get_json()
    assert [m["messageContent"] for m in later] == ["a2", "b1"]
    assert MESSAGE_KEYS <= set(later[0])
    everything = seeded.get("/api/messages", seeded.admin, since=seeded.a1["id"]).get_json()
    assert [m["messageContent"] for m in everything] == ["a2", "c1", "b1"]
    assert seeded.get("/api/messages", seeded.owner, since=seeded.b1["id"]).get_json() == []


def test_messages_without_since_returns_every_visible_message(seeded):
    mine = seeded.get("/api/messages", seeded.other).get_json()
    assert [m["messageContent"] for m in mine] == ["c1"]


def test_messages_since_an_unknown_id_is_400(seeded):
    assert_error(seeded.get("/api/messages", seeded.owner, since="msg_nope"), 400, "since")


# PATCH /api/messages/<id>/read


def test_mark_read_returns_the_receipt_and_updates_the_lists(seeded):
    response = seeded.patch_read(seeded.a1["id"], seeded.owner)
    assert response.status_code == 200
    receipt = response.get_json()
    assert set(receipt) == {"messageId", "readBy", "readAt"}
    assert receipt["messageId"] == seeded.a1["id"]
    assert receipt["readBy"] == seeded.owner.id
    assert receipt["readAt"].endswith("Z")

    path = f"/api/conversations/{seeded.a1['conversationId']}/messages"
    first = seeded.get(path, seeded.owner).get_json()[0]
    assert (first["isRead"], first["readBy"], first["readAt"]) == (
        True,
        seeded.owner.id,
        receipt["readAt"],
    )
    listed = seeded.get("/api/conversations", seeded.owner).get_json()
    assert [c["unreadCount"] for c in listed] == [1, 1]


def test_mark_read_emits_message_read_to_owner_admins_and_room_once(seeded, socket_for):
    owner, admin, other = (socket_for(u) for u in (seeded.owner, seeded.admin, seeded.other))
    joined_admin = socket_for(seeded.admin)
    assert joined_admin.emit("join_conversation", seeded.a1["conversationId"], callback=True) == {
        "ok": True
    }

    receipt = seeded.patch_read(seeded.a1["id"], seeded.owner).get_json()
    for socket in (owner, admin, joined_admin):
        events = received(socket)
        assert list(events) == ["message_read"]
        (payload,) = events["message_read"]
        assert {k: v for k, v in payload.items() if k != "eventId"} == {
            **receipt,
            "conversationId": seeded.a1["conversationId"],
        }
        assert isinstance(payload["eventId"], int)
    assert received(other) == {}


def test_mark_read_is_idempotent_and_emits_once(seeded, socket_for):
    owner_socket = socket_for(seeded.owner)
    first = seeded.patch_read(seeded.a1["id"], seeded.owner).get_json()
    again = seeded.patch_read(seeded.a1["id"], seeded.owner)
    by_admin = seeded.patch_read(seeded.a1["id"], seeded.admin)
    assert again.status_code == 200 and again.get_json() == first
    assert by_admin.status_code == 200 and by_admin.get_json() == first
    assert len(received(owner_socket)["message_read"]) == 1


def test_mark_read_over_rest_and_socket_emit_the_same_event(seeded, socket_for):
    listener = socket_for(seeded.admin)
    reader = socket_for(seeded.owner)
    seeded.patch_read(seeded.a1["id"], seeded.owner)
    assert reader.emit("mark_read", {"messageId": seeded.a2["id"]}, callback=True) == {"ok": True}
    rest_event, socket_event = received(listener)["message_read"]
    assert (
        set(rest_event)
        == set(socket_event)
        == {
            "messageId",
            "conversationId",
            "readBy",
            "readAt",
            "eventId",
        }
    )
    assert (rest_event["readBy"], socket_event["readBy"]) == (seeded.owner.id, seeded.owner.id)
    assert socket_event["eventId"] > rest_event["eventId"]


def test_admin_may_mark_anyones_message_read(seeded):
    receipt = seeded.patch_read(seeded.c1["id"], seeded.admin).get_json()
    assert receipt["readBy"] == seeded.admin.id


def test_mark_read_of_someone_elses_message_is_403_and_changes_nothing(seeded, socket_for):
    owner_socket = socket_for(seeded.other)
    assert_error(seeded.patch_read(seeded.c1["id"], seeded.owner), 403)
    page = seeded.get(f"/api/conversations/{seeded.c1['conversationId']}/messages", seeded.other)
    assert page.get_json()[0]["isRead"] is False
    assert received(owner_socket) == {}


def test_mark_read_of_an_unknown_message_is_404(seeded):
    assert_error(seeded.patch_read("msg_missing", seeded.owner), 404)


# GET /api/messages/stats


def test_stats_count_what_the_caller_may_see(world):
    world.inbound(world.owner, "+1", "old", minutes_ago=60 * 48)
    today = world.inbound(world.owner, "+1", "today")
    world.inbound(world.owner, "+1", "reply", direction="OUTBOUND")
    world.inbound(world.other, "+3", "theirs")
    world.patch_read(today["id"], world.owner)

    assert world.get("/api/messages/stats", world.owner).get_json() == {
        "total": 3,
        "unread": 1,
        "inbound": 2,
        "outbound": 1,
        "today": 2,
    }
    assert world.get("/api/messages/stats", world.admin).get_json() == {
        "total": 4,
        "unread": 2,
        "inbound": 3,
        "outbound": 1,
        "today": 3,
    }


def test_stats_of_an_empty_inbox_are_zero(world):
    stats = world.get("/api/messages/stats", world.owner).get_json()
    assert stats == {"total": 0, "unread": 0, "inbound": 0, "outbound": 0, "today": 0}


# Presence over REST


def test_realtime_status_is_admin_only(world):
    assert_error(world.get("/api/realtime/status", world.owner), 403)
    assert_error(world.client.get("/api/realtime/status"), 401)


def test_realtime_status_counts_distinct_users(world, socket_for):
    assert world.get("/api/realtime/status", world.admin).get_json() == {
        "connectedUsers": 0,
        "onlineUserIds": [],
    }
    first, second = socket_for(world.owner), socket_for(world.owner)
    socket_for(world.other)
    status = world.get("/api/realtime/status", world.admin).get_json()
    assert status == {
        "connectedUsers": 2,
        "onlineUserIds": sorted([world.owner.id, world.other.id]),
    }
    first.disconnect()
    assert (
        world.owner.id in world.get("/api/realtime/status", world.admin).get_json()["onlineUserIds"]
    )
    second.disconnect()
    status = world.get("/api/realtime/status", world.admin).get_json()
    assert status == {"connectedUsers": 1, "onlineUserIds": [world.other.id]}


def test_user_online_for_self_and_admin(world, socket_for):
    path = f"/api/users/{world.owner.id}/online"
    assert world.get(path, world.owner).get_json() == {"userId": world.owner.id, "online": False}
    socket = socket_for(world.owner)
    assert world.get(path, world.owner).get_json() == {"userId": world.owner.id, "online": True}
    assert world.get(path, world.admin).get_json()["online"] is True
    socket.disconnect()
    assert world.get(path, world.admin).get_json()["online"] is False


def test_user_online_of_someone_else_is_403_for_a_user(world):
    assert_error(world.get(f"/api/users/{world.other.id}/online", world.owner), 403)
    assert_error(world.get("/api/users/99999/online", world.owner), 403)


def test_user_online_of_an_unknown_user_is_404_for_an_admin(world):
    assert_error(world.get("/api/users/99999/online", world.admin), 404)


# GET /health


def test_health_ok(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "messageQueue": "local"}


def _health_of(config: dict):
    app = create_app({"CONFIG": "testing", **config})
    with app.app_context():
        try:
            return app.test_client().get("/health")
        finally:
            db.session.remove()
            db.engine.dispose()


def test_health_names_the_database_when_it_is_down(tmp_path):
    response = _health_of({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/none/x.db"})
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"] == "unavailable" and body["messageQueue"] == "local"
    assert "database" in body["error"]["message"]
    assert "messageQueue" not in body["error"]["message"]


def test_health_names_redis_when_it_is_down():
    response = _health_of({"REDIS_URL": "redis://127.0.0.1:1/0"})
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"] == "ok" and body["messageQueue"] == "unavailable"
    assert "messageQueue" in body["error"]["message"]


def test_health_reports_redis_when_configured():
    response = _health_of({"REDIS_URL": services.redis_url()})
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "messageQueue": "redis"}


# GET /api/events


def test_events_after_limit_and_last_event_id(seeded):
    everything = seeded.get("/api/events", seeded.admin).get_json()
    ids = [e["eventId"] for e in everything["events"]]
    assert len(ids) == 4 and ids == sorted(ids)
    assert everything["lastEventId"] == ids[-1]
    first = everything["events"][0]
    assert set(first) == {"eventId", "event", "data"}
    assert first["event"] == "new_message"
    assert first["data"]["id"] == seeded.a1["id"] and first["data"]["eventId"] == ids[0]

    page = seeded.get("/api/events", seeded.admin, after=ids[0], limit=2).get_json()
    assert [e["eventId"] for e in page["events"]] == ids[1:3]
    assert page["lastEventId"] == ids[2]

    empty = seeded.get("/api/events", seeded.admin, after=ids[-1]).get_json()
    assert empty == {"events": [], "lastEventId": ids[-1]}
    beyond = seeded.get("/api/events", seeded.admin, after=ids[-1] + 50).get_json()
    assert beyond == {"events": [], "lastEventId": ids[-1] + 50}


def test_events_show_a_user_only_their_own(seeded):
    seeded.patch_read(seeded.c1["id"], seeded.admin)
    theirs = seeded.get("/api/events", seeded.other).get_json()["events"]
    assert [(e["event"], e["data"].get("messageId", e["data"].get("id"))) for e in theirs] == [
        ("new_message", seeded.c1["id"]),
        ("message_read", seeded.c1["id"]),
    ]
    mine = seeded.get("/api/events", seeded.owner).get_json()["events"]
    assert {e["data"]["userId"] for e in mine} == {seeded.owner.id}


def test_events_match_what_the_socket_received(seeded, socket_for):
    listener = socket_for(seeded.owner)
    seeded.inbound(seeded.owner, "+1", "live")
    (live,) = received(listener)["new_message"]
    logged = seeded.get("/api/events", seeded.owner, after=live["eventId"] - 1).get_json()
    assert logged["events"] == [{"eventId": live["eventId"], "event": "new_message", "data": live}]


def test_events_limit_defaults_to_100_and_caps_at_1000(world):
    with world.client.application.app_context():
        for n in range(1001):
            event_log.record("new_message", world.owner.id, 1, Numbered(n=n))
        db.session.commit()
    default = world.get("/api/events", world.owner).get_json()
    assert len(default["events"]) == 100
    assert default["lastEventId"] == default["events"][-1]["eventId"]
    most = world.get("/api/events", world.owner, limit=1000).get_json()
    assert len(most["events"]) == 1000
    assert_error(world.get("/api/events", world.owner, limit=1001), 400, "limit")


def test_events_are_read_and_written_in_pages_of_100(world, monkeypatch):
    """Before, GET /api/events?limit=1000 was read and serialized in one piece."""
    with world.client.application.app_context():
        recorded = [
            event_log.record("new_message", world.owner.id, 1, Numbered(n=n)).id for n in range(250)
        ]
        db.session.commit()
    pauses = []
    monkeypatch.setattr(event_log, "let_others_run", lambda: pauses.append(1))
    response = world.get("/api/events", world.owner, limit=1000)
    assert response.is_streamed and response.mimetype == "application/json"
    page = response.get_json()
    assert [event["eventId"] for event in page["events"]] == recorded
    assert page["events"][7] == {
        "eventId": recorded[7],
        "event": "new_message",
        "data": {"n": 7, "eventId": recorded[7]},
    }
    assert page["lastEventId"] == recorded[-1]
    assert len(pauses) == 2  # after the pages of 100, not after the last (short) one
    empty = world.get("/api/events", world.owner, after=recorded[-1], limit=1000).get_json()
    assert empty == {"events": [], "lastEventId": recorded[-1]}


@pytest.mark.parametrize(
    "params, field",
    [({"after": "-1"}, "after"), ({"after": "x"}, "after"), ({"limit": "0"}, "limit")],
)
def test_events_bad_parameters_are_400(world, params, field):
    assert_error(world.get("/api/events", world.owner, **params), 400, field)


# Errors: JSON, never a 500

PROTECTED = [
    ("get", "/api/auth/me"),
    ("post", "/api/auth/logout"),
    ("get", "/api/conversations"),
    ("get", "/api/conversations/1/messages"),
    ("get", "/api/messages"),
    ("patch", "/api/messages/msg_x/read"),
    ("get", "/api/messages/stats"),
    ("get", "/api/realtime/status"),
    ("get", "/api/users/1/online"),
    ("get", "/api/events"),
]


@pytest.mark.parametrize("method, path", PROTECTED)
def test_every_protected_route_without_a_token_is_a_json_401(client, method, path):
    assert_error(getattr(client, method)(path), 401)


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/nothing-here"),
        ("get", "/api/conversations/1/nothing"),
        ("post", "/api/webhooks/n8n/unknown"),
        ("get", "/no-such-page"),
    ],
)
def test_unknown_paths_are_a_json_404(client, method, path):
    assert_error(getattr(client, method)(path), 404)


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/auth/login"),
        ("delete", "/api/auth/login"),
        ("get", "/api/auth/refresh"),
        ("get", "/api/auth/logout"),
        ("post", "/api/auth/me"),
        ("delete", "/api/conversations"),
        ("put", "/api/messages/msg_x/read"),
        ("post", "/api/messages/stats"),
        ("post", "/api/events"),
        ("post", "/api/realtime/status"),
        ("post", "/health"),
    ],
)
def test_wrong_methods_are_a_json_405(client, method, path):
    assert_error(getattr(client, method)(path), 405)


@pytest.mark.parametrize(
    "path, status",
    [
        ("/api/events?after=2147483648", 200),
        ("/api/events?after=9223372036854775808", 400),
        ("/api/conversations?userId=2147483648", 200),
        ("/api/conversations?userId=9223372036854775808", 400),
        ("/api/conversations/2147483648/messages", 404),
        ("/api/conversations/9223372036854775808/messages", 404),
        ("/api/messages?limit=99999999999999999999", 400),
        ("/api/users/2147483648/online", 404),
        ("/api/users/9223372036854775808/online", 404),
    ],
)
def test_ids_beyond_what_the_database_holds_are_not_a_500(world, path, status):
    response = world.client.get(path, headers=world.headers_for(world.admin))
    assert response.status_code == status, response.get_data(as_text=True)
    if status == 200:
        assert response.get_json() in ([], {"events": [], "lastEventId": 2147483648})
    else:
        assert_error(response, status)


QUERY_VALUES = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["", "0", "-1", "1e9", "NaN", "null", "msg_", "%00", "١٢"]),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(
        [
            "/api/conversations",
            "/api/conversations/{c}/messages",
            "/api/messages",
            "/api/events",
            "/api/messages/stats",
        ]
    ),
    params=st.dictionaries(
        st.sampled_from(["userId", "limit", "before", "since", "after"]), QUERY_VALUES, max_size=3
    ),
)
def test_any_query_string_gets_an_answer_not_a_500(seeded, path, params):
    response = seeded.get(path.format(c=seeded.a1["conversationId"]), seeded.admin, **params)
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    if response.status_code == 400:
        assert_error(response, 400, next(iter(params)) if len(params) == 1 else None)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children),
    max_leaves=5,
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    fields=st.dictionaries(
        st.sampled_from(WEBHOOK_FIELDS),
        JSON_VALUES,
    )
)
def test_any_webhook_body_gets_an_answer_not_a_500(world, fields):
    body = {**webhook_body(world.owner), **fields}
    response = world.post_webhook(**body)
    assert response.status_code in (200, 201, 400, 404), response.get_data(as_text=True)
    if response.status_code >= 400:
        assert_error(response, response.status_code)
