"""GET /metrics: the token check, and each metric moving when what it counts happens.

Counters belong to the process (several apps of one test process share them),
so each test reads a metric before and after and checks the difference.
"""

import time

from prometheus_client.parser import text_string_to_metric_families

from app.outbound import sender
from app.services.users import create_user
from tests.conftest import PASSWORD, WEBHOOK_SECRET, received, webhook_body
from tests.module_app import fresh_app
from tests.n8n_server import N8nServer


def scrape(client, headers=None) -> dict:
    """{(sample name, sorted label items): value} of one scrape."""
    response = client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


class Meter:
    """Reads one metric before and after something happens."""

    def __init__(self, client, name: str, **labels):
        self.client, self.name, self.labels = client, name, labels
        self.start = self.now()

    def now(self) -> float:
        return value(scrape(self.client), self.name, **self.labels)

    def moved(self) -> float:
        return self.now() - self.start


# The token.


def test_metrics_are_open_without_a_token(client):
    assert "inbox_sockets_connected" in client.get("/metrics").get_data(as_text=True)


def test_with_metrics_token_only_its_bearer_may_scrape(app, client):
    app.config["METRICS_TOKEN"] = "scrape-secret"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "scrape-secret"}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthorized"
    assert (
        value(scrape(client, {"Authorization": "Bearer scrape-secret"}), "inbox_users_online") == 0
    )


# What moves.


def test_sockets_and_users_connected_follow_connects_and_disconnects(client, people, socket_for):
    sockets = [
        socket_for(people["owner"]),
        socket_for(people["owner"]),
        socket_for(people["admin"]),
    ]
    samples = scrape(client)
    assert value(samples, "inbox_sockets_connected") == 3
    assert value(samples, "inbox_users_connected") == 2
    assert value(samples, "inbox_users_online") == 2
    sockets[0].disconnect()
    sockets[2].disconnect()
    samples = scrape(client)
    assert value(samples, "inbox_sockets_connected") == 1
    assert value(samples, "inbox_users_connected") == 1


def test_events_emitted_are_counted_by_name(client, people, post_webhook, socket_for):
    new_message = Meter(client, "inbox_events_emitted_total", event="new_message")
    refusals = Meter(client, "inbox_events_emitted_total", event="error")
    typing = Meter(client, "inbox_events_emitted_total", event="user_typing")
    data = post_webhook(**webhook_body(people["owner"])).get_json()["data"]
    socket = socket_for(people["owner"])
    socket.emit("join_conversation", data["conversationId"], callback=True)
    socket.emit("typing", {"conversationId": data["conversationId"], "isTyping": True})
    socket.emit("join_conversation", "bad", callback=True)
    assert (new_message.moved(), typing.moved(), refusals.moved()) == (1, 1, 1)


def test_webhook_latency_lands_in_the_histogram_by_path_and_status(client, people, post_webhook):
    path = "/api/webhooks/n8n/message"
    created = Meter(client, "inbox_webhook_duration_seconds_count", path=path, status="201")
    refused = Meter(client, "inbox_webhook_duration_seconds_count", path=path, status="401")
    slowest = Meter(
        client, "inbox_webhook_duration_seconds_bucket", path=path, status="201", le="+Inf"
    )
    assert post_webhook(**webhook_body(people["owner"])).status_code == 201
    assert post_webhook(secret="wrong", **webhook_body(people["owner"])).status_code == 401
    assert (created.moved(), refused.moved(), slowest.moved()) == (1, 1, 1)
    total = Meter(client, "inbox_webhook_duration_seconds_sum", path=path, status="201")
    post_webhook(**webhook_body(people["owner"], message_id="wamid.metrics-2"))
    assert 0 < total.moved() < 5


