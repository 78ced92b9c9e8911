"""Agents' attachments over a live server: python-socketio uploads in chunks with
progress to every tab, a resumed upload after the socket is cut, the REST
multipart fallback, and the reply handed to n8n with a media_url it can fetch."""

import json
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests import media_samples as samples
from tests.clients import ROOT, PyClient
from tests.live_server import LiveServer
from tests.n8n_server import N8nServer


@pytest.fixture(scope="module")
def n8n():
    with N8nServer() as server:
        yield server


@pytest.fixture(scope="module")
def server(n8n, tmp_path_factory):
    media_root = tmp_path_factory.mktemp("media")
    live = LiveServer(
        env={
            "N8N_OUTBOUND_URL": n8n.url,
            "MEDIA_ROOT": str(media_root),
            "OUTBOUND_BACKOFF_SECONDS": "0.2",
        }
    ).start()
    live.media_root = media_root
    live.owner_id = live.create_user("owner@example.com")
    live.other_id = live.create_user("other@example.com")
    live.owner_token = live.login("owner@example.com")["accessToken"]
    live.other_token = live.login("other@example.com")["accessToken"]
    body = {
        "user_id": live.owner_id,
        "customer_name": "Ayşe",
        "customer_phone": "+905550000001",
        "message_content": "Faturayı gönderir misiniz?",
    }
    live.conversation_id = live.post_webhook(body).json()["data"]["conversationId"]
    yield live
    live.close()


@pytest.fixture
def clients():
    made = []

    def make(url, token):
        client = PyClient(url, token)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def start(client, server, data: bytes, name="fatura.pdf", mime="application/pdf"):
    return client.call(
        "upload_start",
        {
            "conversationId": server.conversation_id,
            "filename": name,
            "mimeType": mime,
            "size": len(data),
        },
    )


def send_chunks(client, upload_id, data, offset, chunk_size, stop_at=None):
    while offset < (stop_at or len(data)):
        ack = client.call(
            "upload_chunk",
            {"uploadId": upload_id, "offset": offset, "data": data[offset : offset + chunk_size]},
        )
        assert ack.get("ok"), ack
        offset = ack["received"]
    return offset


