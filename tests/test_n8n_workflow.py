"""docs/n8n/whatsapp-inbox-workflow.json: the n8n workflow for teams that keep n8n.

Its mapping (the Code node's JavaScript) runs under Node.js on Meta's envelopes,
and what it produces is posted to the inbox's n8n webhooks.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Conversation, Message
from app.services import replies
from tests import whatsapp_payloads as meta
from tests.conftest import WEBHOOK_SECRET

pytestmark = pytest.mark.usefixtures("fast_password_hashes")

WORKFLOW = Path(__file__).resolve().parents[1] / "docs" / "n8n" / "whatsapp-inbox-workflow.json"


def workflow() -> dict:
    return json.loads(WORKFLOW.read_text())


def run_mapping(change_values: list[dict], user_id: int) -> list[dict]:
    """The Code node's output for these WhatsApp Trigger items, as n8n would run it."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    code = next(n for n in workflow()["nodes"] if n["type"] == "n8n-nodes-base.code")
    script = (
        f"const $input = {{ all: () => {json.dumps([{'json': v} for v in change_values])} }};\n"
        f"const $env = {{ INBOX_USER_ID: '{user_id}' }};\n"
        f"const result = (() => {{ {code['parameters']['jsCode']} }})();\n"
        "process.stdout.write(JSON.stringify(result));"
    )
    done = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return [item["json"] for item in json.loads(done.stdout)]


def test_every_connection_names_a_node_of_the_workflow():
    found = workflow()
    names = {node["name"] for node in found["nodes"]}
    for source, outputs in found["connections"].items():
        assert source in names
        for branch in outputs["main"]:
            assert {target["node"] for target in branch} <= names


def test_the_mapping_turns_metas_messages_into_stored_messages(client, people):
    owner = people["owner"]
    first = meta.text("Merhaba")
    value = meta.change(
        [
            first,
            meta.location(context={"from": meta.CUSTOMER, "id": first["id"]}),
            meta.button_reply(),
            meta.unsupported(),
            meta.reaction(first["id"], "\u2764"),
        ]
    )["value"]
    mapped = run_mapping([value], owner.id)
    assert [item["kind"] for item in mapped] == ["message"] * 5
    for item in mapped:
        response = client.post(
            "/api/webhooks/n8n/message",
            json=item["body"],
            headers={"X-Webhook-Secret": WEBHOOK_SECRET},
        )
        assert response.status_code in (200, 201), response.get_json()  # a reaction: 200
    conversation = db.session.scalar(select(Conversation))
    assert conversation.customer_phone == "+905551110000"
    assert conversation.customer_name == "Ayşe Kaya"
    stored = list(db.session.scalars(select(Message).order_by(Message.seq)))
    assert [m.message_type for m in stored] == ["text", "location", "interactive", "unsupported"]
    assert stored[1].reply_to == stored[0].id
    assert stored[1].location_dict["latitude"] == 41.0082
    assert json.loads(stored[0].reactions) == {"\u2764": 1}


def test_the_mapping_turns_a_failed_status_into_the_status_webhook(client, people):
    owner = people["owner"]
    text = meta.change([meta.text("Merhaba")])["value"]
    [item] = run_mapping([text], owner.id)
    client.post(
        "/api/webhooks/n8n/message", json=item["body"], headers={"X-Webhook-Secret": WEBHOOK_SECRET}
    )
    sent, _ = replies.create(db.session.scalar(select(Conversation)), owner, "Yanıt", None)
    reply = db.session.scalar(select(Message).where(Message.id == sent.id))
    reply.whatsapp_id = "wamid.n8n-reply"
    db.session.commit()
    error = meta.meta_error(131026, "Message undeliverable", "Unable to deliver the message.")
    value = meta.change(statuses=[meta.status("wamid.n8n-reply", "failed", error=error)])["value"]
    [status] = run_mapping([value], owner.id)
    assert status["kind"] == "status"
    response = client.post(
        "/api/webhooks/n8n/status",
        json=status["body"],
        headers={"X-Webhook-Secret": WEBHOOK_SECRET},
    )
    assert response.status_code == 200
    assert response.get_json()["data"]["status"] == "failed"
    assert "131026 Message undeliverable" in response.get_json()["data"]["error"]
