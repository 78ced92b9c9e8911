"""The outbox and its sender, against a real local HTTP server playing n8n."""

import sqlite3
import time

import pytest
from sqlalchemy import event, select, update

from app import create_app
from app.extensions import db
from app.models import Event, Message, OutboundDelivery
from app.outbound import sender
from app.services import outbox
from app.timeutil import utcnow
from tests.conftest import WEBHOOK_SECRET, received, webhook_body
from tests.live_server import free_port
from tests.n8n_server import HANG, N8nServer


@pytest.fixture
def n8n(app):
    """A local n8n the app hands replies to, with a short backoff."""
    with N8nServer() as server:
        app.config.update(
            N8N_OUTBOUND_URL=server.url, OUTBOUND_BACKOFF_SECONDS=0.01, OUTBOUND_MAX_ATTEMPTS=3
        )
        yield server


@pytest.fixture
def send_reply(client, headers_for, people, post_webhook):
    """send_reply(content) -> the stored reply's id, in the owner's conversation."""
    created = post_webhook(**webhook_body(people["owner"], message_id="wamid.IN-1"))
    url = f"/api/conversations/{created.get_json()['data']['conversationId']}/messages"

    def send(content: str = "Yanıt") -> str:
        response = client.post(url, json={"content": content}, headers=headers_for(people["owner"]))
        assert response.status_code == 201
        return response.get_json()["id"]

    return send


@pytest.fixture
def watchers(people, socket_for):
    sockets = {name: socket_for(user) for name, user in people.items()}
    for test_client in sockets.values():
        received(test_client)
    return sockets


def message(message_id: str) -> Message:
    query = select(Message).where(Message.id == message_id)
    return db.session.scalar(query.execution_options(populate_existing=True))


def delivery_of(message_id: str) -> OutboundDelivery:
    query = select(OutboundDelivery).join(Message).where(Message.id == message_id)
    return db.session.scalar(query.execution_options(populate_existing=True))


def make_due(message_id: str) -> None:
    """Move the row's next attempt to now: stands in for the backoff or lease passing."""
    db.session.execute(
        update(OutboundDelivery)
        .where(OutboundDelivery.id == delivery_of(message_id).id)
        .values(next_attempt_at=utcnow())
    )
    db.session.commit()


def send_until_settled(timeout: float = 10) -> None:
    """Run the sender until no row is queued any more (waiting out the short backoffs)."""
    deadline = time.monotonic() + timeout
    while db.session.scalar(select(OutboundDelivery.id).where(OutboundDelivery.state == "queued")):
        assert time.monotonic() < deadline, "the queue did not settle"
        sender.send_due()
        time.sleep(outbox.seconds_until_next(0.05))


# Handing a reply over


def test_reply_is_posted_to_n8n_with_the_contract_body_and_becomes_sent(
    n8n, send_reply, people, watchers
):
    message_id = send_reply("Kargonuz yolda")
    assert sender.send_due() == 1

    (request,) = n8n.requests
    assert request.body == {
        "message_id": message_id,
        "user_id": people["owner"].id,
        "customer_phone": "+905551234567",
        "message_content": "Kargonuz yolda",
        "message_type": "text",
    }
    assert request.headers["X-Webhook-Secret"] == WEBHOOK_SECRET
    stored = message(message_id)
    assert (stored.status, stored.whatsapp_id) == ("sent", "wamid.test-1")
    assert (delivery_of(message_id).state, delivery_of(message_id).attempts) == ("done", 1)
    for name in ("owner", "admin"):
        (payload,) = received(watchers[name])["message_status"]
        assert (payload["messageId"], payload["status"]) == (message_id, "sent")
        assert "error" not in payload
    assert received(watchers["other"]) == {}


def test_nothing_is_sent_again_after_n8n_answered_2xx(n8n, send_reply):
    message_id = send_reply()
    sender.send_due()
    assert sender.send_due() == 0
    assert len(n8n.for_message(message_id)) == 1


