"""A Redis outage inside one app: what keeps working, what answers 503, what is held back,
and how the event log makes up for what the message queue missed.

The multi-process version of the same faults is tests/integration/test_scale_faults.py.
"""

import json
import time

import pytest
import redis

from app import create_app
from app.extensions import db
from app.realtime.message_queue import RecoveringRedisManager, channel_for, durable_event_id
from app.realtime.recovery import DeliveryLedger, missed_events
from app.redis_support import command_client
from app.services.users import create_user
from tests.conftest import PASSWORD, WEBHOOK_SECRET, webhook_body


@pytest.fixture
def redis_url(redis_server):
    if redis_server.process is None:
        redis_server.start()
    return redis_server.url()


@pytest.fixture
def redis_app(redis_url):
    """An app with REDIS_URL on the private Redis (its queue manager, presence, limits)."""
    app = create_app({"CONFIG": "testing", "REDIS_URL": redis_url})
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def add_user(redis_app):
    """add_user(role) -> a user in redis_app's database (make_user serves the `app` fixture)."""
    emails = iter(range(1, 100))
    return lambda role="USER": create_user(f"outage{next(emails)}@example.com", PASSWORD, role)


def durable(event_id, rooms=("user:1", "admin")) -> dict:
    """A queue message as broadcast.publish produces it."""
    return {
        "method": "emit",
        "event": "new_message",
        "data": [{"eventId": event_id}],
        "room": list(rooms),
        "namespace": "/",
        "host_id": "x",
    }


# What counts as a durable broadcast, and the channel.


def test_only_broadcasts_with_an_event_id_to_rooms_are_durable():
    assert durable_event_id(durable(5)) == 5
    replay = {**durable(5), "room": "some-sid"}
    typing = {**durable(5), "event": "user_typing", "data": [{"isTyping": True}]}
    assert durable_event_id(replay) is None
    assert durable_event_id(typing) is None
    assert durable_event_id({**durable(5), "data": [{"eventId": True}]}) is None
    assert durable_event_id({"method": "disconnect", "sid": "x"}) is None


def test_each_logical_database_gets_its_own_channel():
    assert channel_for("redis://h:6379") == "flask-socketio"
    assert channel_for("redis://h:6379/0") == "flask-socketio"
    assert channel_for("rediss://u:p@h:6380/3") == "flask-socketio-db3"


def test_rediss_certificate_checks_can_be_skipped_for_heroku_redis():
    checked = command_client("rediss://u:p@redis.example:6380/0")
    unchecked = command_client("rediss://u:p@redis.example:6380/0", verify_tls=False)
    plain = command_client("redis://redis.example:6379/0", verify_tls=False)
    assert "ssl_cert_reqs" not in checked.connection_pool.connection_kwargs  # redis-py: required
    assert unchecked.connection_pool.connection_kwargs["ssl_cert_reqs"] is None
    assert "ssl_cert_reqs" not in plain.connection_pool.connection_kwargs


# The ledger.


def test_the_ledger_lets_each_event_through_once():
    ledger = DeliveryLedger()
    assert ledger.claim(1)
    assert not ledger.claim(1)
    assert ledger.claim(2)


def test_the_floor_is_the_last_event_delivered_before_the_cutoff():
    ledger = DeliveryLedger()
    ledger.claim(10)
    ledger.claim(12)
    cutoff = time.monotonic()
    ledger.claim(11)
    assert ledger.floor(cutoff, baseline=3) == 12
    assert ledger.floor(cutoff - 60, baseline=3) == 3


def test_a_held_ledger_forgets_nothing_until_released():
    ledger = DeliveryLedger()
    ledger.RETENTION_SECONDS = 0.0
    ledger.hold()
    ledger.claim(1)
    ledger.claim(2)
    assert not ledger.claim(1)
    ledger.release()
    ledger.claim(3)  # prunes everything older than the retention
    assert ledger.claim(1)
    assert ledger.floor(time.monotonic(), baseline=0) >= 2


def test_a_held_ledger_still_stays_within_its_size_limit():
    ledger = DeliveryLedger()
    ledger.MAX_ENTRIES = 3
    ledger.hold()
    for event_id in range(1, 6):
        ledger.claim(event_id)
    assert [ledger.claim(i) for i in (5, 4, 3)] == [False, False, False]
    assert ledger.claim(1)  # forgotten to keep memory bounded


