"""Socket.IO: handshake, rooms, join/leave, typing, mark_read, rate limit, replay."""

import time
from datetime import timedelta

import jwt as pyjwt
import pytest
from flask_jwt_extended import create_access_token

from app import create_app
from app.extensions import db, socketio
from app.models import Event
from app.realtime import event_limits, typing_tracker
from app.services import auth as auth_service
from app.services import events as event_log
from app.services.users import create_user
from tests.conftest import PASSWORD, Numbered, received, webhook_body

pytestmark = pytest.mark.usefixtures("fast_password_hashes")


class FakeClock:
    """Stands in for a module's `time`, so windows pass without sleeping."""

    def __init__(self):
        self.now = 5000.0

    def monotonic(self):
        return self.now


def refusal(socket, event, *args):
    """Emit with an ack; assert the refusal came both as the ack and as one `error` event."""
    received(socket)
    ack = socket.emit(event, *args, callback=True)
    assert set(ack) == {"error"}, ack
    events = received(socket)
    assert events.get("error") == [{"message": ack["error"]}], events
    return ack["error"]


def accepted(socket, event, *args) -> None:
    assert socket.emit(event, *args, callback=True) == {"ok": True}


def wait_until_received(socket, name, timeout=5.0) -> dict:
    """Everything received once an event of this name has arrived (from a background task)."""
    deadline = time.monotonic() + timeout
    while not any(packet["name"] == name for packet in list(socket.queue)):
        assert time.monotonic() < deadline, f"no {name} within {timeout}s: {socket.queue}"
        time.sleep(0.01)
    return received(socket)


def typing_events(socket) -> list[dict]:
    return received(socket).get("user_typing", [])


class Inbox:
    """An owner, another agent, an admin, and messages posted through the webhook."""

    def __init__(self, make_user, post_webhook, socket_for):
        self.owner = make_user()
        self.other = make_user()
        self.admin = make_user(role="ADMIN")
        self._post = post_webhook
        self.socket_for = socket_for

    def message(self, user=None, phone="+905550000001", content="merhaba") -> dict:
        user = user or self.owner
        body = webhook_body(user, customer_phone=phone, message_content=content)
        response = self._post(**body)
        assert response.status_code == 201
        return response.get_json()["data"]


@pytest.fixture
def inbox(make_user, post_webhook, socket_for):
    return Inbox(make_user, post_webhook, socket_for)


# Handshake


def test_valid_token_connects(socket_for, make_user):
    assert socket_for(make_user()).is_connected()


def _token_signed_elsewhere(user) -> str:
    claims = {"sub": str(user.id), "type": "access", "jti": "x", "exp": 4102444800}
    return pyjwt.encode(claims, "some-other-secret-that-is-long-enough!", algorithm="HS256")


@pytest.mark.parametrize(
    "make_auth",
    [
        lambda user: {},
        lambda user: {"token": None},
        lambda user: {"token": ""},
        lambda user: {"token": "garbage"},
        lambda user: {"token": "a.b.c"},
        lambda user: {"token": 12345},
        lambda user: {"token": ["x"]},
        lambda user: {"token": _token_signed_elsewhere(user)},
        lambda user: {
            "token": create_access_token(str(user.id), expires_delta=timedelta(seconds=-5))
        },
        lambda user: {"token": auth_service.issue_tokens(user)["refreshToken"]},
    ],
    ids=[
        "missing",
        "null",
        "empty",
        "garbage",
        "three-parts",
        "number",
        "list",
        "foreign-signature",
        "expired",
        "refresh-token",
    ],
)
def test_bad_tokens_are_refused_with_authentication_failed(handshake_refusal, make_user, make_auth):
    assert handshake_refusal(**make_auth(make_user())) == "Authentication failed"


def test_no_auth_at_all_is_refused(app):
    test_client = socketio.test_client(app)
    assert not test_client.is_connected()


