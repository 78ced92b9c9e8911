"""Hostile websocket protocol use, raw clients against a real server (both transport modes).

- Binary attachments: a Socket.IO packet may declare at most 4, and with its text
  part they must fit the 64 KiB message limit; otherwise the socket is cut.
- Control frames (pings) do not count toward the message budget.
- Two websocket upgrades racing for one polling session: one wins, the other is
  closed, the server raises nothing and the winner stays fully served (a logout
  still cuts it).
- Frames Socket.IO cannot handle, sent before authenticating, do not each write
  an error traceback.
"""

import json
import os
import threading
import time

import pytest
import requests
import websocket

from app.transport.attachments import UPLOAD_CHUNK_BYTES
from tests.clients import PyClient
from tests.integration import hostile
from tests.live_server import LiveServer
from tests.reliability_figures import record

MODE = "public paths" if os.environ.get("FAST_TRANSPORT") == "0" else "fast path"
LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def server():
    live = LiveServer().start()
    live.user_id = live.create_user("raw@example.com")
    live.create_user("racer@example.com")
    yield live
    live.close()


@pytest.fixture
def token(server):
    return server.login("raw@example.com")["accessToken"]


def still_connected(ws) -> bool:
    """Whether the socket still answers: Engine.IO answers an UPGRADE packet with a NOOP."""
    ws.settimeout(5)
    try:
        ws.send("5")
        while True:
            message = ws.recv()
            if message == "6":
                return True
            if message == "":
                return False
    except (websocket.WebSocketException, OSError):
        return False


def binary_event(attachments: int) -> str:
    placeholders = [{"_placeholder": True, "num": n} for n in range(attachments)]
    return f"45{attachments}-" + json.dumps(["upload_chunk", {"parts": placeholders}])


def test_a_chunk_of_the_upload_size_in_one_attachment_is_accepted(server, token):
    ws = hostile.connected_websocket(server, token)
    try:
        ws.send(binary_event(1))
        ws.send_binary(b"\x01" * UPLOAD_CHUNK_BYTES)
        assert still_connected(ws)
    finally:
        ws.close()


@pytest.mark.parametrize(
    "declared, sizes",
    [
        (1_000_000, []),  # the 900 MB case: refused on the declaration alone
        (5, []),  # more than 4
        (2, [40 * 1024, 40 * 1024]),  # 80 KiB in all
        (1, [LIMIT]),  # one attachment of the whole limit, plus the text part
    ],
    ids=["a million", "five", "two of 40 KiB", "one of 64 KiB"],
)
def test_attachments_past_the_limit_cut_the_socket(server, token, declared, sizes):
    ws = hostile.connected_websocket(server, token)
    try:
        ws.send(binary_event(min(declared, 4)).replace(f"45{min(declared, 4)}-", f"45{declared}-"))
        for size in sizes:
            try:
                ws.send_binary(b"\x02" * size)
            except (websocket.WebSocketException, OSError):
                break
        closed, _ = hostile.closed_by_server(ws, timeout=5)
        assert closed, "the socket was not cut"
    finally:
        ws.close()
    assert requests.get(server.url + "/health", timeout=5).status_code == 200
    record(f"hostile: binary attachments past the limit ({MODE})", inputs=1, refused=1)


def test_many_pings_inside_one_message_do_not_count_toward_its_size(server, token):
    """60 KiB of data with 1,000 pings (125 KB) between its fragments is one 60 KiB message."""
    ws = hostile.connected_websocket(server, token)
    try:
        half = "x" * (30 * 1024)
        ws.sock.sendall(hostile.masked_frame(('42["typing","' + half).encode(), fin=False))
        ws.sock.sendall(hostile.masked_frame(b"p" * 125, opcode=0x9) * 1000)
        ws.sock.sendall(hostile.masked_frame((half + '"]').encode(), opcode=0x0))
        pongs = 0
        ws.settimeout(5)
        while pongs < 1000:
            opcode, _ = ws.recv_data(control_frame=True)
            pongs += opcode == websocket.ABNF.OPCODE_PONG
        assert still_connected(ws)
    finally:
        ws.close()


def test_a_client_pinging_between_messages_stays_connected(server, token):
    ws = hostile.connected_websocket(server, token)
    try:
        for _ in range(20):
            ws.sock.sendall(hostile.masked_frame(b"p" * 125, opcode=0x9) * 50)
            ws.send('42["typing",{"conversationId":0,"isTyping":true}]')
        assert still_connected(ws)
    finally:
        ws.close()


def polling_session_with_token(server, token) -> str:
    sid = hostile.polling_sid(hostile.polling_session(server))
    url = f"{server.url}{hostile.POLL_PATH}&sid={sid}"
    assert requests.post(url, data="40" + json.dumps({"token": token}), timeout=10).ok
    assert requests.get(url, timeout=10).text.startswith("40{")
    return sid


def test_two_upgrades_racing_for_one_session(server):
    tokens = server.login("racer@example.com")
    sid = polling_session_with_token(server, tokens["accessToken"])
    url = hostile.ws_url(server) + f"&sid={sid}"
    answers: dict = {}

    def upgrade(name):
        ws = websocket.create_connection(url, timeout=10, suppress_origin=True)
        answers[name] = ws
        try:
            ws.send("2probe")
            ws.settimeout(5)
            answers[name + ":probe"] = ws.recv()
        except (websocket.WebSocketException, OSError) as exc:
            answers[name + ":probe"] = repr(exc)

    racers = [threading.Thread(target=upgrade, args=(n,)) for n in ("a", "b")]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    winners = [n for n in ("a", "b") if answers[n + ":probe"] == "3probe"]
    assert len(winners) == 1, answers
    winner = answers[winners[0]]
    loser = answers["b" if winners[0] == "a" else "a"]
    try:
        assert hostile.closed_by_server(loser, timeout=5)[0]
        winner.send("5")  # UPGRADE: the session now runs on the winner
        assert still_connected(winner)  # (a second UPGRADE is answered like the first)
        # The loser's end did not unregister the winner: a logout still cuts it.
        requests.post(
            server.url + "/api/auth/logout",
            headers={"Authorization": f"Bearer {tokens['accessToken']}"},
            timeout=10,
        )
        assert hostile.closed_by_server(winner, timeout=10)[0], "the logout did not cut it"
    finally:
        winner.close()
        loser.close()
    assert "AttributeError" not in server.log()


def error_records(server) -> int:
    """Error records of Engine.IO and Socket.IO in the log (the root handler's lines)."""
    log = server.log()
    return log.count("ERROR:engineio.server:") + log.count("ERROR:socketio.server:")


def test_pre_auth_garbage_does_not_write_a_traceback_per_frame(server):
    before = error_records(server)
    sent = 0
    for _ in range(10):
        ws = hostile.open_websocket(server)
        try:
            assert ws.recv().startswith("0{")
            for _ in range(10):
                ws.send("4garbage")  # an Engine.IO message that is no Socket.IO packet
                sent += 1
            assert still_connected(ws)
        finally:
            ws.close()
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and error_records(server) == before:
        time.sleep(0.05)
    tracebacks = error_records(server) - before
    assert tracebacks <= 5, tracebacks
    record(f"hostile: pre-auth garbage frames ({MODE})", inputs=sent, tracebacks_logged=tracebacks)


def test_a_socket_io_client_is_served_after_all_this(server):
    client = PyClient(server.url, server.login("raw@example.com")["accessToken"])
    try:
        assert client.call("join_conversation", 0) == {"error": "Invalid conversationId"}
    finally:
        client.close()
