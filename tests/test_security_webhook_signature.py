"""Signed webhooks: HMAC-SHA256 over "<timestamp>.<raw body>", ±300 s, optionally required."""

import json
import time

import pytest

from app.extensions import db
from app.models import Event, Message
from app.webhooks.verification import sign
from tests.conftest import WEBHOOK_SECRET, received, webhook_body
from tests.reliability_figures import record

URL = "/api/webhooks/n8n/message"
SIGNATURE_CHECK = "webhook: forged, tampered or stale signatures"


def signed_headers(raw: bytes, timestamp=None, secret: str = WEBHOOK_SECRET) -> dict:
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": "application/json",
        "X-Signature-256": sign(secret, timestamp, raw),
        "X-Signature-Timestamp": timestamp,
    }


def stored_counts() -> tuple[int, int]:
    return db.session.query(Message).count(), db.session.query(Event).count()


@pytest.fixture
def owner_and_socket(make_user, socket_for):
    owner = make_user()
    socket = socket_for(owner)
    received(socket)  # drop the connect traffic
    return owner, socket


def test_valid_signature_is_accepted_without_the_secret_header(client, owner_and_socket):
    owner, socket = owner_and_socket
    # Signed bytes are the exact raw body, whitespace and key order included.
    raw = json.dumps(webhook_body(owner, message_id="wamid.signed-1"), indent=2).encode()
    response = client.post(URL, data=raw, headers=signed_headers(raw))
    assert response.status_code == 201, response.get_json()
    assert received(socket)["new_message"][0]["id"] == response.get_json()["data"]["id"]
    assert stored_counts() == (1, 1)


def flip_last(signature: str) -> str:
    """The signature with its last hex digit changed (to another digit, always)."""
    return signature[:-1] + ("1" if signature[-1] == "0" else "0")


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda raw, h: (raw.replace(b"Merhaba", b"Merhabb"), h), id="body-changed"),
        pytest.param(
            lambda raw, h: (raw, {**h, "X-Signature-256": flip_last(h["X-Signature-256"])}),
            id="signature-changed",
        ),
        pytest.param(
            lambda raw, h: (raw, {**h, "X-Signature-Timestamp": str(int(time.time()) - 5)}),
            id="timestamp-changed",
        ),
        pytest.param(lambda raw, h: (raw, signed_headers(raw, secret="other-secret")), id="key"),
        pytest.param(
            lambda raw, h: (raw, {**h, "X-Signature-256": h["X-Signature-256"][7:]}),
            id="no-prefix",
        ),
        pytest.param(
            lambda raw, h: (raw, {k: v for k, v in h.items() if k != "X-Signature-Timestamp"}),
            id="no-timestamp",
        ),
        pytest.param(lambda raw, h: (raw, {**h, "X-Signature-Timestamp": "1e9"}), id="ts-format"),
        pytest.param(
            lambda raw, h: (raw, {**h, "X-Signature-Timestamp": "9" * 5000}), id="ts-huge"
        ),
    ],
)
def test_a_bad_signature_is_refused_and_nothing_happens(client, owner_and_socket, tamper):
    owner, socket = owner_and_socket
    raw = json.dumps(webhook_body(owner)).encode()
    body, headers = tamper(raw, signed_headers(raw, timestamp=int(time.time()) - 10))
    response = client.post(URL, data=body, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert stored_counts() == (0, 0)
    assert received(socket) == {}
    record(SIGNATURE_CHECK, inputs=1, refused=1, leaked_events=0)


@pytest.mark.parametrize("offset", [-301, 301, -3600, 86400])
def test_a_stale_or_future_signature_is_refused(client, owner_and_socket, offset):
    owner, socket = owner_and_socket
    raw = json.dumps(webhook_body(owner)).encode()
    response = client.post(URL, data=raw, headers=signed_headers(raw, int(time.time()) + offset))
    assert response.status_code == 401
    assert "window" in response.get_json()["error"]["message"]
    assert stored_counts() == (0, 0)
    assert received(socket) == {}
    record(SIGNATURE_CHECK, inputs=1, refused=1, leaked_events=0)


@pytest.mark.parametrize("offset", [-295, 295])
def test_a_signature_inside_the_window_is_accepted(client, owner_and_socket, offset):
    owner, _socket = owner_and_socket
    raw = json.dumps(webhook_body(owner)).encode()
    response = client.post(URL, data=raw, headers=signed_headers(raw, int(time.time()) + offset))
    assert response.status_code == 201


def test_a_bad_signature_is_not_rescued_by_a_correct_secret_header(client, owner_and_socket):
    owner, _socket = owner_and_socket
    raw = json.dumps(webhook_body(owner)).encode()
    headers = {**signed_headers(raw, secret="wrong"), "X-Webhook-Secret": WEBHOOK_SECRET}
    assert client.post(URL, data=raw, headers=headers).status_code == 401
    assert stored_counts() == (0, 0)


def test_required_signature_refuses_the_secret_header_alone(app, client, owner_and_socket):
    owner, socket = owner_and_socket
    app.config["WEBHOOK_REQUIRE_SIGNATURE"] = True
    raw = json.dumps(webhook_body(owner, message_id="wamid.required")).encode()
    unsigned = client.post(
        URL,
        data=raw,
        headers={"Content-Type": "application/json", "X-Webhook-Secret": WEBHOOK_SECRET},
    )
    assert unsigned.status_code == 401
    assert "signed request" in unsigned.get_json()["error"]["message"]
    assert stored_counts() == (0, 0)
    assert received(socket) == {}

    assert client.post(URL, data=raw, headers=signed_headers(raw)).status_code == 201
    assert stored_counts() == (1, 1)


def test_signed_duplicate_is_answered_not_stored_twice(client, owner_and_socket):
    owner, socket = owner_and_socket
    raw = json.dumps(webhook_body(owner, message_id="wamid.replayed")).encode()
    headers = signed_headers(raw)
    assert client.post(URL, data=raw, headers=headers).status_code == 201
    replay = client.post(URL, data=raw, headers=headers)
    assert replay.status_code == 200 and replay.get_json()["duplicate"] is True
    assert len(received(socket)["new_message"]) == 1
    assert stored_counts() == (1, 1)


def test_without_a_configured_secret_every_request_is_refused(app, client, owner_and_socket):
    owner, _socket = owner_and_socket
    app.config["N8N_WEBHOOK_SECRET"] = ""
    raw = json.dumps(webhook_body(owner)).encode()
    assert client.post(URL, data=raw, headers=signed_headers(raw, secret="")).status_code == 401
    assert client.post(URL, data=raw, headers={"X-Webhook-Secret": ""}).status_code == 401
    assert stored_counts() == (0, 0)