def test_refused_attempt_keeps_the_reply_pending_and_retries_after_the_backoff(n8n, send_reply):
    n8n.plan["retry me"] = [500]
    message_id = send_reply("retry me")
    started = utcnow()
    sender.send_due()

    row = delivery_of(message_id)
    assert (row.state, row.attempts) == ("queued", 1)
    assert row.last_error.startswith("n8n answered HTTP 500")
    assert row.next_attempt_at >= started
    assert message(message_id).status == "pending"
    send_until_settled()
    assert message(message_id).status == "sent"
    assert [r.answer for r in n8n.for_message(message_id)] == [500, 200]


def test_backoff_starts_at_the_setting_and_doubles(app, n8n, send_reply):
    app.config.update(OUTBOUND_BACKOFF_SECONDS=10, OUTBOUND_MAX_ATTEMPTS=8)
    n8n.plan["slow"] = [503, 503, 503]
    message_id = send_reply("slow")
    delays = []
    for _ in range(3):
        make_due(message_id)
        before = utcnow()
        sender.send_due()
        delays.append((delivery_of(message_id).next_attempt_at - before).total_seconds())
    assert [round(d) for d in delays] == [10, 20, 40]


def test_after_the_last_try_the_reply_is_failed_with_the_reason(n8n, send_reply, watchers):
    n8n.plan["never"] = [502, 502, 502]
    message_id = send_reply("never")
    send_until_settled()

    stored = message(message_id)
    assert stored.status == "failed"
    assert stored.error.startswith("n8n did not accept the reply after 3 attempts")
    assert "HTTP 502" in stored.error
    assert delivery_of(message_id).state == "failed"
    (payload,) = received(watchers["owner"])["message_status"]
    assert (payload["status"], payload["error"]) == ("failed", stored.error)
    assert len(n8n.for_message(message_id)) == 3
    assert sender.send_due() == 0


def test_unreachable_n8n_is_retried_and_the_reason_names_it(app, send_reply):
    app.config.update(
        N8N_OUTBOUND_URL=f"http://127.0.0.1:{free_port()}/hook",
        OUTBOUND_BACKOFF_SECONDS=0.01,
        OUTBOUND_MAX_ATTEMPTS=2,
    )
    message_id = send_reply()
    send_until_settled()
    assert message(message_id).status == "failed"
    assert "n8n unreachable" in message(message_id).error


def test_without_n8n_url_the_reason_says_so(app, send_reply):
    app.config.update(N8N_OUTBOUND_URL="", OUTBOUND_MAX_ATTEMPTS=1)
    message_id = send_reply()
    sender.send_due()
    assert "N8N_OUTBOUND_URL is not configured" in message(message_id).error


def test_a_whatsapp_id_another_message_has_is_not_stored_twice(
    n8n, send_reply, post_webhook, people
):
    post_webhook(**webhook_body(people["owner"], message_id="wamid.test-1"))
    message_id = send_reply()
    sender.send_due()
    assert (message(message_id).status, message(message_id).whatsapp_id) == ("sent", None)


# Claims and crashes


def test_one_attempt_is_claimed_by_one_sender_only(n8n, send_reply):
    message_id = send_reply()
    row_id = delivery_of(message_id).id
    first = outbox.claim(row_id)
    assert first is not None and first.number == 1
    assert outbox.claim(row_id) is None
    assert outbox.due_ids(10) == []


def test_a_sender_dying_mid_attempt_only_delays_the_reply(n8n, send_reply):
    message_id = send_reply()
    outbox.claim(delivery_of(message_id).id)  # ...and the process dies here.
    assert sender.send_due() == 0
    make_due(message_id)  # the lease ran out
    assert sender.send_due() == 1
    assert message(message_id).status == "sent"
    assert delivery_of(message_id).attempts == 2


def test_an_outrun_claim_does_not_overwrite_the_newer_attempt(n8n, send_reply):
    message_id = send_reply()
    stale = outbox.claim(delivery_of(message_id).id)
    make_due(message_id)
    current = outbox.claim(delivery_of(message_id).id)
    outbox.record_failure(stale, "late news from a slow sender")
    row = delivery_of(message_id)
    assert (row.attempts, row.last_error) == (current.number, None)


