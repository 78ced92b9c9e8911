"""Fixtures: a fresh app and database per test, users, tokens, socket clients."""

import itertools
import os

import pytest
from flask_socketio.test_client import SocketIOTestClient
from pydantic import BaseModel
from socketio import packet as sio_packet
from sqlalchemy import event
from werkzeug.security import generate_password_hash

from app import create_app
from app.extensions import db, socketio
from app.services import auth as auth_service
from app.services.users import create_user
from tests import services
from tests.private_redis import PrivateRedis

WEBHOOK_SECRET = "test-webhook-secret"
# Every field of the n8n message webhook's body.
WEBHOOK_FIELDS = (
    "user_id",
    "customer_name",
    "customer_phone",
    "message_content",
    "message_type",
    "direction",
    "timestamp",
    "message_id",
)
# The contract's `new_message` payload keys (events add eventId, REST adds more).
NEW_MESSAGE_KEYS = frozenset(
    {
        "id",
        "conversationId",
        "userId",
        "customerName",
        "customerPhone",
        "messageContent",
        "messageType",
        "direction",
        "timestamp",
        "isRead",
        # Rich messages (second round)
        "media",
        "location",
        "replyTo",
        "reactions",
    }
)
PASSWORD = "correct-horse-battery"
_emails = itertools.count(1)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "database_pinned: the test chooses its own database, whatever TEST_DATABASE says"
        " (scripts/test.sh runs it in the SQLite pass only)",
    )
    config.addinivalue_line(
        "markers",
        "slow: takes minutes (the panel's 120 s outage); run in CI, `-m 'not slow'` skips it",
    )


def media_folders(folder) -> dict:
    """Media storage and uploads in progress under `folder`, not the repository's instance/."""
    return {"MEDIA_ROOT": str(folder / "media"), "MEDIA_UPLOAD_DIR": str(folder / "uploads")}


def _database_url() -> str | None:
    """TEST_DATABASE=postgres runs the unit tests on PostgreSQL (emptied after each test)."""
    if os.environ.get("TEST_DATABASE") == "postgres":
        return services.reused_postgres_database()
    return None


@pytest.fixture
def app(tmp_path):
    """An app on an empty database (in-memory SQLite unless TEST_DATABASE=postgres),
    its media files under the test's temporary folder."""
    url = _database_url()
    overrides = {"CONFIG": "testing", **media_folders(tmp_path)}
    if url:
        overrides["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + url.split("://", 1)[1]
    app = create_app(overrides)
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()
    if url:
        services.empty_postgres_database(url, [t.name for t in reversed(db.metadata.sorted_tables)])


@pytest.fixture(scope="module")
def redis_server():
    """A redis-server of the module's own (tests/private_redis.py), to stop and start at will."""
    server = PrivateRedis().start()
    yield server
    server.stop()


@pytest.fixture
def file_app(tmp_path):
    """(app, path) on a SQLite file, with lock waits cut short so an outage shows quickly."""
    app = create_app(
        {
            "CONFIG": "testing",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/inbox.db",
            **media_folders(tmp_path),
        }
    )
    with app.app_context():

        @event.listens_for(db.engine, "connect")
        def _short_busy_timeout(dbapi_connection, _record):
            dbapi_connection.execute("PRAGMA busy_timeout=100")

        db.create_all()
        yield app, tmp_path / "inbox.db"
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """Factory: make_user(role="USER", active=True) -> User with password PASSWORD."""

    def make(role: str = "USER", active: bool = True, name: str = ""):
        user = create_user(f"user{next(_emails)}@example.com", PASSWORD, role, name)
        if not active:
            user.is_active = False
            db.session.commit()
        return user

    return make


@pytest.fixture
def fast_password_hashes(monkeypatch):
    """Users made from here on get a cheap hash, for tests where scrypt's cost is noise."""
    monkeypatch.setattr(
        "app.models.generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"),
    )


@pytest.fixture
def people(make_user, fast_password_hashes):
    """An owner, another user and an admin."""
    return {"owner": make_user(), "other": make_user(), "admin": make_user("ADMIN")}


@pytest.fixture
def token_for(app):
    """token_for(user) -> a valid access token."""
    return lambda user: auth_service.issue_tokens(user)["accessToken"]


@pytest.fixture
def headers_for(token_for):
    """headers_for(user) -> Authorization headers for REST calls."""
    return lambda user: {"Authorization": f"Bearer {token_for(user)}"}


@pytest.fixture
def socket_for(app, token_for):
    """socket_for(user, **auth) -> a connected Flask-SocketIO test client."""
    clients = []

    def connect(user=None, **auth):
        if user is not None:
            auth.setdefault("token", token_for(user))
        test_client = socketio.test_client(app, auth=auth)
        clients.append(test_client)
        return test_client

    yield connect
    for test_client in clients:
        if test_client.is_connected():
            test_client.disconnect()


@pytest.fixture
def handshake_refusal(app):
    """handshake_refusal(**auth) -> the connect_error message, or None when accepted."""

    def attempt(**auth):
        refusals = []

        class RecordingClient(SocketIOTestClient):
            def connect(self, *args, **kwargs):
                send = self.socketio.server._send_packet

                def spy(eio_sid, pkt):
                    if pkt.packet_type == sio_packet.CONNECT_ERROR:
                        refusals.append(pkt.data["message"])
                    send(eio_sid, pkt)

                self.socketio.server._send_packet = spy
                try:
                    super().connect(*args, **kwargs)
                finally:
                    self.socketio.server._send_packet = send

        test_client = RecordingClient(app, socketio, auth=auth)
        if test_client.is_connected():
            test_client.disconnect()
            return None
        return refusals[0] if refusals else "connect refused without a message"

    return attempt


@pytest.fixture
def post_webhook(client):
    """post_webhook(**fields) -> response of POST /api/webhooks/n8n/message."""

    def post(secret: str = WEBHOOK_SECRET, **fields):
        return client.post(
            "/api/webhooks/n8n/message", json=fields, headers={"X-Webhook-Secret": secret}
        )

    return post


def webhook_body(user, **overrides) -> dict:
    """A valid n8n message body for this user's conversation with one customer."""
    body = {
        "user_id": user.id,
        "customer_name": "Ahmet Yılmaz",
        "customer_phone": "+905551234567",
        "message_content": "Merhaba, sipariş durumu nedir?",
    }
    body.update(overrides)
    return body


class Numbered(BaseModel):
    """A stand-in event payload, for tests that only count events in the log."""

    n: int


def received(test_client) -> dict[str, list]:
    """Everything a test client received since the last call: event name -> payloads."""
    by_name: dict[str, list] = {}
    for packet in test_client.get_received():
        by_name.setdefault(packet["name"], []).append(packet["args"][0] if packet["args"] else None)
    return by_name