def test_revoked_token_is_refused(client, make_user, token_for, handshake_refusal):
    token = token_for(make_user())
    client.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert handshake_refusal(token=token) == "Authentication failed"


def test_inactive_user_is_refused_with_user_not_found(make_user, token_for, handshake_refusal):
    user = make_user()
    token = token_for(user)
    user.is_active = False
    db.session.commit()
    assert handshake_refusal(token=token) == "User not found"


def test_deleted_user_is_refused_with_user_not_found(make_user, token_for, handshake_refusal):
    user = make_user()
    token = token_for(user)
    db.session.delete(user)
    db.session.commit()
    assert handshake_refusal(token=token) == "User not found"


def test_refused_handshake_counts_nobody_online(client, make_user, headers_for, handshake_refusal):
    user, admin = make_user(active=False), make_user(role="ADMIN")
    token = auth_service.issue_tokens(user)["accessToken"]
    assert handshake_refusal(token=token) == "User not found"
    status = client.get("/api/realtime/status", headers=headers_for(admin)).get_json()
    assert status["onlineUserIds"] == []


# Rooms: user:<id> and admin


def test_each_socket_gets_its_users_messages_and_admins_get_all(inbox):
    owner, other = inbox.socket_for(inbox.owner), inbox.socket_for(inbox.other)
    admin = inbox.socket_for(inbox.admin)
    mine = inbox.message(content="for owner")
    theirs = inbox.message(inbox.other, content="for other")

    assert [m["id"] for m in received(owner)["new_message"]] == [mine["id"]]
    assert [m["id"] for m in received(other)["new_message"]] == [theirs["id"]]
    assert [m["id"] for m in received(admin)["new_message"]] == [mine["id"], theirs["id"]]


def test_admin_owning_a_conversation_gets_it_once(inbox):
    admin = inbox.socket_for(inbox.admin)
    accepted_id = inbox.message(inbox.admin)["id"]
    assert [m["id"] for m in received(admin)["new_message"]] == [accepted_id]


def test_every_socket_of_a_user_gets_the_message(inbox):
    sockets = [inbox.socket_for(inbox.owner) for _ in range(3)]
    inbox.message()
    assert [len(received(s)["new_message"]) for s in sockets] == [1, 1, 1]


# join_conversation / leave_conversation

INVALID_IDS = ["1", "abc", 0, -1, True, False, None, 1.5, 2.0, [1], {"conversationId": 1}]


@pytest.mark.parametrize("event", ["join_conversation", "leave_conversation"])
@pytest.mark.parametrize("value", INVALID_IDS, ids=repr)
def test_join_and_leave_refuse_invalid_ids(inbox, event, value):
    socket = inbox.socket_for(inbox.owner)
    assert refusal(socket, event, value) == "Invalid conversationId"


@pytest.mark.parametrize("event", ["join_conversation", "leave_conversation"])
@pytest.mark.parametrize("value", [999_999, 2**31, 2**63])
def test_join_and_leave_of_a_missing_conversation(inbox, event, value):
    socket = inbox.socket_for(inbox.owner)
    assert refusal(socket, event, value) == "Conversation not found"


@pytest.mark.parametrize("event", ["join_conversation", "leave_conversation"])
def test_join_and_leave_of_someone_elses_conversation(inbox, event):
    conversation_id = inbox.message(inbox.other)["conversationId"]
    socket = inbox.socket_for(inbox.owner)
    assert refusal(socket, event, conversation_id) == "Unauthorized"


def test_refusal_without_an_ack_still_sends_the_error_event(inbox):
    socket = inbox.socket_for(inbox.owner)
    assert socket.emit("join_conversation", "nope") is None
    assert received(socket) == {"error": [{"message": "Invalid conversationId"}]}


