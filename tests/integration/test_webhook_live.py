"""The webhook on a real server: racing duplicates, and PostgreSQL going away mid-flight."""

import json
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests import services
from tests.clients import PyClient
from tests.live_server import WEBHOOK_SECRET, LiveServer

# Chooses its databases itself: run once, not again in the PostgreSQL pass.
pytestmark = pytest.mark.database_pinned

RACERS = 12


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request):
    live = LiveServer(database=request.param).start()
    live.owner_id = live.create_user("owner@example.com")
    live.create_user("admin@example.com", role="ADMIN")
    live.admin_token = live.login("admin@example.com")["accessToken"]
    yield live
    live.close()


def body(server, content: str, **extra) -> dict:
    return {
        "user_id": server.owner_id,
        "customer_name": "Can",
        "customer_phone": "+905559998877",
        "message_content": content,
        **extra,
    }


def post_all_at_once(server, bodies: list[dict]) -> list[requests.Response]:
    """POST every body from its own thread, released together."""
    start = threading.Barrier(len(bodies))

    def post(one):
        start.wait()
        return server.post_webhook(one)

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(post, bodies))


def stored_contents(server) -> list[str]:
    response = server.get("/api/messages", server.admin_token)
    assert response.status_code == 200
    return [m["messageContent"] for m in response.json()]


def test_identical_posts_racing_store_and_emit_once(server):
    admin = PyClient(server.url, server.admin_token)
    try:
        for round_number in range(3):
            content = f"race {uuid.uuid4().hex}"
            same = body(server, content, message_id=f"wamid.{uuid.uuid4().hex}")
            responses = post_all_at_once(server, [same] * RACERS)

            statuses = sorted(r.status_code for r in responses)
            assert statuses == [200] * (RACERS - 1) + [201], [r.text for r in responses]
            ids = {r.json()["data"]["id"] for r in responses}
            assert len(ids) == 1
            assert all(r.json()["duplicate"] is True for r in responses if r.status_code == 200)
            assert stored_contents(server).count(content) == 1

            marker = server.post_webhook(body(server, f"marker {round_number}"))
            assert marker.status_code == 201
            admin.wait_for("new_message", 2 * (round_number + 1))
            assert [m["messageContent"] for m in admin.of("new_message")][-2:] == [
                content,
                f"marker {round_number}",
            ]
    finally:
        admin.close()


def test_different_messages_of_a_new_customer_racing_make_one_conversation(server):
    phone = f"+90{uuid.uuid4().int % 10**10:010d}"
    bodies = [
        body(server, f"burst {n}", customer_phone=phone, message_id=f"wamid.{uuid.uuid4().hex}")
        for n in range(RACERS)
    ]
    responses = post_all_at_once(server, bodies)
    assert [r.status_code for r in responses] == [201] * RACERS, [r.text for r in responses]
    assert len({r.json()["data"]["conversationId"] for r in responses}) == 1
    assert len({r.json()["data"]["id"] for r in responses}) == RACERS


def post_chunked(server, payload: dict) -> requests.Response:
    """POST with Transfer-Encoding: chunked (no Content-Length), as streaming clients do."""
    raw = json.dumps(payload).encode()
    chunks = (raw[i : i + 8192] for i in range(0, len(raw), 8192))
    return requests.post(
        server.url + "/api/webhooks/n8n/message",
        data=chunks,
        headers={"X-Webhook-Secret": WEBHOOK_SECRET, "Content-Type": "application/json"},
        timeout=10,
    )