def test_2xx_after_a_later_status_does_not_move_it_back(n8n, send_reply, client):
    message_id = send_reply()
    attempt = outbox.claim(delivery_of(message_id).id)
    status = {"message_id": message_id, "status": "delivered"}
    client.post(
        "/api/webhooks/n8n/status", json=status, headers={"X-Webhook-Secret": WEBHOOK_SECRET}
    )
    outbox.record_success(attempt, "wamid.late")
    assert message(message_id).status == "delivered"
    assert delivery_of(message_id).state == "done"
    status_events = db.session.scalars(select(Event).where(Event.name == "message_status"))
    assert [e.data["status"] for e in status_events] == ["delivered"]


def test_n8n_holding_the_request_past_the_timeout_is_a_failed_attempt(app, n8n, send_reply):
    app.config.update(OUTBOUND_TIMEOUT_SECONDS=0.3)
    n8n.plan["hold"] = [HANG]
    message_id = send_reply("hold")
    sender.send_due()
    n8n.release()
    row = delivery_of(message_id)
    assert (row.state, row.attempts) == ("queued", 1)
    assert "n8n unreachable" in row.last_error and "timed out" in row.last_error


# Retry and the CLI


def test_retry_brings_a_failed_reply_back_to_pending_and_it_goes_out(
    n8n, send_reply, runner, watchers
):
    n8n.plan["again"] = [500, 500, 500]
    message_id = send_reply("again")
    send_until_settled()
    received(watchers["owner"])

    result = runner.invoke(args=["outbox", "retry", message_id])
    assert result.exit_code == 0, result.output
    assert (message(message_id).status, message(message_id).error) == ("pending", None)
    assert delivery_of(message_id).attempts == 0
    send_until_settled()
    assert message(message_id).status == "sent"
    statuses = [e["status"] for e in received(watchers["owner"])["message_status"]]
    assert statuses == ["pending", "sent"]


def test_retry_refuses_a_reply_that_has_not_failed(n8n, send_reply, runner):
    message_id = send_reply()
    result = runner.invoke(args=["outbox", "retry", message_id])
    assert result.exit_code != 0
    assert "not a failed reply" in result.output
    assert runner.invoke(args=["outbox", "retry", "msg_unknown"]).exit_code != 0


def test_outbox_run_once_and_status_commands(n8n, send_reply, runner):
    send_reply()
    send_reply()
    assert runner.invoke(args=["outbox", "status"]).output.splitlines()[0] == "queued: 2"
    assert runner.invoke(args=["outbox", "run", "--once"]).output.strip() == "2 attempt(s) made"
    assert "done: 2" in runner.invoke(args=["outbox", "status"]).output
    assert len(n8n.requests) == 2


def test_a_new_reply_wakes_the_sender(app, send_reply):
    wakeup = outbox.wakeup_event(app)
    wakeup.clear()
    send_reply()
    assert wakeup.is_set()


# The database down


def test_a_sender_pass_with_the_database_locked_loses_nothing(tmp_path, fast_password_hashes):
    app = create_app(
        {"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/inbox.db"}
    )
    with app.app_context(), N8nServer() as n8n:

        @event.listens_for(db.engine, "connect")
        def _short_busy_timeout(dbapi_connection, _record):
            dbapi_connection.execute("PRAGMA busy_timeout=100")

        db.create_all()
        app.config["N8N_OUTBOUND_URL"] = n8n.url
        try:
            _locked_pass(app, tmp_path / "inbox.db", n8n)
        finally:
            db.session.remove()
            db.engine.dispose()


def _locked_pass(app, path, n8n) -> None:
    from app.services import auth as auth_service
    from app.services.users import create_user
    from tests.conftest import PASSWORD

    user = create_user("sender-locked@example.com", PASSWORD)
    client = app.test_client()
    headers = {"X-Webhook-Secret": WEBHOOK_SECRET}
    created = client.post("/api/webhooks/n8n/message", json=webhook_body(user), headers=headers)
    url = f"/api/conversations/{created.get_json()['data']['conversationId']}/messages"
    token = auth_service.issue_tokens(user)["accessToken"]
    reply = client.post(url, json={"content": "x"}, headers={"Authorization": f"Bearer {token}"})
    message_id = reply.get_json()["id"]

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        assert sender.tick(app) == sender.POLL_SECONDS
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert n8n.requests == []
    sender.tick(app)
    assert [r.message_id for r in n8n.requests] == [message_id]
    assert message(message_id).status == "sent"