def test_owner_and_admin_may_join_and_then_hear_typing(inbox):
    conversation_id = inbox.message()["conversationId"]
    owner, admin = inbox.socket_for(inbox.owner), inbox.socket_for(inbox.admin)
    accepted(owner, "join_conversation", conversation_id)
    accepted(admin, "join_conversation", conversation_id)
    received(owner), received(admin)

    accepted(admin, "typing", {"conversationId": conversation_id, "isTyping": True})
    assert typing_events(owner) == [
        {"userId": inbox.admin.id, "conversationId": conversation_id, "isTyping": True}
    ]


def test_after_leaving_no_more_typing_arrives(inbox):
    conversation_id = inbox.message()["conversationId"]
    owner, admin = inbox.socket_for(inbox.owner), inbox.socket_for(inbox.admin)
    for socket in (owner, admin):
        accepted(socket, "join_conversation", conversation_id)
    accepted(owner, "leave_conversation", conversation_id)
    received(owner)

    accepted(admin, "typing", {"conversationId": conversation_id, "isTyping": True})
    assert typing_events(owner) == []
    # And the leaver can no longer type there.
    assert refusal(owner, "typing", {"conversationId": conversation_id, "isTyping": True}) == (
        "Unauthorized"
    )


# typing


@pytest.fixture
def typing_room(inbox):
    """The owner and an admin joined to the owner's conversation."""
    inbox.conversation_id = inbox.message()["conversationId"]
    inbox.owner_socket = inbox.socket_for(inbox.owner)
    inbox.admin_socket = inbox.socket_for(inbox.admin)
    for socket in (inbox.owner_socket, inbox.admin_socket):
        accepted(socket, "join_conversation", inbox.conversation_id)
        received(socket)
    return inbox


def typing_payload(room, is_typing, user=None):
    return {
        "userId": (user or room.owner).id,
        "conversationId": room.conversation_id,
        "isTyping": is_typing,
    }


def test_typing_reaches_the_room_but_not_the_sender(typing_room):
    room = typing_room
    accepted(
        room.owner_socket, "typing", {"conversationId": room.conversation_id, "isTyping": True}
    )
    assert typing_events(room.admin_socket) == [typing_payload(room, True)]
    assert received(room.owner_socket) == {}


def test_typing_does_not_reach_sockets_outside_the_room(typing_room):
    room = typing_room
    outsider_admin = room.socket_for(room.admin)
    owners_other_tab = room.socket_for(room.owner)
    accepted(
        room.owner_socket, "typing", {"conversationId": room.conversation_id, "isTyping": True}
    )
    assert received(outsider_admin) == {}
    assert received(owners_other_tab) == {}


def test_typing_in_a_conversation_not_joined_is_unauthorized(inbox):
    conversation_id = inbox.message()["conversationId"]
    owner, admin = inbox.socket_for(inbox.owner), inbox.socket_for(inbox.admin)
    accepted(admin, "join_conversation", conversation_id)
    received(admin)
    data = {"conversationId": conversation_id, "isTyping": True}
    assert refusal(owner, "typing", data) == "Unauthorized"
    assert received(admin) == {}


@pytest.mark.parametrize(
    "data, message",
    [
        ("typing", "Invalid conversationId"),
        (None, "Invalid conversationId"),
        ({"isTyping": True}, "Invalid conversationId"),
        ({"conversationId": "1", "isTyping": True}, "Invalid conversationId"),
        ({"conversationId": 0, "isTyping": True}, "Invalid conversationId"),
        ({"conversationId": True, "isTyping": True}, "Invalid conversationId"),
    ],
)
def test_typing_with_bad_data_is_refused(typing_room, data, message):
    assert refusal(typing_room.owner_socket, "typing", data) == message
    assert received(typing_room.admin_socket) == {}


def test_typing_with_a_non_boolean_is_refused_and_not_broadcast(typing_room):
    room = typing_room
    refusal(room.owner_socket, "typing", {"conversationId": room.conversation_id, "isTyping": "y"})
    assert received(room.admin_socket) == {}


