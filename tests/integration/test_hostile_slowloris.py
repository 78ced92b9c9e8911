"""Slowloris and connection exhaustion, with raw sockets against a real server (both modes).

The server runs with 60 worker connections, 20 of them reserved for HTTP, and a
2-second deadline for request headers. Requests whose headers never finish are
closed at the deadline, or sooner when too many wait; websockets stop at 40;
/health answers throughout.
"""

import os
import socket
import time

import pytest
import requests
import websocket

from tests.integration import hostile
from tests.live_server import LiveServer
from tests.reliability_figures import record

MODE = "public paths" if os.environ.get("FAST_TRANSPORT") == "0" else "fast path"
WORKER_CONNECTIONS = 60
RESERVE = 20
HEADER_TIMEOUT = 2.0


@pytest.fixture(scope="module")
def server():
    live = LiveServer(
        env={
            "GUNICORN_CMD_ARGS": f"--worker-connections {WORKER_CONNECTIONS}",
            "HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
            "HTTP_RESERVE_CONNECTIONS": str(RESERVE),
        }
    ).start()
    yield live
    live.close()


def stalled_request(server) -> socket.socket:
    """A connection that sent a request line and one header, and stops there."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    return sock


def health_ms(server) -> float:
    started = time.monotonic()
    assert requests.get(server.url + "/health", timeout=HEADER_TIMEOUT / 2).status_code == 200
    return (time.monotonic() - started) * 1000


def test_headers_that_never_finish_are_cut_at_the_deadline(server):
    sock = stalled_request(server)
    started = time.monotonic()
    try:
        while time.monotonic() - started < HEADER_TIMEOUT * 3:
            try:
                sock.sendall(b"X")  # a byte now and then: slowloris keeps the request alive
            except OSError:
                break
            if hostile.closed_by_server_raw(sock, timeout=0.3):
                break
        seconds = time.monotonic() - started
    finally:
        sock.close()
    assert HEADER_TIMEOUT * 0.9 <= seconds <= HEADER_TIMEOUT + 1.5, seconds
    record(f"slowloris: headers never finished ({MODE})", seconds_to_cut=seconds, inputs=1)


def test_stalled_requests_cannot_take_the_last_connections(server):
    stalled = [stalled_request(server) for _ in range(WORKER_CONNECTIONS + 40)]
    try:
        # Within the header deadline, with more stalled requests than connections.
        latencies = [health_ms(server) for _ in range(10)]
        cut_early = sum(hostile.closed_by_server_raw(s, timeout=0.01) for s in stalled)
    finally:
        for sock in stalled:
            sock.close()
    assert cut_early >= len(stalled) - (WORKER_CONNECTIONS - RESERVE), cut_early
    record(
        f"slowloris: {len(stalled)} stalled requests, {WORKER_CONNECTIONS} connections ({MODE})",
        inputs=len(stalled),
        refused=cut_early,
        health_max_ms=max(latencies),
    )


def test_websockets_cannot_take_the_reserve(server):
    held = []
    refused = None
    try:
        for _ in range(WORKER_CONNECTIONS):
            try:
                ws = hostile.open_websocket(server)
            except websocket.WebSocketBadStatusException as exc:
                refused = exc.status_code
                break
            assert ws.recv().startswith("0{")
            held.append(ws)
        assert refused == 503, f"{len(held)} websockets held, none refused"
        assert len(held) == WORKER_CONNECTIONS - RESERVE
        assert health_ms(server) < 1000
    finally:
        for ws in held:
            ws.close()
    record(
        f"slowloris: websockets against the HTTP reserve ({MODE})",
        accepted=len(held),
        refused=1,
        inputs=len(held) + 1,
    )
