"""At most 20 sockets per user on a real server: the 21st is refused at connect.

The limit counts live sockets of every transport, frees a slot when one
closes, and leaves other users alone.
"""

import pytest
import requests
import socketio

from tests.clients import JsClient, PyClient
from tests.live_server import LiveServer
from tests.reliability_figures import record

LIMIT = 20


@pytest.fixture(scope="module")
def server():
    live = LiveServer().start()
    live.create_user("many@example.com")
    live.create_user("other@example.com")
    yield live
    live.close()


def test_the_21st_socket_is_refused_and_a_closed_one_frees_a_slot(server):
    token = server.login("many@example.com")["accessToken"]
    sockets = [PyClient(server.url, token) for _ in range(LIMIT - 2)]
    # Two over long-polling: the limit is per socket, whatever the transport.
    for _ in range(2):
        polling = PyClient(server.url, token, connect=False)
        polling.sio.connect(server.url, auth=polling.auth, transports=["polling"], wait_timeout=10)
        sockets.append(polling)
    try:
        js = JsClient(server.url, token)
        try:
            refused = js.wait_for(lambda line: line["type"] in ("connect", "connect_error"))
            assert refused == {"type": "connect_error", "message": "Too many connections"}
        finally:
            js.close()
        with pytest.raises(socketio.exceptions.ConnectionError):
            PyClient(server.url, token)

        other = PyClient(server.url, server.login("other@example.com")["accessToken"])
        assert other.sio.connected
        other.close()

        sockets.pop().close()
        replacement = PyClient(server.url, token)
        assert replacement.sio.connected
        sockets.append(replacement)
        assert all(client.sio.connected for client in sockets)
        record("hostile: sockets per user", inputs=LIMIT + 2, accepted=LIMIT, refused=2)
    finally:
        for client in sockets:
            client.close()


def test_refused_sockets_leave_no_trace_in_presence(server):
    token = server.login("many@example.com")["accessToken"]
    sockets = [PyClient(server.url, token) for _ in range(LIMIT)]
    try:
        for _ in range(5):
            with pytest.raises(socketio.exceptions.ConnectionError):
                PyClient(server.url, token)
    finally:
        for client in sockets:
            client.close()
    # Every refused attempt was undone: after the 20 close, the user is offline.
    admin_email = "presence-admin@example.com"
    server.create_user(admin_email, role="ADMIN")
    admin = server.login(admin_email)["accessToken"]
    user_id = server.login("many@example.com")["user"]["id"]
    online = requests.get(
        f"{server.url}/api/users/{user_id}/online",
        headers={"Authorization": f"Bearer {admin}"},
        timeout=10,
    ).json()["online"]
    assert online is False