def test_repeated_true_is_broadcast_at_most_once_per_500_ms(typing_room, monkeypatch):
    room, clock = typing_room, FakeClock()
    monkeypatch.setattr(typing_tracker, "time", clock)
    data = {"conversationId": room.conversation_id, "isTyping": True}
    for step in (0, 0.1, 0.2, 0.49):
        clock.now = 5000 + step
        accepted(room.owner_socket, "typing", data)
    assert typing_events(room.admin_socket) == [typing_payload(room, True)]

    clock.now = 5000.5
    accepted(room.owner_socket, "typing", data)
    assert typing_events(room.admin_socket) == [typing_payload(room, True)]


def test_false_is_never_swallowed_by_the_throttle(typing_room, monkeypatch):
    room, clock = typing_room, FakeClock()
    monkeypatch.setattr(typing_tracker, "time", clock)
    accepted(
        room.owner_socket, "typing", {"conversationId": room.conversation_id, "isTyping": True}
    )
    clock.now += 0.05
    accepted(
        room.owner_socket, "typing", {"conversationId": room.conversation_id, "isTyping": False}
    )
    assert typing_events(room.admin_socket) == [
        typing_payload(room, True),
        typing_payload(room, False),
    ]


def test_the_throttle_is_per_conversation(typing_room, monkeypatch):
    room, clock = typing_room, FakeClock()
    monkeypatch.setattr(typing_tracker, "time", clock)
    second = room.message(phone="+905550000002")["conversationId"]
    for socket in (room.owner_socket, room.admin_socket):
        accepted(socket, "join_conversation", second)
    received(room.admin_socket)
    accepted(
        room.owner_socket, "typing", {"conversationId": room.conversation_id, "isTyping": True}
    )
    accepted(room.owner_socket, "typing", {"conversationId": second, "isTyping": True})
    assert [e["conversationId"] for e in typing_events(room.admin_socket)] == [
        room.conversation_id,
        second,
    ]


def test_the_throttle_is_per_socket(typing_room, monkeypatch):
    room, clock = typing_room, FakeClock()
    monkeypatch.setattr(typing_tracker, "time", clock)
    other_tab = room.socket_for(room.owner)
    accepted(other_tab, "join_conversation", room.conversation_id)
    data = {"conversationId": room.conversation_id, "isTyping": True}
    accepted(room.owner_socket, "typing", data)
    accepted(other_tab, "typing", data)
    assert len(typing_events(room.admin_socket)) == 2


def test_typer_disconnecting_clears_the_indicator(typing_room):
    room = typing_room
    accepted(
        room.owner_socket, "typing", {"conversationId": room.conversation_id, "isTyping": True}
    )
    received(room.admin_socket)
    room.owner_socket.disconnect()
    assert typing_events(room.admin_socket) == [typing_payload(room, False)]


def test_typer_leaving_clears_the_indicator(typing_room):
    room = typing_room
    accepted(
        room.owner_socket, "typing", {"conversationId": room.conversation_id, "isTyping": True}
    )
    received(room.admin_socket)
    accepted(room.owner_socket, "leave_conversation", room.conversation_id)
    assert typing_events(room.admin_socket) == [typing_payload(room, False)]


@pytest.fixture
def quick_room():
    """On an app whose typing expires after 0.3 s: (typer, listener, conversation, typer id)."""
    app = create_app({"CONFIG": "testing", "TYPING_TIMEOUT_SECONDS": 0.3})
    with app.app_context():
        db.create_all()
        owner = create_user("quick-owner@example.com", PASSWORD)
        admin = create_user("quick-admin@example.com", PASSWORD, "ADMIN")
        response = app.test_client().post(
            "/api/webhooks/n8n/message",
            json=webhook_body(owner),
            headers={"X-Webhook-Secret": app.config["N8N_WEBHOOK_SECRET"]},
        )
        conversation_id = response.get_json()["data"]["conversationId"]
        typer, listener = (
            socketio.test_client(app, auth={"token": auth_service.issue_tokens(u)["accessToken"]})
            for u in (owner, admin)
        )
        for socket in (typer, listener):
            accepted(socket, "join_conversation", conversation_id)
            received(socket)
        yield typer, listener, conversation_id, owner.id
        for socket in (typer, listener):
            socket.disconnect()
        db.session.remove()
        db.engine.dispose()


