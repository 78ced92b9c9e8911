"""Two gunicorn processes sharing one private Redis and one PostgreSQL database,
and the bookkeeping the scale-out tests report: who received which message how often.
"""

import bisect
import itertools
import json
import math
import os
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import socketio

from tests.clients import PyClient
from tests.live_server import LiveServer
from tests.private_redis import PrivateRedis

# Short expiries so the tests wait seconds, not the production minute.
PRESENCE_TTL_SECONDS = 4.0
TYPING_TIMEOUT_SECONDS = 2.0
_phones = itertools.count(1)


class Cluster:
    """Servers `a` and `b` on one Redis (a private redis-server) and one database."""

    def __init__(self, **env_overrides: str):
        self.redis = PrivateRedis()
        env = {
            "REDIS_URL": self.redis.url(),
            "PRESENCE_TTL_SECONDS": str(PRESENCE_TTL_SECONDS),
            "TYPING_TIMEOUT_SECONDS": str(TYPING_TIMEOUT_SECONDS),
            **env_overrides,
        }
        self.clients: list = []
        self.a = LiveServer(database="postgres", env=env)
        self.b = LiveServer(database_url=self.a.database_url, env=env)
        try:
            self.redis.start()
            self.a.start()
            self.b.start()
        except BaseException:  # pytest's skip too
            self.close()  # a fixture that fails to start gets no teardown
            raise

    def close_clients(self) -> None:
        for client in self.clients:
            client.close()
        self.clients = []

    def close(self) -> None:
        self.close_clients()
        self.b.stop()
        self.a.close()
        self.b.close()
        self.redis.stop()

    def user(self, email: str, role: str = "USER") -> "Account":
        """A user created through the CLI, logged in."""
        user_id = self.a.create_user(email, role=role)
        return Account(user_id, email, self.a.login(email)["accessToken"])

    def users(self, **roles: str) -> None:
        """Create users concurrently (a CLI process each): users(owner="USER", ...)."""
        with ThreadPoolExecutor(len(roles)) as pool:
            made = pool.map(
                lambda item: self.user(f"{item[0]}@example.com", item[1]), roles.items()
            )
            for name, account in zip(roles, made, strict=True):
                setattr(self, name, account)

    def connect(self, server: LiveServer, account: "Account", **kwargs) -> PyClient:
        client = PyClient(server.url, account.token, **kwargs)
        self.clients.append(client)
        return client


def cluster_fixtures(env: dict | None = None, **roles: str):
    """A test module's `cluster` (module-scoped, these users) and an autouse fixture
    closing each test's sockets after it, so presence starts from nobody.

    In the module: `cluster, fresh_sockets = cluster_fixtures(owner="USER", ...)`.
    """

    @pytest.fixture(scope="module")
    def cluster():
        cluster = Cluster(**(env or {}))
        cluster.users(**roles)
        yield cluster
        cluster.close()

    @pytest.fixture(autouse=True)
    def fresh_sockets(cluster):
        yield
        cluster.close_clients()

    return cluster, fresh_sockets


@dataclass
class Account:
    id: int
    email: str
    token: str


class Session:
    """One user's client across reconnects: the events of every connection, merged.

    Reconnecting passes the largest eventId seen as lastEventId, as the panel does.
    """

    def __init__(self, cluster: Cluster, server: LiveServer, account: Account):
        self.cluster, self.account = cluster, account
        self.connections = [cluster.connect(server, account)]

    def of(self, name: str) -> list[dict]:
        return [event for client in self.connections for event in client.of(name)]

    def last_event_id(self) -> int:
        ids = [data["eventId"] for c in self.connections for _, data in c.events if _event_id(data)]
        return max(ids, default=0)

    def reconnect(self, server: LiveServer) -> None:
        self.connections[-1].close()
        client = self.cluster.connect(server, self.account, last_event_id=self.last_event_id())
        self.connections.append(client)


def _event_id(data) -> bool:
    return isinstance(data, dict) and isinstance(data.get("eventId"), int)


def new_phone() -> str:
    return f"+90555{next(_phones):07d}"


