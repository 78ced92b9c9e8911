"""The WhatsApp Cloud API channel on a real gunicorn server, against a local Graph API stand-in.

Meta's signed webhook brings a customer's message; the agent replies over REST;
the server's own sender (OUTBOUND_TRANSPORT=whatsapp) sends it to the Graph
API, retrying a refusal from a crash-safe queue; Meta's statuses move it on.
"""

import pytest
import requests

from tests import graph_server
from tests import whatsapp_payloads as meta
from tests.clients import PyClient
from tests.graph_server import GraphServer
from tests.live_server import LiveServer


@pytest.fixture(scope="module")
def graph():
    with GraphServer() as server:
        yield server


@pytest.fixture(scope="module")
def server(graph):
    live = LiveServer(
        env={
            "OUTBOUND_TRANSPORT": "whatsapp",
            "WHATSAPP_GRAPH_URL": graph.url,
            "WHATSAPP_GRAPH_VERSION": graph_server.VERSION,
            "WHATSAPP_ACCESS_TOKEN": graph_server.TOKEN,
            "WHATSAPP_APP_SECRET": meta.APP_SECRET,
            "WHATSAPP_VERIFY_TOKEN": meta.VERIFY_TOKEN,
            "OUTBOUND_BACKOFF_SECONDS": "0.2",
            "OUTBOUND_TIMEOUT_SECONDS": "2",
        }
    ).start()
    live.owner_id = live.create_user("cloud-owner@example.com")
    live.flask("numbers", "add", meta.PHONE_NUMBER_ID, "--user", "cloud-owner@example.com")
    yield live
    live.close()


def post_envelope(server, *changes) -> requests.Response:
    raw, headers = meta.signed(meta.envelope(*changes))
    return requests.post(
        server.url + "/api/webhooks/whatsapp", data=raw, headers=headers, timeout=10
    )


def test_handshake_on_the_live_server(server):
    query = {"hub.mode": "subscribe", "hub.verify_token": meta.VERIFY_TOKEN, "hub.challenge": "42"}
    response = requests.get(server.url + "/api/webhooks/whatsapp", params=query, timeout=10)
    assert (response.status_code, response.text) == (200, "42")


def test_message_in_reply_out_statuses_back(server, graph):
    token = server.login("cloud-owner@example.com")["accessToken"]
    owner = PyClient(server.url, token)
    try:
        assert post_envelope(server, meta.change([meta.text("Sipariş?")])).status_code == 200
        inbound = owner.wait_for("new_message")[0]
        assert inbound["customerPhone"] == "+905551110000"

        graph.plan["Yolda."] = [503]  # the first send fails; the queue retries it
        reply = requests.post(
            f"{server.url}/api/conversations/{inbound['conversationId']}/messages",
            json={"content": "Yolda."},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert reply.status_code == 201
        reply_id = reply.json()["id"]
        sent = owner.wait_for("message_status")[0]
        assert (sent["messageId"], sent["status"]) == (reply_id, "sent")
        sends = [r for r in graph.sends() if r.key == "Yolda."]
        assert [r.answer for r in sends] == [503, 200]
        assert sends[-1].body["to"] == "+905551110000"

        wamid = "wamid.graph-1"  # the stand-in's first 2xx
        read = meta.status(wamid, "read")
        assert post_envelope(server, meta.change(statuses=[read])).json()["statuses"] == 1
        assert owner.wait_for("message_status", 2)[1]["status"] == "read"
    finally:
        owner.close()
