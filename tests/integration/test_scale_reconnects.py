"""The loss window across processes, under load: nothing lost, nothing handled twice.

Two processes on PostgreSQL and a private Redis. 10,000 webhooks are posted in
parallel, alternately to each process, while 20 python-socketio clients (three
per agent, two admins) disconnect and reconnect at random, each time to either
process with the largest eventId it has seen as lastEventId, dropping repeated
eventIds as the contract asks. Two REST pollers follow `GET /api/events?after=`
meanwhile, one per process.

Every client must end with every message it may see handled exactly once, and
so must the pollers. The figures (lost, doubled, raw duplicate deliveries,
resyncs) are printed, and appended to $RELIABILITY_FIGURES when set
(docs/reliability.md quotes them).
"""

import os
import random
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import socketio

from tests.integration.scale_cluster import (
    InboxClient,
    cluster_fixtures,
    count_deliveries,
    latest_event_id,
    message_body,
)
from tests.live_server import WEBHOOK_SECRET
from tests.reliability_figures import record

EVENTS = int(os.environ.get("CLUSTER_EVENTS", "10000"))
AGENTS = 6
CLIENTS_PER_AGENT = 3
ADMIN_CLIENTS = 2
POSTERS = 8
# How long a client stays connected, then away, in seconds (uniformly drawn).
CONNECTED_FOR = (0.3, 3.0)
AWAY_FOR = (0.0, 0.05)

# Always PostgreSQL and a private Redis, whatever TEST_DATABASE says.
pytestmark = pytest.mark.database_pinned


cluster, fresh_sockets = cluster_fixtures(
    admin="ADMIN", **{f"agent{n}": "USER" for n in range(AGENTS)}
)


class Poster:
    """Webhooks posted from a pool of threads, alternately to each server, as n8n would."""

    def __init__(self, servers: list, agents: list):
        self.servers, self.agents = servers, agents
        self.by_owner: dict[int, list[str]] = {agent.id: [] for agent in agents}
        self.failures: list = []
        self._local = threading.local()
        self._lock = threading.Lock()

    def post(self, n: int) -> None:
        session = getattr(self._local, "session", None) or requests.Session()
        self._local.session = session
        owner = self.agents[n % len(self.agents)]
        phone = f"+90555{owner.id:03d}{n % 4:04d}"
        body = message_body(owner.id, f"window {n}", phone, message_id=f"wamid.window-{n}")
        response = session.post(
            self.servers[n % len(self.servers)].url + "/api/webhooks/n8n/message",
            json=body,
            headers={"X-Webhook-Secret": WEBHOOK_SECRET},
            timeout=30,
        )
        with self._lock:
            if response.status_code == 201:
                self.by_owner[owner.id].append(response.json()["data"]["id"])
            else:
                self.failures.append((response.status_code, response.text[:200]))

    def all_ids(self) -> set[str]:
        return {m for ids in self.by_owner.values() for m in ids}


class Poller(threading.Thread):
    """The polling fallback: GET /api/events?after=<last eventId> in a loop, as an admin."""

    def __init__(self, server, token: str, after: int):
        super().__init__(daemon=True)
        self.server, self.token, self.after = server, token, after
        self.message_ids: list[str] = []
        self.polls = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            response = self.server.get("/api/events", self.token, after=self.after, limit=1000)
            self.polls += 1
            if response.status_code == 429:  # REST_RATE_LIMIT: wait as it says, as a client does
                self.stop.wait(float(response.headers.get("Retry-After", 1)))
                continue
            response.raise_for_status()
            page = response.json()
            self.message_ids += [e["data"]["id"] for e in page["events"]]
            self.after = page["lastEventId"]
            # Both pollers are one admin: 8 polls a second stay well under its REST budget.
            self.stop.wait(0.25)


def churn(client: InboxClient, servers: list, stop: threading.Event, rng: random.Random):
    """Connect to a random server, stay a random while, drop, again, until stopped."""
    while not stop.is_set():
        try:
            client.connect(rng.choice(servers).url)
        except socketio.exceptions.ConnectionError:
            stop.wait(0.05)
            continue
        stop.wait(rng.uniform(*CONNECTED_FOR))
        client.disconnect()
        stop.wait(rng.uniform(*AWAY_FOR))


def wait_for_everything(clients, expected, pollers, everything, timeout: float) -> float:
    """Seconds until every client and poller had all it may see (or the timeout)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if all(c.has_all(w) for c, w in zip(clients, expected, strict=True)) and all(
            everything <= set(p.message_ids) for p in pollers
        ):
            break
        time.sleep(0.1)
    return time.monotonic() - started


def publish_inversions(server) -> float:
    """The worst time an event reached this server after a larger eventId, as it logged it."""
    found = re.findall(r"publish order: event \d+ reached this process ([\d.]+) s", server.log())
    return max(map(float, found), default=0.0)


def test_clients_reconnecting_at_random_across_two_processes_lose_nothing(cluster):
    servers = [cluster.a, cluster.b]
    agents = [getattr(cluster, f"agent{n}") for n in range(AGENTS)]
    start_at = latest_event_id(cluster.a, cluster.admin.token)
    clients = [
        InboxClient(agent.token, start_at) for agent in agents for _ in range(CLIENTS_PER_AGENT)
    ]
    clients += [InboxClient(cluster.admin.token, start_at) for _ in range(ADMIN_CLIENTS)]
    pollers = [Poller(server, cluster.admin.token, start_at) for server in servers]
    stop = threading.Event()
    churners = [
        threading.Thread(target=churn, args=(c, servers, stop, random.Random(n)), daemon=True)
        for n, c in enumerate(clients)
    ]
    for thread in [*churners, *pollers]:
        thread.start()

    poster = Poster(servers, agents)
    started = time.monotonic()
    with ThreadPoolExecutor(POSTERS) as pool:
        list(pool.map(poster.post, range(EVENTS)))
    posting_seconds = time.monotonic() - started
    stop.set()
    for thread in churners:
        thread.join(timeout=30)
    for n, client in enumerate(clients):
        client.connect(servers[n % 2].url)

    everything = poster.all_ids()
    expected = [
        set(poster.by_owner[agent.id]) for agent in agents for _ in range(CLIENTS_PER_AGENT)
    ]
    expected += [everything] * ADMIN_CLIENTS
    settled = wait_for_everything(clients, expected, pollers, everything, timeout=60)
    for poller in pollers:
        poller.stop.set()
    for client in clients:
        client.disconnect()

    figures = count_deliveries(clients, expected)
    polled = {
        "poller_lost": sum(len(everything - set(p.message_ids)) for p in pollers),
        "poller_doubled": sum(len(p.message_ids) - len(set(p.message_ids)) for p in pollers),
        "polls": sum(p.polls for p in pollers),
    }
    figures.update(
        posted=len(everything),
        webhook_failures=len(poster.failures),
        posting_seconds=round(posting_seconds, 1),
        webhooks_per_second=round(len(everything) / posting_seconds, 1),
        connects=sum(c.connects for c in clients),
        worst_publish_inversion_s=max(publish_inversions(cluster.a), publish_inversions(cluster.b)),
        settled_seconds=round(settled, 2),
        **polled,
    )
    record(
        "cluster: 20 clients reconnecting at random, 2 processes (PostgreSQL + Redis)", **figures
    )
    print(f"\ncluster figures: {figures}")
    assert poster.failures == [] and len(everything) == EVENTS
    assert figures["lost"] == 0, figures
    assert figures["doubled"] == 0, figures
    assert figures["poller_lost"] == 0 and figures["poller_doubled"] == 0, figures