# Recovery from the event log.


def test_missed_events_are_the_logged_ones_not_yet_delivered(app, make_user, post_webhook):
    user = make_user()
    ids = [
        post_webhook(**webhook_body(user, message_content=f"m{n}")).get_json()["data"]["id"]
        for n in range(4)
    ]
    ledger = DeliveryLedger()
    ledger.claim(2)
    missed = missed_events(app, 0, ledger, limit=10)
    assert [e.id for e in missed] == [1, 3, 4]
    assert [e.data["id"] for e in missed] == [ids[0], ids[2], ids[3]]
    assert missed_events(app, 0, ledger, limit=10) == []  # claimed: never sent twice


def test_more_missed_than_the_limit_is_reported_as_limit_plus_one(app, make_user, post_webhook):
    user = make_user()
    for n in range(5):
        post_webhook(**webhook_body(user, message_content=f"m{n}"))
    assert len(missed_events(app, 0, DeliveryLedger(), limit=3)) == 4


# Publishing while Redis is down.


def test_a_durable_emit_is_held_while_redis_is_down_and_published_after(redis_app, redis_server):
    manager = RecoveringRedisManager(redis_server.url(), redis_app)
    redis_server.stop()
    started = time.monotonic()
    manager._publish(durable(1))
    manager._publish({**durable(2), "event": "user_typing", "data": [{"isTyping": True}]})
    manager._publish(durable(3))
    assert time.monotonic() - started < 1.0  # never holds a webhook up
    assert manager.held_count() == 2  # the typing event is stale by the time Redis is back
    redis_server.start()
    subscriber = redis.Redis.from_url(redis_server.url()).pubsub()
    subscriber.subscribe(manager.channel)
    subscriber.get_message(timeout=2)  # the subscribe confirmation
    assert manager.publish_held() == 0
    received = [json.loads(subscriber.get_message(timeout=2)["data"]) for _ in range(2)]
    assert [m["data"][0]["eventId"] for m in received] == [1, 3]


# The REST surface while Redis is down.


def test_webhooks_keep_answering_201_while_redis_is_down(redis_app, redis_server, add_user):
    user = add_user()
    client = redis_app.test_client()
    redis_server.stop()
    started = time.monotonic()
    for n in range(5):
        response = client.post(
            "/api/webhooks/n8n/message",
            json=webhook_body(user, message_content=f"down {n}", message_id=f"wamid.down-{n}"),
            headers={"X-Webhook-Secret": WEBHOOK_SECRET},
        )
        assert response.status_code == 201, response.get_data(as_text=True)
    assert time.monotonic() - started < 3.0
    events = client.get("/api/events?after=0", headers=bearer(client, user)).get_json()
    assert len(events["events"]) == 5  # all in the log, for the recovery and for replays


def bearer(client, user) -> dict:
    token = client.post(
        "/api/auth/login", json={"email": user.email, "password": PASSWORD}
    ).get_json()["accessToken"]
    return {"Authorization": f"Bearer {token}"}


def test_health_and_presence_answer_503_naming_redis(redis_app, redis_server, add_user):
    admin = add_user("ADMIN")
    client = redis_app.test_client()
    headers = bearer(client, admin)
    assert client.get("/health").get_json()["messageQueue"] == "redis"
    redis_server.stop()
    health = client.get("/health")
    assert health.status_code == 503
    assert health.get_json()["messageQueue"] == "unavailable"
    assert "messageQueue" in health.get_json()["error"]["message"]
    status = client.get("/api/realtime/status", headers=headers)
    assert status.status_code == 503
    assert status.get_json()["error"]["code"] == "service_unavailable"


def test_logins_work_and_stay_limited_while_redis_is_down(redis_app, redis_server, add_user):
    user = add_user()
    client = redis_app.test_client()
    redis_server.stop()
    assert (
        client.post("/api/auth/login", json={"email": user.email, "password": PASSWORD}).status_code
        == 200
    )
    codes = [
        client.post("/api/auth/login", json={"email": user.email, "password": "wrong"}).status_code
        for _ in range(11)
    ]
    assert codes == [401] * 10 + [429]
