"""POST /api/messages/<id>/retry: a failed reply queued again, owner or admin only."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboundDelivery
from tests.conftest import WEBHOOK_SECRET, received, webhook_body


@pytest.fixture
def failed_reply(client, headers_for, people, post_webhook):
    """A reply of the owner that n8n reported failed."""
    created = post_webhook(**webhook_body(people["owner"], message_id="wamid.IN-retry"))
    conversation_id = created.get_json()["data"]["conversationId"]
    reply = client.post(
        f"/api/conversations/{conversation_id}/messages",
        json={"content": "Kargonuz yolda"},
        headers=headers_for(people["owner"]),
    ).get_json()
    response = client.post(
        "/api/webhooks/n8n/status",
        json={"message_id": reply["id"], "status": "failed", "error": "number not on WhatsApp"},
        headers={"X-Webhook-Secret": WEBHOOK_SECRET},
    )
    assert response.status_code == 200
    return reply["id"]


def retry(client, headers, message_id):
    return client.post(f"/api/messages/{message_id}/retry", headers=headers)


def test_retry_makes_a_failed_reply_pending_again_and_queues_it(
    client, headers_for, people, failed_reply, socket_for
):
    admin_socket = socket_for(people["admin"])
    received(admin_socket)
    response = retry(client, headers_for(people["owner"]), failed_reply)
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == failed_reply and body["status"] == "pending"
    assert "error" not in body or body["error"] is None
    (status_event,) = received(admin_socket)["message_status"]
    assert status_event["messageId"] == failed_reply and status_event["status"] == "pending"
    row = db.session.scalar(select(OutboundDelivery))
    assert row.state == "queued" and row.attempts == 0


def test_an_admin_may_retry(client, headers_for, people, failed_reply):
    assert retry(client, headers_for(people["admin"]), failed_reply).status_code == 200


def test_retry_of_a_reply_that_did_not_fail_is_409_and_changes_nothing(
    client, headers_for, people, failed_reply
):
    assert retry(client, headers_for(people["owner"]), failed_reply).status_code == 200
    again = retry(client, headers_for(people["owner"]), failed_reply)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "conflict"


def test_someone_elses_reply_is_403_and_unknown_is_404(client, headers_for, people, failed_reply):
    refused = retry(client, headers_for(people["other"]), failed_reply)
    assert refused.status_code == 403
    assert retry(client, headers_for(people["owner"]), "msg_unknown").status_code == 404
    assert retry(client, {}, failed_reply).status_code == 401
