"""Two gunicorn processes sharing one private Redis and one PostgreSQL database,
and the bookkeeping the scale-out tests report: who received which message how often.
"""

import itertools
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.clients import PyClient
from tests.live_server import LiveServer
from tests.private_redis import PrivateRedis

# Short expiries so the tests wait seconds, not the production minute.
PRESENCE_TTL_SECONDS = 4.0
TYPING_TIMEOUT_SECONDS = 2.0
_phones = itertools.count(1)


class Cluster:
    """Servers `a` and `b` on one Redis (a private redis-server) and one database."""

    def __init__(self):
        self.redis = PrivateRedis()
        env = {
            "REDIS_URL": self.redis.url(),
            "PRESENCE_TTL_SECONDS": str(PRESENCE_TTL_SECONDS),
            "TYPING_TIMEOUT_SECONDS": str(TYPING_TIMEOUT_SECONDS),
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