def test_replays_are_counted_with_the_events_they_sent(client, people, post_webhook, socket_for):
    for n in range(3):
        post_webhook(**webhook_body(people["owner"], message_id=f"wamid.replay-{n}"))
    replayed = Meter(client, "inbox_replays_total", result="replayed")
    events = Meter(client, "inbox_replayed_events_total")
    resyncs = Meter(client, "inbox_replays_total", result="resync")
    assert len(received(socket_for(people["owner"], lastEventId=0))["new_message"]) == 3
    assert "resync_required" in received(socket_for(people["owner"], lastEventId=10**9))
    assert (replayed.moved(), events.moved(), resyncs.moved()) == (1, 3, 1)


def test_rate_limit_refusals_are_counted(client, people, socket_for, fast_password_hashes):
    logins = Meter(client, "inbox_rate_limited_total", limit="login")
    events = Meter(client, "inbox_rate_limited_total", limit="socket_events")
    body = {"email": "nobody@example.com", "password": "wrong"}
    codes = [client.post("/api/auth/login", json=body).status_code for _ in range(11)]
    assert codes[-1] == 429
    socket = socket_for(people["owner"])
    acks = [socket.emit("join_conversation", "bad", callback=True) for _ in range(11)]
    assert acks[-1] == {"error": "Rate limit exceeded"}
    assert (logins.moved(), events.moved()) == (1, 1)


def test_the_outbox_backlog_and_its_failures(app, client, headers_for, people, post_webhook):
    conversation = post_webhook(**webhook_body(people["owner"])).get_json()["data"]
    url = f"/api/conversations/{conversation['conversationId']}/messages"
    retries = Meter(client, "inbox_outbox_attempts_total", outcome="retry")
    given_up = Meter(client, "inbox_outbox_attempts_total", outcome="given_up")
    sent = Meter(client, "inbox_outbox_attempts_total", outcome="sent")
    for content in ("refused", "accepted"):
        reply = {"content": content}
        assert client.post(url, json=reply, headers=headers_for(people["owner"])).status_code == 201
    assert value(scrape(client), "inbox_outbox_queued") == 2
    with N8nServer() as n8n:
        n8n.plan["refused"] = [500, 500]
        app.config.update(
            N8N_OUTBOUND_URL=n8n.url, OUTBOUND_MAX_ATTEMPTS=2, OUTBOUND_BACKOFF_SECONDS=0
        )
        while value(scrape(client), "inbox_outbox_queued"):
            sender.send_due()
    samples = scrape(client)
    assert value(samples, "inbox_outbox_failed") == 1
    assert value(samples, "inbox_outbox_overdue_seconds") == 0
    assert (retries.moved(), given_up.moved(), sent.moved()) == (1, 1, 1)


# A message-queue outage, on a real Redis.


def test_a_message_queue_outage_is_counted_and_shown_while_it_lasts(redis_server):
    labels = {"dependency": "redis", "user": "Socket.IO message queue"}
    with fresh_app(REDIS_URL=redis_server.url()) as redis_app:
        owner = create_user("queue-owner@example.com", PASSWORD, "USER")
        client = redis_app.test_client()

        def webhook(n: int) -> int:
            body = webhook_body(owner, message_id=f"wamid.queue-{n}")
            headers = {"X-Webhook-Secret": WEBHOOK_SECRET}
            return client.post("/api/webhooks/n8n/message", json=body, headers=headers).status_code

        outages = Meter(client, "inbox_dependency_outages_total", **labels)
        redis_server.stop()
        try:
            assert webhook(1) == 201  # stored; its emit is held back
            samples = scrape(client)
        finally:
            redis_server.start()
        assert value(samples, "inbox_dependency_down", **labels) == 1
        assert value(samples, "inbox_message_queue_held_events") == 1
        assert outages.moved() == 1
        # Redis is back: the next publish goes through and the held one with it.
        deadline = time.monotonic() + 10
        while value(scrape(client), "inbox_dependency_down", **labels):
            assert time.monotonic() < deadline, "the outage never ended"
            webhook(int(time.monotonic() * 1000))
            time.sleep(0.3)
        assert value(scrape(client), "inbox_message_queue_held_events") == 0
        assert outages.moved() == 1