def test_typing_expires_after_the_timeout_without_a_follow_up(quick_room):
    typer, listener, conversation_id, typer_id = quick_room
    started = time.monotonic()
    accepted(typer, "typing", {"conversationId": conversation_id, "isTyping": True})
    assert received(listener)["user_typing"][0]["isTyping"] is True

    events = wait_until_received(listener, "user_typing")
    waited = time.monotonic() - started
    assert events["user_typing"] == [
        {"userId": typer_id, "conversationId": conversation_id, "isTyping": False}
    ]
    assert 0.3 <= waited < 2.0
    assert received(typer) == {}


def test_typing_expiry_restarts_with_each_true(quick_room):
    typer, listener, conversation_id, _ = quick_room
    data = {"conversationId": conversation_id, "isTyping": True}
    accepted(typer, "typing", data)
    received(listener)
    time.sleep(0.2)  # the typer pauses, then types on before the timeout
    last_true = time.monotonic()
    accepted(typer, "typing", data)  # within the throttle: not broadcast, but re-arms expiry
    events = wait_until_received(listener, "user_typing")
    assert [e["isTyping"] for e in events["user_typing"]] == [False]
    assert time.monotonic() - last_true >= 0.3


# mark_read


@pytest.mark.parametrize(
    "data",
    [
        None,
        "msg_x",
        42,
        [],
        {},
        {"messageId": ""},
        {"messageId": "   "},
        {"messageId": 7},
        {"messageId": None},
        {"messageId": ["msg_x"]},
        {"messageId": "msg\x00x"},
        {"messageId": "msg\ud800"},
    ],
    ids=repr,
)
def test_mark_read_invalid_message_id(inbox, data):
    socket = inbox.socket_for(inbox.owner)
    assert refusal(socket, "mark_read", data) == "Invalid messageId"


def test_mark_read_unknown_message(inbox):
    socket = inbox.socket_for(inbox.owner)
    assert refusal(socket, "mark_read", {"messageId": "msg_missing"}) == "Message not found"


def test_mark_read_of_someone_elses_message_is_unauthorized_and_changes_nothing(
    inbox, client, headers_for
):
    theirs = inbox.message(inbox.other)
    owner, other = inbox.socket_for(inbox.owner), inbox.socket_for(inbox.other)
    received(other)
    assert refusal(owner, "mark_read", {"messageId": theirs["id"]}) == "Unauthorized"
    assert received(other) == {}
    page = client.get(
        f"/api/conversations/{theirs['conversationId']}/messages",
        headers=headers_for(inbox.other),
    ).get_json()
    assert page[0]["isRead"] is False


def test_mark_read_reaches_owner_admins_and_room_once_per_socket(inbox):
    message = inbox.message()
    owner, admin, other = (inbox.socket_for(u) for u in (inbox.owner, inbox.admin, inbox.other))
    in_room = inbox.socket_for(inbox.admin)
    accepted(in_room, "join_conversation", message["conversationId"])
    for socket in (owner, admin, other, in_room):
        received(socket)

    accepted(owner, "mark_read", {"messageId": message["id"]})
    for socket in (owner, admin, in_room):
        (payload,) = received(socket)["message_read"]
        assert set(payload) == {"messageId", "conversationId", "readBy", "readAt", "eventId"}
        assert payload["messageId"] == message["id"]
        assert payload["conversationId"] == message["conversationId"]
        assert payload["readBy"] == inbox.owner.id
        assert payload["readAt"].endswith("Z")
    assert received(other) == {}


