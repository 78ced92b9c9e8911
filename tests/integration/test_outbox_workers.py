"""Several senders at once (`flask outbox run` workers): each reply reaches n8n exactly once.

Run on SQLite and on PostgreSQL, with the web process's own sender off
(OUTBOUND_IN_WEB=0) and Redis carrying the workers' `message_status` events to
the web process's sockets.
"""

import shutil
import subprocess
import time

import pytest
import redis
import requests

from tests import services
from tests.clients import PyClient
from tests.integration.scale_cluster import wait_until
from tests.live_server import BIN, ROOT, LiveServer, free_port
from tests.n8n_server import N8nServer

# Chooses its databases itself: run once, not again in the PostgreSQL pass.
pytestmark = pytest.mark.database_pinned

REPLIES = 40
WORKERS = 3


@pytest.fixture(scope="module")
def redis_url():
    """A redis-server of this module's own, so no other test run hears its events."""
    binary = shutil.which("redis-server")
    if binary is None:
        services.unavailable("redis-server is not installed")
    port = free_port()
    command = [binary, "--port", str(port), "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url, socket_timeout=0.5).ping()
            break
        except redis.exceptions.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def n8n():
    with N8nServer() as server:
        server.delay = 0.02  # long enough for the workers' claims to overlap
        yield server


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request, n8n, redis_url):
    env = {"N8N_OUTBOUND_URL": n8n.url, "OUTBOUND_IN_WEB": "0", "REDIS_URL": redis_url}
    live = LiveServer(database=request.param, env=env).start()
    live.owner_id = live.create_user("owner@example.com")
    live.token = live.login("owner@example.com")["accessToken"]
    yield live
    live.close()


def start_worker(server, n: int, log_dir) -> tuple[subprocess.Popen, object]:
    """`flask outbox run` against the server's database, logging to a file."""
    log_path = log_dir / f"worker-{n}.log"
    process = subprocess.Popen(
        [str(BIN / "flask"), "outbox", "run"],
        cwd=ROOT,
        env=server.env,
        stdout=subprocess.DEVNULL,
        stderr=open(log_path, "wb"),
    )
    return process, log_path


def queue_replies(server) -> list[str]:
    """REPLIES replies over two conversations, all still queued (no sender runs yet)."""
    conversations = []
    for phone in ("+905550001001", "+905550001002"):
        body = {"user_id": server.owner_id, "customer_name": "Ali", "customer_phone": phone}
        created = server.post_webhook({**body, "message_content": "Merhaba"})
        conversations.append(created.json()["data"]["conversationId"])
    ids = []
    for n in range(REPLIES):
        response = requests.post(
            f"{server.url}/api/conversations/{conversations[n % 2]}/messages",
            json={"content": f"reply {n} via {server.database_url[:8]}"},
            headers={"Authorization": f"Bearer {server.token}"},
            timeout=10,
        )
        ids.append(response.json()["id"])
    return ids


def handed_counts(workers) -> list[int]:
    """How many hand-offs each worker logged."""
    return [log.read_text().count("handed over") for _, log in workers]


def test_several_workers_hand_each_reply_to_n8n_exactly_once(server, n8n, tmp_path):
    owner = PyClient(server.url, server.token)
    message_ids = queue_replies(server)
    assert server.flask("outbox", "status").splitlines()[0] == f"queued: {REPLIES}"
    workers = [start_worker(server, n, tmp_path) for n in range(WORKERS)]
    try:
        n8n.wait_for(lambda _: all(n8n.accepted(m) for m in message_ids), timeout=60)
        assert [len(n8n.for_message(m)) for m in message_ids] == [1] * REPLIES

        # The workers' events reach the web process's sockets through Redis.
        owner.wait_for("message_status", REPLIES, timeout=30)
        sent = {e["messageId"] for e in owner.of("message_status") if e["status"] == "sent"}
        assert sent == set(message_ids)
        # A worker logs a hand-off after publishing its event: let the last line land.
        wait_until(lambda: sum(handed_counts(workers)) >= REPLIES, timeout=10)
    finally:
        for process, _ in workers:
            process.terminate()
            process.wait(timeout=10)
        owner.close()
    handed = handed_counts(workers)
    assert sum(handed) == REPLIES
    assert sum(1 for count in handed if count) >= 2, f"one worker did everything: {handed}"
