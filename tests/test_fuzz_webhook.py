"""Property-based: whatever JSON (or bytes) reaches the n8n webhook, no 5xx and no leak.

A refused request stores nothing and emits nothing; an accepted one is stored
once and reaches its owner and the admins only; a repeat is answered, not stored.
"""

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.extensions import db, socketio
from app.models import Event, Message
from app.services.auth import issue_tokens
from app.services.users import create_user
from tests.conftest import PASSWORD, WEBHOOK_FIELDS, WEBHOOK_SECRET, received
from tests.module_app import fresh_app
from tests.reliability_figures import record

URL = "/api/webhooks/n8n/message"
FIELDS = list(WEBHOOK_FIELDS)
EXAMPLES = 400

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)


def _storable(text: str) -> bool:
    return bool(text.strip()) and "\x00" not in text


valid_fields = {
    "customer_name": st.text(min_size=1, max_size=30).filter(_storable),
    "customer_phone": st.from_regex(r"\+[0-9]{6,14}", fullmatch=True),
    "message_content": st.text(min_size=1, max_size=60).filter(_storable),
    "message_type": st.sampled_from(["text", "IMAGE", "voice_note"]),
    "direction": st.sampled_from(["INBOUND", "outbound"]),
    "timestamp": st.sampled_from(["2024-05-01T10:00:00Z", 1.5e9, "1714557600", 1714557600123]),
    # A small pool, so repeats (duplicates) happen too.
    "message_id": st.sampled_from(["wamid.a", "wamid.b", "wamid.c"]) | st.uuids().map(str),
}
invalid_fields = {
    "user_id": st.sampled_from(["²", "0", 0, -1, 2**31, 7.5, True, "", None, 999_999]),
    "customer_name": st.sampled_from(["", " \t", "x" * 256, "a\x00b", 5, None]),
    "customer_phone": st.sampled_from(["", "9" * 65, ["+1"], "\u3000"]),
    "message_content": st.sampled_from(["", "\x1c", "x" * 60_001, {"text": "hi"}]),
    "message_type": st.sampled_from(["text\n", "voice note", "x" * 33, ""]),
    "direction": st.sampled_from(["SIDEWAYS", "", 1]),
    "timestamp": st.sampled_from(["yesterday", -62135596801, 253402300800000, "", [], True]),
    "message_id": st.sampled_from(["", " ", "\x00", "m" * 256, 42]),
}


def bodies(user_ids: list):
    """A valid body with 0-3 fields broken (a known bad value, any JSON, or removed)."""
    valid = st.fixed_dictionaries(
        {"user_id": st.sampled_from(user_ids + [str(i) for i in user_ids])}
        | {name: valid_fields[name] for name in FIELDS[1:4]},
        optional={name: valid_fields[name] for name in FIELDS[4:]},
    )
    breakage = st.dictionaries(
        st.sampled_from(FIELDS),
        st.sampled_from(["remove"]) | st.one_of(*invalid_fields.values()) | json_values,
        max_size=3,
    )
    return st.tuples(valid, breakage).map(_broken)


def _broken(pair: tuple[dict, dict]) -> dict:
    body, breakage = dict(pair[0]), pair[1]
    for name, value in breakage.items():
        if value == "remove":
            body.pop(name, None)
        else:
            body[name] = value
    return body


@pytest.fixture(scope="module")
def world():
    """An app, two agents and an admin, each with a socket listening."""
    with fresh_app() as app:
        people = {
            "owner": create_user("fuzz-owner@example.com", PASSWORD, "USER"),
            "other": create_user("fuzz-other@example.com", PASSWORD, "USER"),
            "admin": create_user("fuzz-admin@example.com", PASSWORD, "ADMIN"),
        }
        sockets = {
            name: socketio.test_client(app, auth={"token": issue_tokens(user)["accessToken"]})
            for name, user in people.items()
        }
        app.world = {"people": people, "sockets": sockets, "tally": Counter()}
        yield app
        tally = app.world["tally"]
        record(
            "fuzz: n8n message webhook (hypothesis)",
            inputs=tally["inputs"],
            refused=tally["refused"],
            accepted=tally["accepted"] + tally["duplicate"],
            server_errors=tally["server_errors"],
            leaked_events=tally["leaked"],
        )
        for socket in sockets.values():
            socket.disconnect()


def stored() -> tuple[int, int]:
    return db.session.query(Message).count(), db.session.query(Event).count()


def deliveries(sockets) -> dict[str, list]:
    return {name: received(socket).get("new_message", []) for name, socket in sockets.items()}


def check_outcome(app, response, before, delivered) -> str:
    """Assert what a response implies about storage and emits; returns its kind."""
    people = app.world["people"]
    after = stored()
    if response.status_code == 201:
        message_id = response.get_json()["data"]["id"]
        owner = db.session.scalar(db.select(Message.user_id).where(Message.id == message_id))
        watchers = {"admin"} | {name for name, user in people.items() if user.id == owner}
        assert after == (before[0] + 1, before[1] + 1)
        for name, events in delivered.items():
            assert [e["id"] for e in events] == ([message_id] if name in watchers else []), name
        return "accepted"
    assert after == before, "a request that stored nothing new must leave the database alone"
    assert delivered == {name: [] for name in delivered}, "no emit without a new message"
    if response.status_code == 200:
        assert response.get_json()["duplicate"] is True
        return "duplicate"
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    assert response.status_code in (400, 404, 413)
    return "refused"


def post_and_check(app, client, **request) -> None:
    tally, sockets = app.world["tally"], app.world["sockets"]
    before = stored()
    response = client.post(URL, headers={"X-Webhook-Secret": WEBHOOK_SECRET}, **request)
    delivered = deliveries(sockets)
    tally["inputs"] += 1
    tally["server_errors"] += response.status_code >= 500
    assert response.status_code < 500, response.get_data(as_text=True)
    leaked = [e for e in delivered["other"] if e["userId"] != app.world["people"]["other"].id]
    tally["leaked"] += len(leaked)
    tally[check_outcome(app, response, before, delivered)] += 1
    assert all(socket.is_connected() for socket in sockets.values())


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_any_json_body(world, data):
    user_ids = [user.id for user in world.world["people"].values()]
    body = data.draw(bodies(user_ids) | json_values, label="body")
    post_and_check(world, world.test_client(), json=body)


@settings(max_examples=EXAMPLES // 4, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode),
    content_type=st.sampled_from(
        ["application/json", "text/plain", "application/x-www-form-urlencoded"]
    ),
)
def test_any_bytes(world, raw, content_type):
    post_and_check(world, world.test_client(), data=raw, content_type=content_type)