def message_body(user_id: int, content: str, phone: str = "+905550000000", **extra) -> dict:
    return {
        "user_id": user_id,
        "customer_name": "Müşteri",
        "customer_phone": phone,
        "message_content": content,
        **extra,
    }


def online(server: LiveServer, admin: Account, user_id: int) -> bool:
    response = server.get(f"/api/users/{user_id}/online", admin.token)
    response.raise_for_status()
    return response.json()["online"]


def first_true(conditions: dict, timeout: float, step: float = 0.05) -> dict[str, float]:
    """Seconds until each condition first held, polled together; AssertionError after timeout."""
    started, times = time.monotonic(), {}
    while len(times) < len(conditions):
        elapsed = time.monotonic() - started
        if elapsed > timeout:
            missing = sorted(set(conditions) - set(times))
            raise AssertionError(f"not true within {timeout} s: {missing}")
        times.update(
            {name: elapsed for name, check in conditions.items() if name not in times and check()}
        )
        time.sleep(step)
    return times


def wait_until(condition, timeout: float, step: float = 0.05) -> float:
    """Seconds until condition() held; AssertionError after timeout."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not true within {timeout} s")
        time.sleep(step)
    return time.monotonic() - started


@dataclass
class Stream:
    """Webhooks posted one after another from a thread, each a new message_id."""

    targets: list
    user_id: int
    label: str
    interval: float = 0.05
    statuses: list = field(default_factory=list)
    latencies: list = field(default_factory=list)
    message_ids: list = field(default_factory=list)

    def __post_init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "Stream":
        self._thread.start()
        return self

    def _run(self) -> None:
        for n in itertools.count():
            if self._stop.is_set():
                return
            self._post(self.targets[n % len(self.targets)], n)
            time.sleep(self.interval)

    def _post(self, server: LiveServer, n: int) -> None:
        body = message_body(self.user_id, f"{self.label} {n}", message_id=f"wamid.{self.label}-{n}")
        started = time.monotonic()
        try:
            response = server.post_webhook(body)
        except requests.RequestException as exc:
            self.statuses.append(type(exc).__name__)
            return
        self.latencies.append(time.monotonic() - started)
        self.statuses.append(response.status_code)
        if response.status_code == 201:
            self.message_ids.append(response.json()["data"]["id"])

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def tally(clients: list, message_ids: list[str]) -> dict:
    """What the clients got of these messages: received, lost, duplicates, shown twice.

    A client drops a repeated eventId, as the contract asks; `duplicates` counts
    those repeats (deliveries the client had to drop), `shown_twice` what would
    still appear twice after that (one message under two eventIds).
    """
    wanted = set(message_ids)
    figures = {"clients": len(clients), "received": 0, "lost": 0, "duplicates": 0}
    figures["shown_twice"] = 0
    for client in clients:
        deliveries = [m for m in client.of("new_message") if m["id"] in wanted]
        shown = {m["eventId"]: m["id"] for m in deliveries}
        figures["duplicates"] += len(deliveries) - len(shown)
        figures["shown_twice"] += len(shown) - len(set(shown.values()))
        figures["received"] += len(set(shown.values()))
        figures["lost"] += len(wanted - set(shown.values()))
    return figures


def has_all(client, message_ids: list[str]) -> bool:
    return set(message_ids) <= {m["id"] for m in client.of("new_message")}


def record_figures(fault: str, **figures) -> None:
    """Print one fault's figures; with SCALE_FIGURES=<file>, also append them as a JSON line."""
    line = json.dumps({"fault": fault, **figures}, sort_keys=True)
    print(f"\nscale-out figures: {line}")
    path = os.environ.get("SCALE_FIGURES")
    if path:
        with Path(path).open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


