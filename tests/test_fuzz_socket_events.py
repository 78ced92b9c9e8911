"""Property-based: whatever a client emits as join_conversation, leave_conversation,
typing or mark_read, it gets an ack, its neighbours stay connected, and a refusal
stores nothing and leaks nothing to another user.
"""

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.extensions import db, socketio
from app.models import Event, Message
from app.services.auth import issue_tokens
from app.services.users import create_user
from tests.conftest import PASSWORD, WEBHOOK_SECRET, received, webhook_body
from tests.module_app import fresh_app
from tests.reliability_figures import record

EVENTS = ["join_conversation", "leave_conversation", "typing", "mark_read"]
REFUSALS = {
    "Invalid conversationId",
    "Conversation not found",
    "Unauthorized",
    "Invalid isTyping",
    "Invalid messageId",
    "Message not found",
}
EXAMPLES = 200

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3)
    ),
    max_leaves=8,
)


def payloads(world: dict, event: str):
    """A valid payload for the event, one near it (real, foreign, odd ids), or any JSON."""
    ids = world["ids"]
    conversation_ids = st.sampled_from(
        [ids["mine"], ids["theirs"], 0, -1, 10**6, 2**31, 2**63, True, "1", 1.0]
    )
    message_ids = st.sampled_from(
        ids["my_messages"] + ids["their_messages"] + ["msg_x", "", " ", "\x00"]
    )
    valid = {
        "join_conversation": st.just(ids["mine"]),
        "leave_conversation": st.just(ids["mine"]),
        "typing": st.fixed_dictionaries(
            {"conversationId": st.just(ids["mine"]), "isTyping": st.booleans()}
        ),
        "mark_read": st.fixed_dictionaries({"messageId": st.sampled_from(ids["my_messages"])}),
    }[event]
    near = st.fixed_dictionaries(
        {},
        optional={
            "conversationId": conversation_ids | json_values,
            "isTyping": st.booleans() | json_values,
            "messageId": message_ids | json_values,
        },
    )
    # About a third valid, so accepted events are checked for leaks as much as refusals.
    return st.one_of(valid, st.one_of(conversation_ids, near, message_ids, json_values))


@pytest.fixture(scope="module")
def world():
    """Two agents with a conversation each, an admin; sockets for all, rooms joined."""
    with fresh_app(SOCKET_EVENTS_PER_SECOND=1_000_000) as app:
        people = {
            "me": create_user("fuzz-me@example.com", PASSWORD, "USER"),
            "them": create_user("fuzz-them@example.com", PASSWORD, "USER"),
            "admin": create_user("fuzz-boss@example.com", PASSWORD, "ADMIN"),
        }
        client = app.test_client()
        posted = {"me": [], "them": []}
        for owner, count in (("me", 40), ("them", 5)):
            for n in range(count):
                body = webhook_body(people[owner], message_content=f"{owner} {n}")
                response = client.post(
                    "/api/webhooks/n8n/message",
                    json=body,
                    headers={"X-Webhook-Secret": WEBHOOK_SECRET},
                )
                posted[owner].append(response.get_json()["data"])
        sockets = {
            name: socketio.test_client(app, auth={"token": issue_tokens(user)["accessToken"]})
            for name, user in people.items()
        }
        sockets["them"].emit("join_conversation", posted["them"][0]["conversationId"])
        sockets["admin"].emit("join_conversation", posted["me"][0]["conversationId"])
        for socket in sockets.values():
            received(socket)
        ids = {
            "mine": posted["me"][0]["conversationId"],
            "theirs": posted["them"][0]["conversationId"],
            "my_messages": [m["id"] for m in posted["me"]],
            "their_messages": [m["id"] for m in posted["them"]],
        }
        tally: Counter = Counter()
        app.world = {"people": people, "sockets": sockets, "ids": ids, "tally": tally}
        yield app
        assert_neighbour_still_served(app)
        record(
            "fuzz: socket client events (hypothesis)",
            inputs=tally["inputs"],
            refused=tally["refused"],
            accepted=tally["accepted"],
            server_errors=tally["crashed"],
            leaked_events=tally["leaked"],
            neighbours_disconnected=tally["disconnected"],
        )
        for socket in sockets.values():
            socket.disconnect()


def assert_neighbour_still_served(app) -> None:
    """After the fuzzing, the other user's socket still receives what is theirs."""
    them = app.world["people"]["them"]
    response = app.test_client().post(
        "/api/webhooks/n8n/message",
        json=webhook_body(them, message_content="still here"),
        headers={"X-Webhook-Secret": WEBHOOK_SECRET},
    )
    assert response.status_code == 201
    got = received(app.world["sockets"]["them"])["new_message"]
    assert [m["messageContent"] for m in got] == ["still here"]


def leaks(world: dict, delivered: dict) -> int:
    """Events the other agent received about a conversation that is not theirs."""
    theirs = world["ids"]["theirs"]
    count = 0
    for name, payloads in received(world["sockets"]["them"]).items():
        count += sum(
            1 for p in payloads if isinstance(p, dict) and p.get("conversationId") != theirs
        )
        delivered.setdefault(f"them:{name}", []).extend(payloads)
    return count


def check_ack(world: dict, ack, errors_sent: list, events_before: int) -> str:
    """The ack is ok or a contract refusal, answered both ways; a refusal stores nothing."""
    if ack == {"ok": True}:
        assert errors_sent == []
        return "accepted"
    assert isinstance(ack, dict) and ack.get("error") in REFUSALS, ack
    assert errors_sent == [{"message": ack["error"]}]
    assert db.session.query(Event).count() == events_before
    return "refused"


def emit_and_check(world: dict, event: str, args: tuple) -> None:
    tally, sockets = world["tally"], world["sockets"]
    events_before = db.session.query(Event).count()
    ack = sockets["me"].emit(event, *args, callback=True)
    mine = received(sockets["me"])
    tally["inputs"] += 1
    tally["crashed"] += ack is None  # a handler that raised answers no ack
    tally[check_ack(world, ack, mine.get("error", []), events_before)] += 1
    tally["leaked"] += leaks(world, {})
    received(sockets["admin"])
    tally["disconnected"] += sum(not s.is_connected() for s in sockets.values())
    assert tally["leaked"] == 0 and tally["disconnected"] == 0


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_any_sequence_of_client_events(world, data):
    # Sequences, so valid joins, reads and typing recur in every order among the junk.
    for _ in range(data.draw(st.integers(1, 6), label="length")):
        event = data.draw(st.sampled_from(EVENTS), label="event")
        payload = data.draw(payloads(world.world, event), label="payload")
        emit_and_check(world.world, event, (payload,))


@settings(max_examples=EXAMPLES // 2, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    event=st.sampled_from(EVENTS),
    args=st.lists(json_values, max_size=3).filter(lambda args: len(args) != 1),
)
def test_no_argument_or_several(world, event, args):
    emit_and_check(world.world, event, tuple(args))


def test_reads_of_foreign_messages_store_nothing(world):
    """The pointed case: every message of the other agent, refused, nothing written."""
    world_ = world.world
    unread_before = db.session.query(Message).filter(Message.is_read.is_(False)).count()
    for message_id in world_["ids"]["their_messages"]:
        emit_and_check(world_, "mark_read", ({"messageId": message_id},))
    assert db.session.query(Message).filter(Message.is_read.is_(False)).count() == unread_before
