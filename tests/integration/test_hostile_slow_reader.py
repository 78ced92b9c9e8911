"""A socket that never reads cannot grow the server's memory without bound.

A raw websocket client with a 4 KiB receive buffer connects and stops reading
while ~36 MB of messages are emitted to it. Engine.IO
alone would queue all of it; the server cuts the socket once its backlog passes
SOCKET_MAX_BACKLOG_BYTES, or once one write stays blocked for
SOCKET_SEND_TIMEOUT_SECONDS. The worker's resident memory is sampled throughout;
a control run with both limits lifted shows the growth they prevent.
"""

import json
import threading
import time
import uuid

import pytest
import requests

from tests.clients import PyClient
from tests.integration import hostile
from tests.live_server import LiveServer
from tests.reliability_figures import record

MESSAGES = 600
CONTENT = "x" * 59_990  # with its number, just under the 60,000-character limit
EMITTED_MB = MESSAGES * len(CONTENT) / 1e6
BACKLOG_LIMIT = 4 * 1024 * 1024  # the default
NO_LIMIT = {"SOCKET_MAX_BACKLOG_BYTES": str(2**40), "SOCKET_SEND_TIMEOUT_SECONDS": "3600"}


class PeakMemory:
    """Samples the worker's RSS in a thread; .peak_growth_mb() after stop()."""

    def __init__(self, server):
        self.server = server
        self.baseline = hostile.worker_rss_kib(server)
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            try:
                self.peak = max(self.peak, hostile.worker_rss_kib(self.server))
            except (OSError, StopIteration, IndexError):
                return  # the worker is gone (a failing test stopped the server)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return (self.peak - self.baseline) / 1024


def start_server(env: dict) -> LiveServer:
    live = LiveServer(env=env).start()
    live.slow_email = f"slow-{uuid.uuid4().hex[:6]}@example.com"
    live.slow_id = live.create_user(live.slow_email)
    live.create_user("admin@example.com", role="ADMIN")
    live.admin_token = live.login("admin@example.com")["accessToken"]
    return live


@pytest.fixture
def server(request):
    live = start_server(request.param)
    yield live
    live.close()


def online(server) -> bool:
    return server.get(f"/api/users/{server.slow_id}/online", server.admin_token).json()["online"]


def flood_body(user_id: int, n) -> dict:
    return {
        "user_id": user_id,
        "customer_name": "Flood",
        "customer_phone": "+905550003333",
        "message_content": f"{n} {CONTENT}",
    }


def flood(server, count: int = MESSAGES) -> None:
    for n in range(count):
        assert server.post_webhook(flood_body(server.slow_id, n)).status_code == 201


def wait_offline(server, timeout: float) -> float | None:
    """Seconds until the slow user is offline, or None if still online after timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if not online(server):
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def slow_reader(server):
    token = server.login(server.slow_email)["accessToken"]
    return hostile.connected_websocket(server, token, receive_buffer=4096)


@pytest.mark.parametrize(
    "server", [{"SOCKET_MAX_BACKLOG_BYTES": str(BACKLOG_LIMIT)}], indirect=True
)
def test_backlog_limit_cuts_a_reader_that_stopped_and_memory_stays_bounded(server):
    reader = slow_reader(server)
    # Another user, not addressed by the flood: the server must go on serving them.
    bystander_email = f"bystander-{uuid.uuid4().hex[:6]}@example.com"
    bystander_id = server.create_user(bystander_email)
    bystander = PyClient(server.url, server.login(bystander_email)["accessToken"])
    try:
        memory = PeakMemory(server)
        flood(server)
        growth = memory.stop()
        assert wait_offline(server, timeout=5) is not None, "the slow reader was never cut"
        assert growth < EMITTED_MB / 3, f"worker grew {growth:.1f} MB"
        server.post_webhook(flood_body(bystander_id, "x") | {"message_content": "hi"})
        assert bystander.wait_for("new_message")[0]["messageContent"] == "hi"
        record(
            "hostile: reader that never reads, backlog limit 4 MiB",
            emitted_mb=EMITTED_MB,
            peak_rss_growth_mb=growth,
            disconnected=1,
        )
    finally:
        bystander.close()
        reader.shutdown()


@pytest.mark.parametrize(
    "server", [{"SOCKET_MAX_BACKLOG_BYTES": str(BACKLOG_LIMIT)}], indirect=True
)
def test_backlog_limit_cuts_a_polling_client_that_stopped_polling(server):
    """A long-polling client queues on the server until it polls: the same limit holds."""
    token = server.login(server.slow_email)["accessToken"]
    sid = hostile.polling_sid(hostile.polling_session(server))
    session = f"{server.url}{hostile.POLL_PATH}&sid={sid}"
    connect = requests.post(session, data="40" + json.dumps({"token": token}), timeout=10)
    assert connect.status_code == 200, connect.text
    assert requests.get(session, timeout=10).text.startswith("40{")  # connected; no more polls
    assert online(server)
    memory = PeakMemory(server)
    flood(server)
    growth = memory.stop()
    assert wait_offline(server, timeout=5) is not None, "the idle poller was never cut"
    assert growth < EMITTED_MB / 3, f"worker grew {growth:.1f} MB"
    assert requests.get(session, timeout=10).status_code == 400  # its session is gone
    record(
        "hostile: polling client that stopped polling, backlog limit 4 MiB",
        emitted_mb=EMITTED_MB,
        peak_rss_growth_mb=growth,
        disconnected=1,
    )


@pytest.mark.parametrize(
    "server",
    [{"SOCKET_MAX_BACKLOG_BYTES": str(2**40), "SOCKET_SEND_TIMEOUT_SECONDS": "2"}],
    indirect=True,
)
def test_a_write_blocked_past_the_send_timeout_closes_the_socket(server):
    reader = slow_reader(server)
    try:
        flood(server, MESSAGES // 3)  # ~12 MB: more than the kernel buffers hold
        flooded = time.monotonic()
        waited = wait_offline(server, timeout=15)
        assert waited is not None, "a writer stayed blocked"
        assert "a write blocked" in server.log()
        record(
            "hostile: reader that never reads, send timeout 2 s",
            seconds_from_flood_end_to_cut=time.monotonic() - flooded,
            disconnected=1,
        )
    finally:
        reader.shutdown()


@pytest.mark.parametrize("server", [NO_LIMIT], indirect=True)
def test_control_without_the_limits_the_backlog_grows_with_what_is_sent(server):
    """What the limits prevent: with both lifted, the queue keeps everything sent."""
    reader = slow_reader(server)
    try:
        memory = PeakMemory(server)
        flood(server)
        growth = memory.stop()
        assert online(server), "nothing should cut the reader with the limits lifted"
        assert growth > EMITTED_MB / 2, f"expected the unbounded queue to show, grew {growth:.1f}"
        record(
            "hostile: control run, limits lifted",
            emitted_mb=EMITTED_MB,
            peak_rss_growth_mb=growth,
        )
    finally:
        reader.shutdown()