def test_mark_read_by_an_admin_names_the_admin(inbox):
    message = inbox.message()
    owner, admin = inbox.socket_for(inbox.owner), inbox.socket_for(inbox.admin)
    received(owner)
    accepted(admin, "mark_read", {"messageId": message["id"]})
    assert received(owner)["message_read"][0]["readBy"] == inbox.admin.id


def test_mark_read_twice_emits_once(inbox):
    message = inbox.message()
    owner = inbox.socket_for(inbox.owner)
    received(owner)
    accepted(owner, "mark_read", {"messageId": message["id"]})
    accepted(owner, "mark_read", {"messageId": message["id"]})
    assert len(received(owner)["message_read"]) == 1


# Rate limit: more than 10 events a second from one socket


def test_the_eleventh_event_in_a_second_is_refused_and_dropped(
    inbox, monkeypatch, client, headers_for
):
    clock = FakeClock()
    monkeypatch.setattr(event_limits, "time", clock)
    message = inbox.message()
    owner, admin = inbox.socket_for(inbox.owner), inbox.socket_for(inbox.admin)
    received(admin)
    for n in range(10):
        clock.now = 5000 + n * 0.09
        accepted(owner, "join_conversation", message["conversationId"])

    clock.now = 5000.95
    assert refusal(owner, "mark_read", {"messageId": message["id"]}) == "Rate limit exceeded"
    assert received(admin) == {}
    page = client.get(
        f"/api/conversations/{message['conversationId']}/messages",
        headers=headers_for(inbox.owner),
    ).get_json()
    assert page[0]["isRead"] is False

    # Another socket of the same user has its own budget.
    accepted(inbox.socket_for(inbox.owner), "join_conversation", message["conversationId"])
    # Once the oldest event is a second old, the socket may send again.
    clock.now = 5001.0
    accepted(owner, "mark_read", {"messageId": message["id"]})
    assert len(received(admin)["message_read"]) == 1


