"""Hostile clients against a real server: foreign origins, oversized frames and bodies, garbage.

Each refusal leaves the server healthy and its other clients served.
"""

import json
import time
import uuid

import pytest
import requests
import socketio
import websocket
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.clients import PyClient
from tests.integration import hostile
from tests.live_server import WEBHOOK_SECRET, LiveServer
from tests.reliability_figures import record

PANEL = "http://panel.example.com"
FOREIGN = "http://evil.example.com"
LIMIT = 64 * 1024
# The server sends close 1009 "Message too big"; when it closes with the payload
# still unread, TCP may reset the connection first and the client sees no code.
REFUSED_CODES = (1009, None)


@pytest.fixture(scope="module")
def server():
    live = LiveServer(env={"FRONTEND_URL": PANEL}).start()
    live.user_id = live.create_user("hostile@example.com")
    live.admin_id = live.create_user("watcher@example.com", role="ADMIN")
    yield live
    live.close()


@pytest.fixture
def token(server):
    return server.login("hostile@example.com")["accessToken"]


@pytest.fixture
def neighbour(server):
    """An admin's socket that must keep receiving whatever the hostile client does."""
    client = PyClient(server.url, server.login("watcher@example.com")["accessToken"])
    yield client
    client.close()


def assert_still_served(server, neighbour) -> None:
    """The server is healthy and a new message still reaches the neighbour."""
    assert requests.get(server.url + "/health", timeout=10).status_code == 200
    marker = f"marker {uuid.uuid4().hex[:8]}"
    body = {
        "user_id": server.user_id,
        "customer_name": "Ali",
        "customer_phone": "+905550002222",
        "message_content": marker,
    }
    assert server.post_webhook(body).status_code == 201
    deadline = time.monotonic() + 10
    while marker not in [m["messageContent"] for m in neighbour.of("new_message")]:
        assert time.monotonic() < deadline, "the neighbour stopped receiving"
        neighbour.wait_for("new_message", len(neighbour.of("new_message")) + 1)
    assert neighbour.sio.connected


@pytest.mark.parametrize(
    "origin, allowed",
    [(FOREIGN, False), ("null", False), (PANEL, True), (None, True), ("same", True)],
)
def test_polling_handshake_obeys_the_origin_rule(server, origin, allowed):
    response = hostile.polling_session(server, server.url if origin == "same" else origin)
    assert (response.status_code == 200) is allowed, response.text
    if not allowed:
        assert response.status_code == 400


@pytest.mark.parametrize("origin, allowed", [(FOREIGN, False), (PANEL, True), ("same", True)])
def test_websocket_handshake_obeys_the_origin_rule(server, origin, allowed):
    # gevent-websocket answers 101 before Engine.IO sees the origin: a refusal is a
    # socket closed without Engine.IO's open packet.
    ws = hostile.open_websocket(server, origin=server.url if origin == "same" else origin)
    ws.settimeout(5)
    try:
        first = ws.recv()
    except (websocket.WebSocketConnectionClosedException, ConnectionError):
        first = ""
    finally:
        ws.close()
    assert first.startswith("0{") is allowed, first


@pytest.mark.parametrize(
    "forwarded",
    [
        {"X-Forwarded-Host": "evil.example.com"},
        {"X-Forwarded-Host": "evil.example.com", "X-Forwarded-Proto": "http"},
        {"X-Forwarded-Host": "evil.example.com, 127.0.0.1", "X-Forwarded-Proto": "http, https"},
    ],
)
def test_forwarded_headers_do_not_make_a_foreign_origin_ours_without_a_proxy(server, forwarded):
    """TRUSTED_PROXY_HOPS is 0 here: X-Forwarded-* are the client's own words."""
    headers = {"Origin": FOREIGN, **forwarded}
    response = requests.get(server.url + hostile.POLL_PATH, headers=headers, timeout=10)
    assert response.status_code == 400, response.text


def test_python_client_with_a_foreign_origin_cannot_connect(server, token, neighbour):
    client = socketio.Client(reconnection=False)  # polling first, as browsers do
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(
            server.url, headers={"Origin": FOREIGN}, auth={"token": token}, wait_timeout=5
        )
    assert_still_served(server, neighbour)


def test_frame_announcing_100_mb_is_refused_before_its_payload_is_read(server, token, neighbour):
    ws = hostile.connected_websocket(server, token)
    try:
        ws.sock.sendall(hostile.frame_header(100 * 1024 * 1024) + b"4" * 1024)
        started = time.monotonic()
        closed, code = hostile.closed_by_server(ws, timeout=5)
        assert closed and code in REFUSED_CODES, "not refused on the header alone"
        record(
            "hostile: frame announcing 100 MB, 1 KiB sent",
            refused=1,
            inputs=1,
            seconds_to_close=time.monotonic() - started,
        )
    finally:
        ws.close()
    assert_still_served(server, neighbour)