def wait_for_request(n8n, message_id, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for request in n8n.requests:
            if request.message_id == message_id:
                return request
        time.sleep(0.05)
    raise TimeoutError(f"n8n never got {message_id}")


def test_upload_with_progress_resume_and_hand_off(server, n8n, clients):
    data = samples.png(900, 700) + b""  # a real image, several chunks long
    first_tab = clients(server.url, server.owner_token)
    second_tab = clients(server.url, server.owner_token)
    started = start(first_tab, server, data, "foto.png", "image/png")
    assert started["ok"] and started["received"] == 0
    assert started["chunkSize"] == 48 * 1024
    upload_id, chunk_size = started["uploadId"], started["chunkSize"]
    half = send_chunks(first_tab, upload_id, data, 0, chunk_size, stop_at=len(data) // 2)
    progress = second_tab.wait_for("upload_progress", count=half // chunk_size, timeout=30)
    assert progress[-1] == {
        "uploadId": upload_id,
        "conversationId": server.conversation_id,
        "received": half,
        "size": len(data),
    }
    wrong = first_tab.call("upload_chunk", {"uploadId": upload_id, "offset": 0, "data": b"x"})
    assert wrong == {"error": "Bad offset", "received": half}
    first_tab.close()  # the socket is cut mid-upload
    resumed_tab = clients(server.url, server.owner_token)
    resumed = resumed_tab.call("upload_start", {**_declared(server, data), "uploadId": upload_id})
    assert resumed["uploadId"] == upload_id and resumed["received"] == half
    send_chunks(resumed_tab, upload_id, data, half, chunk_size)
    finished = resumed_tab.call(
        "upload_finish", {"uploadId": upload_id, "caption": "Ürün", "clientMessageId": "c-1"}
    )
    message = finished["message"]
    assert message["direction"] == "OUTBOUND" and message["messageType"] == "image"
    assert message["media"]["mimeType"] == "image/png" and message["media"]["size"] == len(data)
    assert message["messageContent"] == "Ürün"
    emitted = second_tab.wait_for("new_message", timeout=30)[-1]
    assert emitted["id"] == message["id"] and emitted["media"]["id"] == message["media"]["id"]
    handed = wait_for_request(n8n, message["id"])
    assert handed.body["mime_type"] == "image/png" and handed.body["caption"] == "Ürün"
    assert handed.body["filename"] == "foto.png"
    fetched = requests.get(handed.body["media_url"], timeout=10)  # no JWT
    assert fetched.status_code == 200 and fetched.content == data
    assert not list(Path(server.env["MEDIA_UPLOAD_DIR"]).glob("*.part"))  # finished: deleted


def _declared(server, data):
    return {
        "conversationId": server.conversation_id,
        "filename": "foto.png",
        "mimeType": "image/png",
        "size": len(data),
    }


def test_upload_refusals(server, clients):
    owner = clients(server.url, server.owner_token)
    other = clients(server.url, server.other_token)
    too_big = {**_declared(server, b""), "size": 5 * 1024 * 1024 + 1}
    assert owner.call("upload_start", too_big) == {"error": "File too large"}
    odd = {**_declared(server, b"1234"), "mimeType": "model/x-thing"}
    assert owner.call("upload_start", odd) == {"error": "Unsupported type"}
    assert other.call("upload_start", _declared(server, b"1234")) == {"error": "Unauthorized"}
    unknown = {"uploadId": "upl_nothing", "offset": 0, "data": b"abc"}
    assert owner.call("upload_chunk", unknown) == {"error": "Unknown upload"}
    started = owner.call("upload_start", _declared(server, b"1234"))
    stolen = {"uploadId": started["uploadId"], "offset": 0, "data": b"1234"}
    assert other.call("upload_chunk", stolen) == {"error": "Unknown upload"}
    assert owner.call("upload_finish", {"uploadId": started["uploadId"]}) == {
        "error": "Upload incomplete",
        "received": 0,
    }
    oversized = {"uploadId": started["uploadId"], "offset": 0, "data": b"x" * 49 * 1024}
    assert owner.call("upload_chunk", oversized) == {"error": "Invalid data"}
    lying = owner.call("upload_chunk", stolen)
    assert lying["received"] == 4
    refused = owner.call("upload_finish", {"uploadId": started["uploadId"]})
    assert refused["error"].startswith("media bytes are not image")


def test_rest_multipart_fallback(server, n8n):
    document = samples.pdf() + b"%" + b"x" * (2 * 1024 * 1024)  # far over the 64 KiB JSON limit
    response = requests.post(
        f"{server.url}/api/conversations/{server.conversation_id}/messages",
        headers={"Authorization": f"Bearer {server.owner_token}"},
        files={"file": ("teklif.pdf", document, "application/pdf")},
        data={"content": "Teklifimiz", "clientMessageId": "rest-1"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    message = response.json()
    assert message["messageType"] == "document" and message["media"]["filename"] == "teklif.pdf"
    again = requests.post(
        f"{server.url}/api/conversations/{server.conversation_id}/messages",
        headers={"Authorization": f"Bearer {server.owner_token}"},
        files={"file": ("teklif.pdf", document, "application/pdf")},
        data={"content": "Teklifimiz", "clientMessageId": "rest-1"},
        timeout=10,
    )
    assert again.status_code == 200 and again.json()["id"] == message["id"]
    served = requests.get(
        server.url + message["media"]["url"], headers={"Range": "bytes=0-3"}, timeout=10
    )
    assert served.status_code == 206 and served.content == b"%PDF"
    assert served.headers["Content-Disposition"].startswith("attachment")
    assert wait_for_request(n8n, message["id"]).body["mime_type"] == "application/pdf"


def test_official_js_client_uploads_and_resumes(server, tmp_path):
    """socket.io-client 4.x sends Buffers as binary attachments, cut and resumed halfway."""
    sound = tmp_path / "ses.wav"
    sound.write_bytes(samples.wav(seconds=6))
    result = subprocess.run(
        [
            "node",
            str(ROOT / "tests/js/upload.js"),
            server.url,
            server.owner_token,
            str(server.conversation_id),
            str(sound),
            "audio/wav",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 0, (result.stdout, result.stderr)
    steps = {line["type"]: line for line in lines}
    resumed = steps["resumed"]
    assert resumed["ack"]["received"] == resumed["sentBefore"] > 0
    assert any(line["type"] == "progress" for line in lines)
    message = steps["finish"]["ack"]["message"]
    assert message["messageType"] == "audio" and message["media"]["mimeType"] == "audio/x-wav"
    fetched = requests.get(server.url + message["media"]["url"], timeout=10)
    assert fetched.content == sound.read_bytes()
