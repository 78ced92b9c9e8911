"""The fast path's parts are in place in fast mode and absent on the public paths,
seen from outside: the server's start-up line, and memory per idle websocket.

scripts/test.sh runs this file in both modes (FAST_TRANSPORT=0 in its extra pass).
engine_socket and compact_sockets each lower the memory an idle websocket costs
(docs/performance.md); with either left out the figure rises again.
"""

import os
import time

import pytest

from tests.integration import hostile
from tests.live_server import LiveServer

PUBLIC = os.environ.get("FAST_TRANSPORT") == "0"
SOCKETS = 300
# Measured on the project's machine (Engine.IO websockets, no Socket.IO connect):
# public paths about 50 KB, fast path about 24 KB, engine_socket alone about 31 KB,
# compact_sockets alone about 43 KB.
FAST_AT_MOST_KB = 36
PUBLIC_AT_LEAST_KB = 40


def kb_per_idle_websocket(server) -> float:
    """Growth of the worker's resident memory per Engine.IO websocket held open."""
    warm = [hostile.open_websocket(server) for _ in range(30)]
    for ws in warm:
        ws.recv()
    before = hostile.worker_rss_kib(server)
    held = []
    try:
        for _ in range(SOCKETS):
            ws = hostile.open_websocket(server)
            assert ws.recv().startswith("0{")
            held.append(ws)
        time.sleep(0.3)
        return (hostile.worker_rss_kib(server) - before) / SOCKETS
    finally:
        for ws in held + warm:
            ws.close()


def serve(parts: str | None = None):
    env = {"FAST_TRANSPORT": parts} if parts else {}
    return LiveServer(env=env).start()


@pytest.fixture(scope="module")
def server():
    live = serve()
    yield live
    live.close()


def test_the_start_up_line_names_the_mode_and_its_parts(server):
    log = server.log()
    if PUBLIC:
        assert "transport: public paths only: FAST_TRANSPORT=0" in log
        assert "fast path on" not in log
    else:
        assert (
            "transport: fast path on (verified library versions): "
            "engine_socket, compact_sockets, plain_headers"
        ) in log


def test_memory_per_idle_websocket_shows_the_mode(server):
    kb = kb_per_idle_websocket(server)
    if PUBLIC:
        assert kb >= PUBLIC_AT_LEAST_KB, f"{kb:.1f} KB per socket: a fast part is active"
    else:
        assert kb <= FAST_AT_MOST_KB, f"{kb:.1f} KB per socket: a fast part is missing"


@pytest.mark.skipif(PUBLIC, reason="measures the fast path's parts")
@pytest.mark.parametrize("left_out", ["engine_socket", "compact_sockets"])
def test_each_memory_part_earns_its_place(server, left_out):
    full = kb_per_idle_websocket(server)
    others = ",".join(
        p for p in ("engine_socket", "compact_sockets", "plain_headers") if p != left_out
    )
    without = serve(others)
    try:
        assert f"fast path on (verified library versions): {others.replace(',', ', ')}" in (
            without.log()
        )
        partial = kb_per_idle_websocket(without)
    finally:
        without.close()
    assert partial >= full * 1.1, f"without {left_out}: {partial:.1f} KB against {full:.1f} KB"
