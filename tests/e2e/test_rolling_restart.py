"""Stopping and restarting processes of a two-process deployment while it is in use.

- A graceful stop (SIGTERM) takes the process's sockets out of presence before it
  exits: its users show offline at once and can open their 20 sockets on the
  other process at once, and its typers' indicators end.
- A rolling restart behind nginx (docs/nginx.conf.example, ports substituted):
  both processes restarted one after the other, as docs/deploy.md describes,
  while webhooks flow through nginx (retried as n8n retries) and clients are open
  through it: python-socketio clients and the panel in headless Chromium. Nothing
  is lost or handled twice, and every client is live again within seconds.

Always PostgreSQL and a private Redis; figures are printed and appended to
$RELIABILITY_FIGURES when set (docs/reliability.md quotes them).
"""

import itertools
import threading
import time

import pytest
import requests
import urllib3
from playwright.sync_api import expect

from tests.e2e.conftest import log_in, open_conversation, wait_connected
from tests.integration.scale_cluster import (
    InboxClient,
    cluster_fixtures,
    count_deliveries,
    message_body,
    new_phone,
    online,
    wait_until,
)
from tests.live_server import WEBHOOK_SECRET
from tests.nginx_proxy import Nginx
from tests.reliability_figures import record

MAX_SOCKETS = 20
LIVE_WITHIN = 10.0  # seconds from a client's drop to its reconnection ("within seconds")

pytestmark = pytest.mark.database_pinned


# Production's presence expiry, so a stale entry would show for a whole minute.
cluster, fresh_sockets = cluster_fixtures(
    {"PRESENCE_TTL_SECONDS": "60", "TRUSTED_PROXY_HOPS": "1"},
    owner="USER",
    typist="USER",
    admin="ADMIN",
)


def test_a_graceful_stop_takes_its_sockets_out_of_presence_at_once(cluster):
    body = message_body(cluster.typist.id, "typing here", new_phone())
    conversation = cluster.b.post_webhook(body).json()["data"]["conversationId"]
    typist = cluster.connect(cluster.a, cluster.typist)
    watcher = cluster.connect(cluster.b, cluster.admin)
    for client in (typist, watcher):
        assert client.call("join_conversation", conversation) == {"ok": True}
    typist.call("typing", {"conversationId": conversation, "isTyping": True})
    watcher.wait_for("user_typing")
    for _ in range(MAX_SOCKETS):
        cluster.connect(cluster.a, cluster.owner)
    assert online(cluster.b, cluster.admin, cluster.owner.id)

    started = time.monotonic()
    cluster.a.stop()  # SIGTERM; returns once the process has exited
    stopped_in = time.monotonic() - started
    offline = not online(cluster.b, cluster.admin, cluster.owner.id)
    typing_ended = [e["isTyping"] for e in watcher.wait_for("user_typing", 2, timeout=1)]
    accepted = 0
    for _ in range(MAX_SOCKETS):
        cluster.connect(cluster.b, cluster.owner)
        accepted += 1
    record(
        "restart: SIGTERM withdraws the process's sockets",
        sockets=MAX_SOCKETS + 1,
        stopped_in_s=round(stopped_in, 2),
        reconnected_elsewhere=accepted,
    )
    assert offline, "the stopped process's sockets still count as online"
    assert typing_ended == [True, False]
    assert accepted == MAX_SOCKETS
    assert "withdrew 21 socket(s) from presence" in cluster.a.log()
    cluster.a.start()


class Sender(threading.Thread):
    """n8n posting through nginx, one webhook after another, each retried until stored."""

    def __init__(self, url: str, user_id: int, phone: str, interval: float = 0.05):
        super().__init__(daemon=True)
        self.url, self.user_id, self.phone, self.interval = url, user_id, phone, interval
        self.message_ids: list[str] = []
        self.retries: dict[str, int] = {}  # what a failed attempt answered -> how often
        self.stop = threading.Event()
        self._session = requests.Session()

    def run(self) -> None:
        for n in itertools.count():
            if self.stop.is_set():
                return
            self.message_ids.append(self._post_until_stored(n))
            time.sleep(self.interval)

    def _post_until_stored(self, n: int) -> str:
        body = message_body(self.user_id, f"rolling {n}", self.phone, message_id=f"wamid.roll-{n}")
        while True:
            try:
                response = self._session.post(
                    self.url + "/api/webhooks/n8n/message",
                    json=body,
                    headers={"X-Webhook-Secret": WEBHOOK_SECRET},
                    timeout=10,
                    verify=False,
                )
                if response.status_code in (200, 201):  # 200: stored by an earlier attempt
                    return response.json()["data"]["id"]
                failure = str(response.status_code)
            except requests.RequestException as exc:
                failure = type(exc).__name__
            self.retries[failure] = self.retries.get(failure, 0) + 1
            time.sleep(0.2)