def test_frame_one_byte_over_64_kib_closes_the_socket(server, token, neighbour):
    ws = hostile.connected_websocket(server, token)
    try:
        payload = '42["typing",' + json.dumps("x" * LIMIT) + "]"
        ws.send(payload[: LIMIT + 1])
        closed, code = hostile.closed_by_server(ws)
        assert closed and code in REFUSED_CODES
    finally:
        ws.close()
    assert_still_served(server, neighbour)


def test_fragments_adding_up_past_64_kib_close_the_socket(server, token, neighbour):
    ws = hostile.connected_websocket(server, token)
    try:
        piece = "x" * (30 * 1024)
        ws.send_frame(
            websocket.ABNF.create_frame('42["typing","' + piece, websocket.ABNF.OPCODE_TEXT, 0)
        )
        ws.send_frame(websocket.ABNF.create_frame(piece, websocket.ABNF.OPCODE_CONT, 0))
        ws.send_frame(websocket.ABNF.create_frame(piece + '"]', websocket.ABNF.OPCODE_CONT, 1))
        closed, code = hostile.closed_by_server(ws)
        assert closed and code in REFUSED_CODES
    finally:
        ws.close()
    assert_still_served(server, neighbour)


def test_a_large_frame_under_the_limit_is_answered_and_the_socket_stays(server, token):
    ws = hostile.connected_websocket(server, token)
    try:
        ws.send('421["mark_read",' + json.dumps({"messageId": "m" * 60_000}) + "]")
        assert ws.recv() == '431[{"error":"Message not found"}]' or ws.recv().startswith("431")
        ws.send('422["join_conversation",0]')
        replies = [ws.recv() for _ in range(2)]
        assert '432[{"error":"Invalid conversationId"}]' in replies
    finally:
        ws.close()


def test_polling_post_over_64_kib_is_refused_and_ends_the_session(server, token):
    sid = hostile.polling_sid(hostile.polling_session(server))
    url = f"{server.url}{hostile.POLL_PATH}&sid={sid}"
    assert requests.post(url, data="40" + json.dumps({"token": token}), timeout=10).ok
    too_big = requests.post(url, data="4" + "x" * LIMIT, timeout=10)
    assert too_big.status_code == 413
    assert requests.get(url, timeout=10).status_code == 400  # the session is gone


@pytest.mark.parametrize("path", ["/api/webhooks/n8n/message", "/api/auth/login"])
def test_rest_body_over_64_kib_is_413_and_nothing_is_stored(server, path, token):
    before = server.get("/api/messages/stats", token).json()["total"]
    body = json.dumps({"user_id": server.user_id, "message_content": "x" * LIMIT})
    response = requests.post(
        server.url + path,
        data=body,
        headers={"Content-Type": "application/json", "X-Webhook-Secret": WEBHOOK_SECRET},
        timeout=10,
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert server.get("/api/messages/stats", token).json()["total"] == before


garbage_frames = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200),
    st.builds(
        lambda kind, body: kind + body,
        st.sampled_from(["4", "42", "421", "43", "3", "6", "5", "1", "40", "41"]),
        st.text(max_size=80),
    ),
    st.builds(
        lambda args: "42" + json.dumps(args),
        st.lists(
            st.none()
            | st.integers()
            | st.text(max_size=10)
            | st.dictionaries(st.text(max_size=5), st.integers()),
            max_size=4,
        ),
    ),
)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(frames=st.lists(garbage_frames, min_size=1, max_size=5))
def test_garbage_frames_never_hurt_the_server(server, frames):
    if not hasattr(server, "garbage_token"):
        server.garbage_token = server.login("hostile@example.com")["accessToken"]
        server.watcher_token = server.login("watcher@example.com")["accessToken"]
    ws = hostile.connected_websocket(server, server.garbage_token)
    try:
        for frame in frames:
            try:
                ws.send_binary(frame) if isinstance(frame, bytes) else ws.send(frame)
            except (websocket.WebSocketConnectionClosedException, BrokenPipeError, ConnectionError):
                break  # the server may close a socket that breaks the protocol
    finally:
        ws.close()
    server.garbage_sent = getattr(server, "garbage_sent", 0) + len(frames)
    assert requests.get(server.url + "/health", timeout=10).status_code == 200
    assert released(server), "the server kept a socket the client had closed"


def released(server, timeout: float = 5) -> bool:
    """Whether the hostile user's sockets are all gone (presence says offline) in time."""
    admin = server.watcher_token
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.get(f"/api/users/{server.user_id}/online", admin).json()["online"]:
            return True
        time.sleep(0.05)
    return False


def test_after_the_garbage_the_server_still_serves_and_no_request_crashed(server, neighbour):
    assert_still_served(server, neighbour)
    log = server.log()
    # A request that escaped every handler: gevent's "failed with", Flask's "Exception on".
    crashed = log.count(" failed with ") + log.count("Exception on ")
    assert crashed == 0, log[-3000:]
    record(
        "hostile: garbage Engine.IO/Socket.IO frames (hypothesis)",
        inputs=getattr(server, "garbage_sent", 0),
        server_errors=crashed,
        connections_closed_for_protocol_errors=log.count("Unknown receive error")
        + log.count("not an Engine.IO packet"),
    )
