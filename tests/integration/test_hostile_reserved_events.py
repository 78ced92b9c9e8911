"""Reserved event names sent by a client, raw websockets against a real server.

`connect`, `disconnect`, `connect_error` and every server -> client event name
are the server's own: a client sending one is answered like one sending an
unknown event (no ack, no error) and nothing changes. Before this, a client's
`42["disconnect"]` ran the disconnect handler while the socket stayed in its
rooms: it escaped logout, deactivation and presence.
"""

import json
import uuid

import pytest
import requests

from app import create_app
from app.realtime.lifecycle import LIFECYCLE_EVENTS
from app.schemas.calls import CALL_SERVER_EVENTS
from app.schemas.socket import CLIENT_EVENTS, SERVER_EVENTS
from tests.integration import hostile
from tests.live_server import LiveServer


def reserved_names() -> list[str]:
    """The lifecycle names and every server -> client name that is not also a client
    event (`call_signal` goes both ways)."""
    create_app({"CONFIG": "testing"})  # registers every client event
    server_names = {event.name for event in (*SERVER_EVENTS, *CALL_SERVER_EVENTS)}
    return sorted(LIFECYCLE_EVENTS | (server_names - set(CLIENT_EVENTS)))


RESERVED = reserved_names()
CUT_WITHIN_SECONDS = 5  # the contract's "a few seconds"; the sweep runs every second


@pytest.fixture(scope="module")
def server():
    live = LiveServer().start()
    live.admin_email = "watcher@example.com"
    live.create_user(live.admin_email, role="ADMIN")
    live.agent_email = "agent@example.com"
    live.agent_id = live.create_user(live.agent_email)
    yield live
    live.close()


def new_user(server, role: str = "USER") -> tuple[str, int]:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    return email, server.create_user(email, role=role)


def online(server, user_id: int) -> bool:
    admin = server.login(server.admin_email)["accessToken"]
    response = server.get(f"/api/users/{user_id}/online", admin)
    assert response.status_code == 200, response.text
    return response.json()["online"]


def next_packet(ws) -> str:
    """The next Socket.IO packet, answering Engine.IO pings on the way."""
    while True:
        message = ws.recv()
        if message == "2":
            ws.send("3")
            continue
        return message


def answers_until_a_known_event(ws, ack_id: int) -> list[str]:
    """Send a known event (refused: conversation 0) with an ack id; return every packet
    that comes back up to and including its ack.

    A socket's events are handled in order, so anything owed to what was sent
    before (an ack, an error event) would come first.
    """
    ws.send(f"42{ack_id}" + json.dumps(["join_conversation", 0]))
    packets = [next_packet(ws)]
    while not packets[-1].startswith("43"):
        packets.append(next_packet(ws))
    return packets


def nothing_answered_before_a_known_event(ws) -> bool:
    """Whether only the known event's own refusal (error event, then ack) came back."""
    return answers_until_a_known_event(ws, 99) == [
        '42["error",{"message":"Invalid conversationId"}]',
        '4399[{"error":"Invalid conversationId"}]',
    ]


@pytest.mark.parametrize("name", RESERVED)
def test_a_reserved_name_is_answered_like_an_unknown_event(server, name):
    ws = hostile.connected_websocket(server, server.login(server.agent_email)["accessToken"])
    try:
        ws.send("4217" + json.dumps([name, {"token": "x", "lastEventId": 0}]))
        ws.send("42" + json.dumps([name]))
        assert nothing_answered_before_a_known_event(ws)
        assert online(server, server.agent_id) is True
    finally:
        ws.close()


def test_a_fake_disconnect_does_not_escape_logout(server):
    email, user_id = new_user(server)
    tokens = server.login(email)
    ws = hostile.connected_websocket(server, tokens["accessToken"])
    try:
        ws.send('42["disconnect"]')
        ws.send('42["disconnect","client namespace disconnect"]')
        assert nothing_answered_before_a_known_event(ws)
        assert online(server, user_id) is True
        response = requests.post(
            server.url + "/api/auth/logout",
            headers={"Authorization": f"Bearer {tokens['accessToken']}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        assert hostile.closed_by_server(ws, timeout=CUT_WITHIN_SECONDS)[0]
    finally:
        ws.close()
    assert online(server, user_id) is False


def test_a_deactivated_admin_who_faked_a_disconnect_is_cut(server):
    email, user_id = new_user(server, role="ADMIN")
    ws = hostile.connected_websocket(server, server.login(email)["accessToken"])
    try:
        ws.send('42["disconnect"]')
        ws.send('42["connect"]')
        assert nothing_answered_before_a_known_event(ws)
        server.flask("users", "deactivate", email)
        assert hostile.closed_by_server(ws, timeout=CUT_WITHIN_SECONDS)[0]
    finally:
        ws.close()
    assert online(server, user_id) is False


def test_a_fake_disconnect_keeps_the_socket_in_its_rooms(server):
    email, user_id = new_user(server)
    ws = hostile.connected_websocket(server, server.login(email)["accessToken"])
    try:
        ws.send('42["disconnect"]')
        assert nothing_answered_before_a_known_event(ws)
        body = {
            "user_id": user_id,
            "customer_name": "Zeynep",
            "customer_phone": "+905550001111",
            "message_content": "still here?",
        }
        assert server.post_webhook(body).status_code == 201
        ws.settimeout(10)
        packet = next_packet(ws)
        name, data = json.loads(packet[2:])
        assert (name, data["messageContent"]) == ("new_message", "still here?")
    finally:
        ws.close()
