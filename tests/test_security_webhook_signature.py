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


# A signature is accepted once within its window (app/signature_ledger.py).


def test_a_signed_message_without_message_id_is_accepted_once(client, owner_and_socket):
    """Before, the same signed request stored the message again on every replay."""
    owner, socket = owner_and_socket
    raw = json.dumps(webhook_body(owner)).encode()
    headers = signed_headers(raw)
    assert client.post(URL, data=raw, headers=headers).status_code == 201
    for _ in range(3):
        replay = client.post(URL, data=raw, headers=headers)
        assert replay.status_code == 401
        assert replay.get_json()["error"]["message"] == "Webhook signature already used"
    assert stored_counts() == (1, 1)
    assert len(received(socket)["new_message"]) == 1
    record("webhook: replayed signatures", inputs=4, accepted=1, refused=3)


def test_the_same_body_signed_again_is_a_new_request(client, owner_and_socket):
    owner, socket = owner_and_socket
    raw = json.dumps(webhook_body(owner)).encode()
    now = int(time.time())
    assert client.post(URL, data=raw, headers=signed_headers(raw, now)).status_code == 201
    assert client.post(URL, data=raw, headers=signed_headers(raw, now - 1)).status_code == 201
    assert stored_counts() == (2, 2)


def test_a_request_that_stored_nothing_can_be_sent_again(client, owner_and_socket):
    """A refused or failed request gives its signature back, so n8n's retry goes through."""
    owner, socket = owner_and_socket
    raw = json.dumps(webhook_body(owner, user_id=owner.id + 1000)).encode()
    headers = signed_headers(raw)
    assert client.post(URL, data=raw, headers=headers).status_code == 404
    assert client.post(URL, data=raw, headers=headers).status_code == 404
    assert stored_counts() == (0, 0)


def test_a_status_report_replayed_is_answered_as_a_duplicate_would_be(client, make_user):
    """Status reports always name their message_id: a repeat changes nothing either way."""
    owner = make_user()
    raw = json.dumps(webhook_body(owner, message_id="wamid.status-replay")).encode()
    assert client.post(URL, data=raw, headers=signed_headers(raw)).status_code == 201
    status = json.dumps({"message_id": "wamid.status-replay", "status": "read"}).encode()
    headers = signed_headers(status)
    first = client.post("/api/webhooks/n8n/status", data=status, headers=headers)
    again = client.post("/api/webhooks/n8n/status", data=status, headers=headers)
    assert first.status_code != 401
    assert (again.status_code, again.get_json()) == (first.status_code, first.get_json())


def test_the_memory_ledger_forgets_a_signature_when_its_window_closes(monkeypatch):
    from app import signature_ledger

    clock = [1000.0]
    monkeypatch.setattr(signature_ledger, "time", type("Clock", (), {"time": lambda: clock[0]}))
    ledger = signature_ledger.MemoryLedger()
    assert ledger.claim("a", until=1300) and ledger.claim("b", until=1301)
    assert not ledger.claim("a", until=1300)
    clock[0] = 1300.5
    assert ledger.claim("a", until=1600)  # a's window closed: a new one
    assert not ledger.claim("b", until=1301)
    ledger.release("b")
    assert ledger.claim("b", until=1301)


@pytest.fixture
def redis_url(redis_server):
    if redis_server.process is None:
        redis_server.start()
    return redis_server.url()


def test_with_redis_a_signature_used_on_one_process_is_refused_on_another(redis_url):
    from app.redis_support import command_client
    from app.services.users import create_user
    from tests.module_app import fresh_app

    with fresh_app(REDIS_URL=redis_url) as first:
        owner = create_user("ledger@example.com", "long-password-1", "USER")
        raw = json.dumps(webhook_body(owner)).encode()
        headers = signed_headers(raw)
        assert first.test_client().post(URL, data=raw, headers=headers).status_code == 201
        with fresh_app(REDIS_URL=redis_url) as second:
            replay = second.test_client().post(URL, data=raw, headers=headers)
        assert replay.status_code == 401
        key = "inbox:webhook-signature:" + headers["X-Signature-256"]
        # Remembered until the window of its timestamp closes, not longer.
        assert 295 <= command_client(redis_url).ttl(key) <= 302


def test_with_redis_down_signed_webhooks_flow_and_replays_to_this_process_are_refused(
    redis_url, redis_server
):
    from app.services.users import create_user
    from tests.module_app import fresh_app

    with fresh_app(REDIS_URL=redis_url) as app:
        owner = create_user("ledger-down@example.com", "long-password-1", "USER")
        raw = json.dumps(webhook_body(owner)).encode()
        headers = signed_headers(raw)
        client = app.test_client()
        redis_server.stop()
        try:
            assert client.post(URL, data=raw, headers=headers).status_code == 201
            assert client.post(URL, data=raw, headers=headers).status_code == 401
        finally:
            redis_server.start()
        # Back: the claim made in memory still holds on this process.
        assert client.post(URL, data=raw, headers=headers).status_code == 401
        assert stored_counts() == (1, 1)
