"""EngineSocket on its own: timer pings, direct websocket writes, order kept past a full buffer.

Runs gevent's loop in the test process (no monkey-patching needed: only gevent's
own sockets and timers are used).
"""

import gevent
import gevent.socket
import pytest
from engineio import Server, packet

from app.transport.connection import Connection
from app.transport.fast.engine_socket import EngineSocket, websocket_frame
from app.transport.sessions import CheckedWebSocket

BACKLOG = 4 * 1024 * 1024


def engine_socket(ping_interval: float = 25) -> EngineSocket:
    server = Server(async_mode="gevent", ping_interval=ping_interval)
    sock = EngineSocket(server, "sid-1")
    sock.adopted(BACKLOG, send_timeout=5)
    return sock


class _WebSocket:
    """What EngineSocket uses of gevent-websocket's WebSocket."""

    closed = False


def checked(connection) -> CheckedWebSocket:
    """gevent-websocket's WebSocket as Engine.IO gets it, on a guarded connection."""
    return CheckedWebSocket(_WebSocket(), Connection(connection, send_timeout=5), None)


@pytest.fixture
def pair():
    """An EngineSocket, the server end of a socket pair to attach, and the client end."""
    server_end, client_end = gevent.socket.socketpair()
    sock = engine_socket()
    sock.connected = sock.upgraded = True
    yield sock, checked(server_end), client_end
    server_end.close()
    client_end.close()


@pytest.fixture
def attached(pair):
    sock, websocket, client = pair
    sock._attach(websocket)
    return sock, client


def read_exactly(connection, length: int) -> bytes:
    data = b""
    while len(data) < length:
        data += connection.recv(length - len(data))
    return data


def test_a_ping_goes_out_one_interval_after_the_last_pong_and_none_after_close():
    sock = engine_socket(ping_interval=0.05)
    sock.schedule_ping()
    gevent.sleep(0.15)
    assert [p.packet_type for p in sock.queue.queue] == [packet.PING]
    assert sock.last_ping is not None
    sock.last_ping = 1.0  # the pong arrived: the next wait starts
    sock.schedule_ping()
    assert sock.ping_timer is not None
    sock.close(wait=False, abort=True)
    assert sock.ping_timer is None  # stopped, not left to fire


def test_queued_packets_go_first_then_sends_are_frames_on_the_socket(pair):
    sock, websocket, client = pair
    sock.send(packet.Packet(packet.MESSAGE, data='2["queued"]'))  # before the upgrade ends
    sock._attach(websocket)
    sock.send(packet.Packet(packet.MESSAGE, data='2["later"]'))
    assert sock.queue is None  # polling's queue is gone once attached
    expected = websocket_frame('42["queued"]') + websocket_frame('42["later"]')
    assert read_exactly(client, len(expected)) == expected


def test_one_packet_is_framed_once_for_every_socket(attached):
    sock, client = attached
    shared = packet.Packet(packet.MESSAGE, data='2["fan-out"]')
    sock.send(shared)
    frame = shared.ws_frame
    sock.send(shared)
    assert shared.ws_frame is frame
    assert read_exactly(client, 2 * len(frame)) == frame * 2


def test_what_the_kernel_does_not_take_waits_and_arrives_in_order(attached):
    sock, client = attached
    big = "x" * 60_000
    frames = [websocket_frame(f"4{n:03d}{big}") for n in range(40)]  # ~2.4 MB
    for n in range(40):
        sock.send(packet.Packet(packet.MESSAGE, data=f"{n:03d}{big}"))
    assert sock.unsent and sock.flusher is not None  # the client is not reading yet
    assert read_exactly(client, sum(map(len, frames))) == b"".join(frames)
    gevent.sleep(0.05)
    assert not sock.unsent and sock.flusher is None and not sock.write_failed