class InboxClient:
    """A client application over python-socketio, doing what the contract asks of one.

    It drops an event whose eventId it has already seen, resumes with the largest
    eventId seen as lastEventId, and on `resync_required` catches up through
    `GET /api/events` (the REST path the contract names). It counts every
    delivery (raw) and every message it handled after dropping repeats.
    """

    def __init__(self, token: str, last_event_id: int = 0, reconnection: bool = False, **options):
        self.token = token
        self.rest_url = None  # where to catch up after resync_required: the last server used
        self._lock = threading.Lock()
        self.seen: set[int] = {last_event_id} if last_event_id else set()
        self.handled: Counter = Counter()  # message id -> times the application handled it
        self.deliveries = 0
        self.dropped = 0  # deliveries of an eventId already seen
        self.resyncs = 0
        self.connects = 0
        self.disconnects: list[float] = []  # monotonic times of each drop
        # This connection's largest eventIds as they rose, with when: how late an
        # event came after a larger one (published in the other order) is measured
        # against them.
        self._rises: list[tuple[int, float]] = []
        self.worst_lateness = 0.0  # seconds, the worst seen
        self.reconnect_gaps: list[float] = []  # seconds from each drop to the next connect
        self.sio = socketio.Client(reconnection=reconnection, **options)
        self.sio.on("new_message", self._on_new_message)
        self.sio.on("resync_required", self._on_resync)
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)

    def last_event_id(self) -> int:
        with self._lock:
            return max(self.seen, default=0)

    def _auth(self) -> dict:
        return {"token": self.token, "lastEventId": self.last_event_id()}

    def connect(self, url: str, **options) -> None:
        self.rest_url = url
        self.sio.connect(url, auth=self._auth, transports=["websocket"], wait_timeout=10, **options)

    def disconnect(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()

    def _on_connect(self) -> None:
        with self._lock:
            self.connects += 1
            self._rises = []
            if self.disconnects:
                self.reconnect_gaps.append(time.monotonic() - self.disconnects[-1])

    def _on_disconnect(self, reason=None) -> None:
        with self._lock:
            self.disconnects.append(time.monotonic())

    def _on_new_message(self, message: dict) -> None:
        self.handle(message["eventId"], message)

    def handle(self, event_id: int, message: dict) -> None:
        """What the application does with a delivery: drop a repeat, else handle it."""
        with self._lock:
            self.deliveries += 1
            if event_id in self.seen:
                self.dropped += 1
                return
            self._note_order(event_id)
            self.seen.add(event_id)
            self.handled[message["id"]] += 1

    def _note_order(self, event_id: int) -> None:
        now = time.monotonic()
        if not self._rises or event_id > self._rises[-1][0]:
            self._rises.append((event_id, now))
            return
        overtaken_at = self._rises[bisect.bisect_right(self._rises, (event_id, math.inf))][1]
        self.worst_lateness = max(self.worst_lateness, now - overtaken_at)

    def _on_resync(self, _data=None) -> None:
        with self._lock:
            self.resyncs += 1
        after = self.last_event_id()
        while True:
            page = requests.get(
                f"{self.rest_url}/api/events",
                params={"after": after, "limit": 1000},
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=10,
            ).json()
            for event in page["events"]:
                if event["event"] == "new_message":
                    self.handle(event["eventId"], event["data"])
            if page["lastEventId"] == after:
                return
            after = page["lastEventId"]

    def has_all(self, message_ids) -> bool:
        with self._lock:
            return all(self.handled[m] for m in message_ids)


def count_deliveries(clients: list, expected: list[set[str]]) -> dict:
    """Lost, doubled and raw duplicate deliveries of these clients, each against its own set.

    lost: an expected message never handled; doubled: a message the application
    handled more than once after its eventId dedupe; duplicates: deliveries it
    dropped as repeats.
    """
    figures = {"clients": len(clients), "expected": 0, "lost": 0, "doubled": 0}
    figures.update(duplicates=0, deliveries=0, resyncs=0)
    for client, wanted in zip(clients, expected, strict=True):
        figures["expected"] += len(wanted)
        figures["lost"] += sum(1 for m in wanted if not client.handled[m])
        figures["doubled"] += sum(n - 1 for n in client.handled.values() if n > 1)
        figures["deliveries"] += client.deliveries
        figures["duplicates"] += client.dropped
        figures["resyncs"] += client.resyncs
    figures["worst_out_of_order_s"] = round(max(c.worst_lateness for c in clients), 3)
    return figures


def latest_event_id(server: LiveServer, token: str) -> int:
    """The newest eventId this user can see, paging GET /api/events from the start."""
    after = 0
    while True:
        page = server.get("/api/events", token, after=after, limit=1000).json()
        if page["lastEventId"] == after:
            return after
        after = page["lastEventId"]