PANEL_HOOKS = """() => {
  window.handled = {};
  window.states = [[performance.now(), window.socketClient.getStatus().isConnected
    ? 'connected' : 'reconnecting']];
  window.socketClient.on('new_message', (m) => {
    window.handled[m.id] = (window.handled[m.id] || 0) + 1;
  });
  window.socketClient.on('state', ({ state }) => window.states.push([performance.now(), state]));
}"""


def open_panel(browser, url: str, email: str, path: str):
    """A signed-in panel through nginx, recording what it handles and its socket's states."""
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    log_in(page, url, email)
    if not page.url.endswith(path):
        page.goto(url + path)
    wait_connected(page)
    page.evaluate(PANEL_HOOKS)
    return page


def offline_spells(page) -> list[float]:
    """Seconds each time the panel's socket was down, from its recorded states."""
    spells, down_since = [], None
    for at, state in page.evaluate("window.states"):
        if state != "connected" and down_since is None:
            down_since = at
        elif state == "connected" and down_since is not None:
            spells.append((at - down_since) / 1000)
            down_since = None
    if down_since is not None:
        spells.append(float("inf"))
    return spells


def test_a_rolling_restart_behind_nginx_loses_nothing_and_keeps_clients_live(cluster, browser):
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    phone = new_phone()
    with Nginx((cluster.a.port, cluster.b.port)) as nginx:
        first = requests.post(
            nginx.url + "/api/webhooks/n8n/message",
            json=message_body(cluster.owner.id, "before the restarts", phone),
            headers={"X-Webhook-Secret": WEBHOOK_SECRET},
            timeout=10,
            verify=False,
        ).json()["data"]
        clients = [
            InboxClient(account.token, reconnection=True, ssl_verify=False)
            for account in (cluster.owner, cluster.owner, cluster.admin, cluster.admin)
        ]
        for client in clients:
            client.connect(nginx.url)
        agent = open_panel(browser, nginx.url, cluster.owner.email, "/client")
        open_conversation(agent, first["conversationId"])
        admin = open_panel(browser, nginx.url, cluster.admin.email, "/admin")
        panels = [agent, admin]

        sender = Sender(nginx.url, cluster.owner.id, phone)
        sender.start()
        restart_seconds = []
        for server in (cluster.a, cluster.b):  # one after the other, as docs/deploy.md says
            posted_before = len(sender.message_ids)
            wait_until(lambda n=posted_before: len(sender.message_ids) >= n + 20, 30)
            started = time.monotonic()
            server.restart()  # SIGTERM, wait for the exit, start, wait for /health
            restart_seconds.append(time.monotonic() - started)
            # nginx tries a process that refused connections again after its
            # fail_timeout: the procedure waits that long before the next stop.
            time.sleep(nginx.fail_timeout)
        posted_before = len(sender.message_ids)
        wait_until(lambda: len(sender.message_ids) >= posted_before + 20, 30)
        sender.stop.set()
        sender.join(timeout=30)
        posted = set(sender.message_ids)

        wait_until(lambda: all(c.has_all(posted) for c in clients), 30)
        for page in panels:
            page.wait_for_function(
                "ids => ids.every((id) => window.handled[id])", arg=list(posted), timeout=30000
            )
        expect(agent.locator("#message-list .message-text")).to_have_count(len(posted) + 1)
        figures = count_deliveries(clients, [posted] * len(clients))
        handled = [page.evaluate("window.handled") for page in panels]
        spells = [s for page in panels for s in offline_spells(page)]
        gaps = [g for c in clients for g in c.reconnect_gaps]
        proxy_errors = sum(nginx.answered(status) for status in (502, 503, 504))
        for client in clients:
            client.disconnect()
        for page in panels:
            page.context.close()
    figures.update(
        posted=len(posted),
        webhook_retries=sum(sender.retries.values()),
        proxy_errors=proxy_errors,
        restart_seconds=round(max(restart_seconds), 2),
        client_reconnects=len(gaps),
        slowest_client_reconnect_s=round(max(gaps, default=0.0), 2),
        panels=len(panels),
        panel_lost=sum(1 for h in handled for m in posted if not h.get(m)),
        panel_doubled=sum(n - 1 for h in handled for n in h.values() if n > 1),
        panel_reconnects=len(spells),
        slowest_panel_reconnect_s=round(max(spells, default=0.0), 2),
    )
    record("restart: rolling restart of 2 processes behind nginx", **figures)
    print(f"\nrolling restart figures: {figures}; failed webhook attempts: {sender.retries}")
    assert figures["lost"] == 0 and figures["doubled"] == 0, figures
    assert figures["panel_lost"] == 0 and figures["panel_doubled"] == 0, figures
    assert len(gaps) >= len(clients) and len(spells) >= len(panels), figures  # all moved once
    assert max(gaps) < LIVE_WITHIN and max(spells) < LIVE_WITHIN, figures
