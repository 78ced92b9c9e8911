"""A webhook reaches the right sockets of a real server, once each; reconnects lose nothing."""

import pytest

from tests.clients import JsClient, PyClient
from tests.live_server import LiveServer


@pytest.fixture(scope="module")
def server():
    live = LiveServer().start()
    live.owner_id = live.create_user("owner@example.com")
    live.other_id = live.create_user("other@example.com")
    live.admin_id = live.create_user("admin@example.com", role="ADMIN")
    live.admin2_id = live.create_user("admin2@example.com", role="ADMIN")
    yield live
    live.close()


def token(server, email):
    return server.login(email)["accessToken"]


def body(server, n, **extra):
    return {
        "user_id": server.owner_id,
        "customer_name": "Ayşe",
        "customer_phone": "+905550000001",
        "message_content": f"message {n}",
        **extra,
    }


def test_webhook_reaches_owner_and_every_admin_once_and_nobody_else(server):
    owner = PyClient(server.url, token(server, "owner@example.com"))
    other = PyClient(server.url, token(server, "other@example.com"))
    admin = PyClient(server.url, token(server, "admin@example.com"))
    js_admin = JsClient(server.url, token(server, "admin2@example.com"))
    js_admin.wait_for(lambda line: line["type"] == "connect")
    try:
        response = server.post_webhook(body(server, 1, message_id="wamid.delivery-1"))
        assert response.status_code == 201
        message_id = response.json()["data"]["id"]

        for client in (owner, admin):
            (payload,) = client.wait_for("new_message")
            assert payload["id"] == message_id
            assert payload["messageContent"] == "message 1"
            assert payload["timestamp"].endswith("Z")
            assert isinstance(payload["eventId"], int)
        assert js_admin.wait_event("new_message")["id"] == message_id

        # A marker sent afterwards to every socket proves nothing else is in flight.
        server.post_webhook({**body(server, 2), "user_id": server.other_id})
        other.wait_for("new_message")
        assert [m["messageContent"] for m in other.of("new_message")] == ["message 2"]
        admin.wait_for("new_message", 2)
        assert len(owner.of("new_message")) == 1
        assert js_admin.wait_event("new_message")["messageContent"] == "message 2"
    finally:
        for client in (owner, other, admin, js_admin):
            client.close()


def test_admin_who_owns_the_conversation_receives_it_once(server):
    admin = PyClient(server.url, token(server, "admin@example.com"))
    try:
        server.post_webhook({**body(server, 3), "user_id": server.admin_id})
        admin.wait_for("new_message")
        server.post_webhook(body(server, 4))  # marker: owned by someone else
        admin.wait_for("new_message", 2)
        contents = [m["messageContent"] for m in admin.of("new_message")]
        assert contents == ["message 3", "message 4"]
    finally:
        admin.close()


@pytest.mark.parametrize("client_class", [PyClient, "js"])
def test_reconnect_with_last_event_id_receives_exactly_what_was_missed(server, client_class):
    owner_token = token(server, "owner@example.com")
    first = PyClient(server.url, owner_token)
    server.post_webhook(body(server, "before"))
    last_seen = first.wait_for("new_message")[0]["eventId"]
    first.close()

    missed = [
        server.post_webhook(body(server, f"missed {n}")).json()["data"]["id"] for n in range(3)
    ]
    server.post_webhook({**body(server, "not mine"), "user_id": server.other_id})

    # The replay may first re-send events committed just before last_seen (the
    # margin for late publishes, docs/deploy.md); after last_seen come exactly the
    # missed ones, in order.
    if client_class == "js":
        js = JsClient(server.url, owner_token, last_event_id=last_seen)
        try:
            replayed = []
            while len([m for m in replayed if m["eventId"] > last_seen]) < len(missed):
                replayed.append(js.wait_event("new_message"))
        finally:
            js.close()
    else:
        again = PyClient(server.url, owner_token, last_event_id=last_seen)
        try:
            again.wait_after("new_message", last_seen, len(missed))
            replayed = again.of("new_message")
        finally:
            again.close()
    assert [m["id"] for m in after_cursor(replayed, last_seen)] == missed
    ids = [m["eventId"] for m in replayed]
    assert ids == sorted(ids) and last_seen not in ids


def after_cursor(events: list[dict], last_seen: int) -> list[dict]:
    return [m for m in events if m["eventId"] > last_seen]
