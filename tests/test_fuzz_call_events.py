"""Property-based: whatever a user emits as a call event, it gets an ack (accepted or a
documented refusal, answered both ways), nobody is disconnected, and nothing reaches a
user who is not a party to the call."""

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.extensions import socketio
from app.services.auth import issue_tokens
from app.services.users import create_user
from tests.conftest import PASSWORD, received
from tests.module_app import fresh_app
from tests.reliability_figures import record
from tests.test_fuzz_socket_events import json_values

EVENTS = ["call_invite", "call_accept", "call_reject", "call_signal", "call_end"]
REFUSALS = {
    "Invalid toUserId",
    "Invalid kind",
    "Invalid callId",
    "Invalid data",
    "User not found",
    "User offline",
    "Unauthorized",
    "Call not found",
    "Call already answered",
    "Call not answered",
    "Rate limit exceeded",
}
EXAMPLES = 150


@pytest.fixture(scope="module")
def world():
    """A user who fuzzes, an admin it may call (who answers), a bystander user."""
    with fresh_app() as app:
        people = {
            "me": create_user("call-me@example.com", PASSWORD, "USER"),
            "bystander": create_user("call-them@example.com", PASSWORD, "USER"),
            "admin": create_user("call-boss@example.com", PASSWORD, "ADMIN"),
        }
        sockets = {
            name: socketio.test_client(app, auth={"token": issue_tokens(user)["accessToken"]})
            for name, user in people.items()
        }
        app.world = {"people": people, "sockets": sockets, "calls": [], "tally": Counter()}
        yield app
        tally = app.world["tally"]
        record(
            "fuzz: call events (hypothesis)",
            inputs=tally["inputs"],
            refused=tally["refused"],
            accepted=tally["accepted"],
            server_errors=tally["crashed"],
            leaked_events=tally["leaked"],
            neighbours_disconnected=tally["disconnected"],
        )
        for socket in sockets.values():
            socket.disconnect()


def payloads(world: dict, event: str):
    """A valid payload for the event, one near it (real, odd or foreign ids), or any JSON."""
    people = world["people"]
    user_ids = st.sampled_from(
        [people["admin"].id, people["bystander"].id, people["me"].id, 0, -1, 2**31, True, "1"]
    )
    # The calls made so far, always five of them (padded with an id nobody has), so the
    # strategy draws the same shape of choices each time: hypothesis replays examples
    # and refuses a strategy whose choices depend on how many calls exist by then.
    recent = (world["calls"][-5:] + ["call_" + "1" * 32] * 5)[:5]
    call_ids = st.sampled_from([*recent, "call_" + "0" * 32, "call_x", "", None])
    near = st.fixed_dictionaries(
        {},
        optional={
            "toUserId": user_ids | json_values,
            "kind": st.sampled_from(["video", "audio", "screen", "fax", ""]) | json_values,
            "callId": call_ids | json_values,
            "data": json_values,
        },
    )
    valid = {
        "call_invite": st.fixed_dictionaries(
            {"toUserId": st.just(people["admin"].id), "kind": st.just("video")}
        ),
        "call_signal": st.fixed_dictionaries({"callId": call_ids, "data": json_values}),
    }.get(event, st.fixed_dictionaries({"callId": call_ids}))
    return st.one_of(valid, near, json_values)


def emit_and_check(world: dict, event: str, args: tuple) -> None:
    tally, sockets = world["tally"], world["sockets"]
    ack = sockets["me"].emit(event, *args, callback=True)
    mine = received(sockets["me"])
    tally["inputs"] += 1
    tally["crashed"] += ack is None  # a handler that raised answers no ack
    if isinstance(ack, dict) and ack.get("ok") is True:
        assert mine.get("error") is None
        tally["accepted"] += 1
        if "callId" in ack:
            world["calls"].append(ack["callId"])
    else:
        assert isinstance(ack, dict) and ack.get("error") in REFUSALS, ack
        assert mine["error"] == [{"message": ack["error"]}]
        tally["refused"] += 1
    # The admin answers some of the calls, so signalling has a socket to reach.
    for incoming in received(sockets["admin"]).get("call_incoming", []):
        if len(world["calls"]) % 2:
            sockets["admin"].emit("call_accept", {"callId": incoming["callId"]}, callback=True)
    tally["leaked"] += sum(len(v) for v in received(sockets["bystander"]).values())
    tally["disconnected"] += sum(not s.is_connected() for s in sockets.values())
    assert tally["leaked"] == 0 and tally["disconnected"] == 0 and tally["crashed"] == 0


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_any_sequence_of_call_events(world, data):
    for _ in range(data.draw(st.integers(1, 6), label="length")):
        event = data.draw(st.sampled_from(EVENTS), label="event")
        payload = data.draw(payloads(world.world, event), label="payload")
        emit_and_check(world.world, event, (payload,))


@settings(max_examples=EXAMPLES // 3, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    event=st.sampled_from(EVENTS),
    args=st.lists(json_values, max_size=3).filter(lambda args: len(args) != 1),
)
def test_no_argument_or_several(world, event, args):
    emit_and_check(world.world, event, tuple(args))
