"""n8n down throughout: the reply ends `failed` with the reason, and a retry queues it again."""

import pytest
import requests

from tests.clients import PyClient
from tests.live_server import LiveServer, free_port

MAX_ATTEMPTS = 3


@pytest.fixture(scope="module")
def server():
    live = LiveServer(
        env={
            # Nothing listens there: every attempt is refused.
            "N8N_OUTBOUND_URL": f"http://127.0.0.1:{free_port()}/webhook/reply",
            "OUTBOUND_BACKOFF_SECONDS": "0.2",
            "OUTBOUND_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
        }
    ).start()
    live.owner_id = live.create_user("owner@example.com")
    live.token = live.login("owner@example.com")["accessToken"]
    yield live
    live.close()


def post_reply(server, conversation_id: int, **body) -> requests.Response:
    return requests.post(
        f"{server.url}/api/conversations/{conversation_id}/messages",
        json=body,
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=10,
    )


def test_reply_to_an_unreachable_n8n_ends_failed_with_the_reason(server):
    created = server.post_webhook(
        {
            "user_id": server.owner_id,
            "customer_name": "Emre",
            "customer_phone": "+905550000099",
            "message_content": "Merhaba",
        }
    )
    conversation_id = created.json()["data"]["conversationId"]
    owner = PyClient(server.url, server.token)
    try:
        body = {"content": "Ulaşamayacak", "clientMessageId": "down-1"}
        reply = post_reply(server, conversation_id, **body)
        assert reply.json()["status"] == "pending"
        message_id = reply.json()["id"]

        (failed,) = owner.wait_for("message_status", timeout=20)
        assert (failed["messageId"], failed["status"]) == (message_id, "failed")
        assert f"after {MAX_ATTEMPTS} attempts" in failed["error"]
        assert "n8n unreachable" in failed["error"]

        again = post_reply(server, conversation_id, **body)
        assert again.status_code == 200
        assert (again.json()["status"], again.json()["error"]) == ("failed", failed["error"])
        page = server.get(f"/api/conversations/{conversation_id}/messages", server.token).json()
        assert page[-1]["status"] == "failed" and page[-1]["error"] == failed["error"]
        queue = server.flask("outbox", "status").splitlines()
        assert queue == ["queued: 0", "done: 0", "failed: 1"]

        # An operator's retry (another process) queues it again; the server's
        # sender picks it up and, n8n still down, it fails again.
        assert server.flask("outbox", "retry", message_id).strip() == f"{message_id} queued again"
        owner.wait_for("message_status", 2, timeout=20)
        log = server.get("/api/events", server.token).json()["events"]
        statuses = [e["data"]["status"] for e in log if e["event"] == "message_status"]
        assert statuses == ["failed", "pending", "failed"]
    finally:
        owner.close()
