"""Replies through a real server to a real local n8n: retries, restarts, crashes, statuses."""

import itertools

import pytest
import requests

from tests.clients import JsClient, PyClient
from tests.live_server import WEBHOOK_SECRET, LiveServer
from tests.n8n_server import HANG, N8nServer

_customers = itertools.count(1)


@pytest.fixture(scope="module")
def n8n():
    with N8nServer() as server:
        yield server


@pytest.fixture(scope="module")
def server(n8n):
    live = LiveServer(
        env={
            "N8N_OUTBOUND_URL": n8n.url,
            "OUTBOUND_BACKOFF_SECONDS": "0.2",
            "OUTBOUND_MAX_ATTEMPTS": "8",
            "OUTBOUND_TIMEOUT_SECONDS": "1",
        }
    ).start()
    live.owner_id = live.create_user("owner@example.com")
    live.create_user("admin@example.com", role="ADMIN")
    yield live
    live.close()


def token(server, email="owner@example.com") -> str:
    return server.login(email)["accessToken"]


def conversation(server) -> int:
    """A new conversation of the owner, started by an inbound message."""
    body = {
        "user_id": server.owner_id,
        "customer_name": "Zeynep",
        "customer_phone": f"+90555{next(_customers):07d}",
        "message_content": "Merhaba",
    }
    return server.post_webhook(body).json()["data"]["conversationId"]


def post_reply(server, conversation_id: int, content: str, **fields) -> requests.Response:
    return requests.post(
        f"{server.url}/api/conversations/{conversation_id}/messages",
        json={"content": content, **fields},
        headers={"Authorization": f"Bearer {token(server)}"},
        timeout=10,
    )


def post_status(server, message_id: str, status: str) -> requests.Response:
    return requests.post(
        f"{server.url}/api/webhooks/n8n/status",
        json={"message_id": message_id, "status": status},
        headers={"X-Webhook-Secret": WEBHOOK_SECRET},
        timeout=10,
    )


def stored_reply(server, conversation_id: int, message_id: str) -> dict:
    """The reply as the REST listing shows it."""
    page = server.get(f"/api/conversations/{conversation_id}/messages", token(server)).json()
    return next(m for m in page if m["id"] == message_id)


def crash(server) -> None:
    """SIGKILL gunicorn's master and its worker: a crash, not a shutdown."""
    server.stop(kill=True)


def statuses_for(client: PyClient, message_id: str) -> list[str]:
    return [e["status"] for e in client.of("message_status") if e["messageId"] == message_id]


def wait_status(client: PyClient, message_id: str, status: str, timeout: float = 20) -> None:
    """Block until the client received `status` for the message."""
    count = 1
    while status not in statuses_for(client, message_id):
        client.wait_for("message_status", count, timeout)
        count += 1


def test_flaky_n8n_reply_ends_sent_and_is_posted_once_after_its_first_2xx(server, n8n):
    n8n.plan["flaky"] = [503, 500, 502]
    conversation_id = conversation(server)
    owner = PyClient(server.url, token(server))
    try:
        response = post_reply(server, conversation_id, "flaky", clientMessageId="flaky-1")
        assert (response.status_code, response.json()["status"]) == (201, "pending")
        message_id = response.json()["id"]
        assert owner.wait_for("new_message")[0]["id"] == message_id
        wait_status(owner, message_id, "sent")

        # The client retries after a timeout: same reply, nothing new for n8n.
        again = post_reply(server, conversation_id, "flaky", clientMessageId="flaky-1")
        assert (again.status_code, again.json()["id"]) == (200, message_id)
        # A later reply going through shows the sender has moved past the first.
        marker = post_reply(server, conversation_id, "marker").json()["id"]
        wait_status(owner, marker, "sent")

        assert [r.answer for r in n8n.for_message(message_id)] == [503, 500, 502, 200]
        assert len(n8n.accepted(message_id)) == 1
        assert statuses_for(owner, message_id) == ["sent"]
        assert stored_reply(server, conversation_id, message_id)["status"] == "sent"
        assert server.flask("outbox", "status").splitlines()[0] == "queued: 0"
    finally:
        owner.close()


def test_status_sequence_sent_read_delivered_ends_read_with_two_events(server, n8n):
    conversation_id = conversation(server)
    owner = PyClient(server.url, token(server))
    admin = JsClient(server.url, token(server, "admin@example.com"))
    admin.wait_for(lambda line: line["type"] == "connect")
    try:
        message_id = post_reply(server, conversation_id, "status sequence").json()["id"]
        wait_status(owner, message_id, "sent")  # n8n took it: the first event
        (accepted,) = n8n.accepted(message_id)

        # n8n reports by the WhatsApp id it answered with.
        answers = [
            post_status(server, accepted.whatsapp_id, s) for s in ("sent", "read", "delivered")
        ]
        assert [a.json()["changed"] for a in answers] == [False, True, False]
        wait_status(owner, message_id, "read")
        assert stored_reply(server, conversation_id, message_id)["status"] == "read"
        assert statuses_for(owner, message_id) == ["sent", "read"]
        assert admin.wait_event("message_status")["status"] == "sent"
        assert admin.wait_event("message_status")["status"] == "read"
    finally:
        owner.close()
        admin.close()


def test_status_events_are_replayed_after_a_reconnect(server):
    conversation_id = conversation(server)
    owner = PyClient(server.url, token(server))
    message_id = post_reply(server, conversation_id, "replay me").json()["id"]
    wait_status(owner, message_id, "sent")
    last_seen = owner.of("message_status")[-1]["eventId"]
    owner.close()

    post_status(server, message_id, "delivered")
    post_status(server, message_id, "read")
    again = PyClient(server.url, token(server), last_event_id=last_seen)
    try:
        after = again.wait_after("message_status", last_seen, 2)
        assert [(e["messageId"], e["status"]) for e in after] == [
            (message_id, "delivered"),
            (message_id, "read"),
        ]
    finally:
        again.close()


def test_reply_waiting_in_the_queue_survives_a_server_restart(server, n8n):
    n8n.plan["through a restart"] = [503] * 1000
    conversation_id = conversation(server)
    message_id = post_reply(server, conversation_id, "through a restart").json()["id"]
    n8n.wait_for(lambda requests_: any(r.message_id == message_id for r in requests_))

    server.restart()
    n8n.plan["through a restart"] = []  # n8n is back
    n8n.wait_for(lambda _: n8n.accepted(message_id), timeout=30)
    assert len(n8n.accepted(message_id)) == 1
    assert stored_reply(server, conversation_id, message_id)["status"] == "sent"


def test_reply_survives_the_server_being_killed_in_the_middle_of_the_hand_off(server, n8n):
    n8n.plan["crash"] = [HANG]
    conversation_id = conversation(server)
    message_id = post_reply(server, conversation_id, "crash").json()["id"]
    assert n8n.hanging.wait(10)

    crash(server)
    n8n.release()
    server.start()
    # n8n never answered 2xx, so once the dead sender's lease runs out it is sent again.
    n8n.wait_for(lambda _: n8n.accepted(message_id), timeout=30)
    assert [r.answer for r in n8n.for_message(message_id)] == [503, 200]
    assert stored_reply(server, conversation_id, message_id)["status"] == "sent"