def test_a_chunked_body_over_64_kib_is_413_not_truncated(server):
    content = f"chunked {uuid.uuid4().hex} " + "x" * 70_000
    response = post_chunked(server, body(server, content))
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "payload_too_large"
    # A body padded past the limit with whitespace must not be accepted as its prefix.
    padded = json.dumps(body(server, "padded")).encode() + b" " * 70_000
    response = requests.post(
        server.url + "/api/webhooks/n8n/message",
        data=iter([padded]),
        headers={"X-Webhook-Secret": WEBHOOK_SECRET, "Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 413
    assert not [c for c in stored_contents(server) if c.startswith("chunked") or c == "padded"]

    small = post_chunked(server, body(server, "chunked and small"))
    assert small.status_code == 201


def test_a_poller_of_the_event_log_misses_nothing_during_concurrent_writes(server):
    """eventIds commit in order, so `after=<last seen>` never skips one that commits late."""
    cursor = latest_event_id(server)
    seen: list[int] = []
    writing = threading.Event()
    writing.set()

    def poll():
        nonlocal cursor
        while True:
            still_writing = writing.is_set()
            page = server.get("/api/events", server.admin_token, after=cursor, limit=1000).json()
            seen.extend(e["eventId"] for e in page["events"])
            cursor = page["lastEventId"]
            if not still_writing:
                return

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        bodies = [body(server, f"burst {uuid.uuid4().hex}") for _ in range(RACERS * 4)]
        with ThreadPoolExecutor(RACERS) as pool:
            statuses = list(pool.map(lambda one: server.post_webhook(one).status_code, bodies))
        assert statuses == [201] * len(bodies)
    finally:
        writing.clear()
        poller.join(timeout=30)
    first = seen[0] - 1 if seen else cursor
    everything = server.get("/api/events", server.admin_token, after=first, limit=1000).json()
    assert seen == [e["eventId"] for e in everything["events"]]
    assert len(seen) == len(bodies)


def latest_event_id(server) -> int:
    """The newest eventId, read by paging the log to its end."""
    cursor = 0
    while True:
        page = server.get("/api/events", server.admin_token, after=cursor, limit=1000).json()
        if not page["events"]:
            return cursor
        cursor = page["lastEventId"]


# PostgreSQL unreachable


class TcpProxy:
    """Forwards a local port to a server; cut() drops every connection and refuses new ones."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        self.up = False
        with self._lock:
            doomed, self._open = self._open, []
        for end in doomed:
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            end.close()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.fixture(scope="module")
def proxied():
    """A server whose PostgreSQL connection runs through a proxy the test can cut."""
    url = services.create_postgres_database()
    host_port = url.split("@", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    proxy = TcpProxy(host, int(port))
    live = LiveServer(database_url=url.replace(host_port, f"127.0.0.1:{proxy.port}"))
    live.start()
    live.owner_id = live.create_user("owner@example.com")
    live.create_user("admin@example.com", role="ADMIN")
    live.admin_token = live.login("admin@example.com")["accessToken"]
    live.proxy = proxy
    yield live
    live.close()
    proxy.close()
    services.drop_postgres_database(url)


def test_database_down_is_503_with_nothing_stored_and_the_retry_lands_once(proxied):
    admin = PyClient(proxied.url, proxied.admin_token)
    message = body(proxied, "during the outage", message_id=f"wamid.{uuid.uuid4().hex}")
    try:
        proxied.proxy.cut()
        try:
            response = proxied.post_webhook(message)
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] == "service_unavailable"

            health = requests.get(proxied.url + "/health", timeout=10)
            assert health.status_code == 503
            assert health.json()["database"] == "unavailable"
            assert "database" in health.json()["error"]["message"]

            login = requests.post(
                proxied.url + "/api/auth/login",
                json={"email": "owner@example.com", "password": "whatever-it-is"},
                timeout=10,
            )
            assert login.status_code == 503
        finally:
            proxied.proxy.restore()

        assert requests.get(proxied.url + "/health", timeout=10).status_code == 200
        assert "during the outage" not in stored_contents(proxied)
        retry = proxied.post_webhook(message)
        assert retry.status_code == 201, retry.text
        (received,) = admin.wait_for("new_message")
        assert received["messageContent"] == "during the outage"
        assert stored_contents(proxied).count("during the outage") == 1
    finally:
        admin.close()