def test_refused_events_count_toward_the_limit_too(inbox, monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(event_limits, "time", clock)
    owner = inbox.socket_for(inbox.owner)
    for _ in range(10):
        assert refusal(owner, "join_conversation", "bad") == "Invalid conversationId"
    assert refusal(owner, "join_conversation", "bad") == "Rate limit exceeded"


# Replay on reconnect


def replayed(socket) -> list[tuple[str, int]]:
    return [(p["name"], p["args"][0].get("eventId")) for p in socket.get_received()]


def test_replay_sends_what_was_missed_in_order_and_only_what_is_visible(inbox):
    watcher = inbox.socket_for(inbox.owner)
    first = inbox.message(content="seen")
    last_seen = received(watcher)["new_message"][0]["eventId"]
    watcher.disconnect()
    missed = [inbox.message(content=f"missed {n}") for n in range(3)]
    inbox.message(inbox.other, content="not mine")
    admin = inbox.socket_for(inbox.admin)
    accepted(admin, "mark_read", {"messageId": first["id"]})

    socket = inbox.socket_for(inbox.owner, lastEventId=last_seen)
    events = received(socket)
    assert [m["id"] for m in events["new_message"]] == [m["id"] for m in missed]
    assert [r["messageId"] for r in events["message_read"]] == [first["id"]]
    assert "resync_required" not in events

    again = inbox.socket_for(inbox.owner, lastEventId=last_seen)
    ids = [event_id for _, event_id in replayed(again)]
    assert ids == sorted(ids) and len(ids) == 4 and ids[0] > last_seen


def _event_id_of(message_id: str) -> int:
    return next(
        e.id for e in db.session.scalars(db.select(Event)) if e.data.get("id") == message_id
    )


def test_a_replay_re_sends_what_committed_just_before_last_event_id(app, inbox):
    """A client that saw the third message before the first two (published late by
    another process) resumes from the third and still gets them."""
    early = [inbox.message(content=f"early {n}") for n in range(2)]
    inbox.message(inbox.other, content="not mine")
    seen = inbox.message(content="seen first")
    socket = inbox.socket_for(inbox.owner, lastEventId=_event_id_of(seen["id"]))
    assert [m["id"] for m in received(socket)["new_message"]] == [m["id"] for m in early]

    # Committed longer than the margin before: a publish that late had failed, and
    # the message queue's own recovery covers that.
    margin = app.config["EVENT_REPLAY_MARGIN_SECONDS"]
    oldest = db.session.get(Event, _event_id_of(early[0]["id"]))
    oldest.created_at -= timedelta(seconds=margin + 0.5)
    db.session.commit()
    socket = inbox.socket_for(inbox.owner, lastEventId=_event_id_of(seen["id"]))
    assert [m["id"] for m in received(socket)["new_message"]] == [early[1]["id"]]

    app.config["EVENT_REPLAY_MARGIN_SECONDS"] = 0
    assert received(inbox.socket_for(inbox.owner, lastEventId=_event_id_of(seen["id"]))) == {}


def test_an_event_committed_during_the_replay_follows_it_once(inbox, monkeypatch):
    """Rooms are joined after the replay, so no live event overtakes it; what
    committed meanwhile is read again once they are joined."""
    missed = inbox.message(content="missed")
    during = []
    replay_for = event_log.replay_for

    def replay_then_commit(*args):
        found = replay_for(*args)
        during.append(inbox.message(content="committed during the replay"))
        return found

    monkeypatch.setattr(event_log, "replay_for", replay_then_commit)
    socket = inbox.socket_for(inbox.owner, lastEventId=0)
    contents = [m["messageContent"] for m in received(socket)["new_message"]]
    assert contents == ["missed", "committed during the replay"]
    assert missed["id"] != during[0]["id"]


def test_replay_for_an_admin_includes_everyones_events(inbox):
    inbox.message(content="mine")
    inbox.message(inbox.other, content="theirs")
    socket = inbox.socket_for(inbox.admin, lastEventId=0)
    contents = [m["messageContent"] for m in received(socket)["new_message"]]
    assert contents == ["mine", "theirs"]


def test_replayed_events_equal_the_live_ones(inbox):
    live_socket = inbox.socket_for(inbox.owner)
    inbox.message()
    live = received(live_socket)["new_message"]
    replay = received(inbox.socket_for(inbox.owner, lastEventId=0))["new_message"]
    assert replay == live


def test_up_to_date_client_gets_nothing(inbox):
    watcher = inbox.socket_for(inbox.owner)
    inbox.message()
    latest = received(watcher)["new_message"][0]["eventId"]
    socket = inbox.socket_for(inbox.owner, lastEventId=latest)
    assert received(socket) == {}


def test_no_last_event_id_means_no_replay(inbox):
    inbox.message()
    assert received(inbox.socket_for(inbox.owner)) == {}
    assert received(inbox.socket_for(inbox.owner, lastEventId=None)) == {}


def _record_events(user_id: int, count: int) -> list[Event]:
    recorded = [event_log.record("new_message", user_id, 1, Numbered(n=n)) for n in range(count)]
    db.session.commit()
    return recorded


def test_exactly_1000_missing_are_replayed(inbox):
    recorded = _record_events(inbox.owner.id, 1001)
    socket = inbox.socket_for(inbox.owner, lastEventId=recorded[0].id)
    events = replayed(socket)
    assert len(events) == 1000
    assert [event_id for _, event_id in events] == [e.id for e in recorded[1:]]


def test_a_long_replay_goes_out_in_pages_with_the_worker_free_in_between(inbox, monkeypatch):
    """Before, the 1000 events were read and emitted in one piece."""
    from app.realtime import broadcast

    recorded = _record_events(inbox.owner.id, 1001)
    steps = []
    emit = broadcast.to_socket
    monkeypatch.setattr(event_log, "let_others_run", lambda: steps.append("pause"))
    monkeypatch.setattr(
        broadcast,
        "to_socket",
        lambda sid, name, data: steps.append(data.get("eventId")) or emit(sid, name, data),
    )
    socket = inbox.socket_for(inbox.owner, lastEventId=recorded[0].id)
    assert [event_id for _, event_id in replayed(socket)] == [e.id for e in recorded[1:]]
    pauses = [n for n, step in enumerate(steps) if step == "pause"]
    emitted = [step for step in steps if step != "pause"]
    assert emitted == [e.id for e in recorded[1:]]
    assert pauses == [101 * n + 100 for n in range(10)]  # after each full page of 100


def test_more_than_1000_missing_asks_for_a_resync_instead(inbox):
    recorded = _record_events(inbox.owner.id, 1001)
    socket = inbox.socket_for(inbox.owner, lastEventId=recorded[0].id - 1)
    assert received(socket) == {"resync_required": [{}]}


def test_the_1000_counts_only_what_the_user_may_see(inbox):
    _record_events(inbox.other.id, 1001)
    mine = _record_events(inbox.owner.id, 2)
    socket = inbox.socket_for(inbox.owner, lastEventId=0)
    assert [event_id for _, event_id in replayed(socket)] == [e.id for e in mine]


def test_an_id_ahead_of_the_log_asks_for_a_resync(inbox):
    watcher = inbox.socket_for(inbox.owner)
    inbox.message()
    latest = received(watcher)["new_message"][0]["eventId"]
    socket = inbox.socket_for(inbox.owner, lastEventId=latest + 1)
    assert received(socket) == {"resync_required": [{}]}


def test_an_id_the_log_no_longer_reaches_asks_for_a_resync(inbox):
    recorded = _record_events(inbox.owner.id, 5)
    db.session.query(Event).filter(Event.id <= recorded[2].id).delete()
    db.session.commit()
    socket = inbox.socket_for(inbox.owner, lastEventId=recorded[0].id)
    assert received(socket) == {"resync_required": [{}]}
    # Right at the edge of what is kept, the replay still works.
    edge = inbox.socket_for(inbox.owner, lastEventId=recorded[2].id)
    assert [event_id for _, event_id in replayed(edge)] == [e.id for e in recorded[3:]]


@pytest.mark.parametrize("value", ["5", -1, 1.5, True, [1], {"id": 1}], ids=repr)
def test_an_invalid_last_event_id_asks_for_a_resync(inbox, value):
    inbox.message()
    socket = inbox.socket_for(inbox.owner, lastEventId=value)
    assert socket.is_connected()
    assert received(socket) == {"resync_required": [{}]}


def test_an_empty_log_with_last_event_id_zero_is_up_to_date(inbox):
    socket = inbox.socket_for(inbox.owner, lastEventId=0)
    assert socket.is_connected() and received(socket) == {}


# Reserved event names (more in tests/integration/test_hostile_reserved_events.py)


def test_a_client_event_cannot_be_declared_under_a_lifecycle_name():
    from app.realtime.handlers import client_event
    from app.schemas.socket import MarkRead

    for name in ("connect", "disconnect", "connect_error"):
        with pytest.raises(ValueError):
            client_event(name, MarkRead)


def test_a_client_sent_disconnect_changes_nothing_and_the_sweep_still_cuts(
    app, make_user, socket_for, token_for
):
    from app.realtime import token_sweep
    from app.state import presence, state

    user = make_user(role="ADMIN")
    socket = socket_for(user)
    (sid,) = [c.sid for c in state().connections.all()]
    assert socket.emit("disconnect", callback=True) is None
    assert socket.emit("connect", {"token": token_for(make_user())}, callback=True) is None
    assert received(socket) == {}
    assert state().connections.get(sid).user_id == user.id
    assert presence().is_online(user.id)
    user.is_active = False
    db.session.commit()
    assert token_sweep.sweep(app, state()) == 1
    assert not socket.is_connected()
    assert not presence().is_online(user.id)
