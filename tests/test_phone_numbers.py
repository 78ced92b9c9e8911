"""Customer phones in E.164 on every path, and the migration that merges stored duplicates."""

import json
import os
from datetime import UTC, datetime

import flask_migrate
import pytest
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import func, select, text

from app import create_app, phones
from app.extensions import db
from app.models import Conversation, Event, Message
from tests import services
from tests.conftest import received, webhook_body

pytestmark = pytest.mark.usefixtures("fast_password_hashes")

SPELLINGS = ("+90 555 111 00 00", "905551110000", "+905551110000", "0090 (555) 111-00-00")


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_usual_spellings_are_one_e164_number(spelling):
    assert phones.normalise(spelling) == "+905551110000"


def test_a_number_phonenumbers_does_not_know_keeps_its_digits():
    assert phones.normalise("+1 000 000 0000") == "+10000000000"
    assert phones.normalise("+0123") == "+0123"


def test_national_numbers_use_the_default_region(monkeypatch):
    monkeypatch.setenv("DEFAULT_PHONE_REGION", "tr")
    assert phones.normalise("0555 111 00 00") == "+905551110000"
    assert phones.normalise("905551110000") == "+905551110000"


@pytest.mark.parametrize("bad", ["abc", "+", "++90", "555-CALL-NOW", "90\t555"])
def test_what_is_not_a_number_is_refused(bad):
    with pytest.raises(ValueError):
        phones.normalise(bad)


def test_n8n_webhook_spellings_land_in_one_conversation(people, post_webhook, socket_for):
    owner = people["owner"]
    listener = socket_for(owner)
    ids = set()
    for n, spelling in enumerate(SPELLINGS[:3]):
        response = post_webhook(
            **webhook_body(owner, customer_phone=spelling, message_id=f"wamid.p{n}")
        )
        assert response.status_code == 201
        ids.add(response.get_json()["data"]["conversationId"])
    assert len(ids) == 1
    assert db.session.scalar(select(Conversation.customer_phone)) == "+905551110000"
    events = received(listener)["new_message"]
    assert {event["customerPhone"] for event in events} == {"+905551110000"}


def test_n8n_webhook_refuses_a_phone_that_is_no_number(people, post_webhook):
    response = post_webhook(**webhook_body(people["owner"], customer_phone="call me"))
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "customer_phone"
    assert db.session.scalar(select(func.count()).select_from(Conversation)) == 0


def _revision_before_ours() -> str:
    """The revision this lane's migration follows (wherever the lanes were chained)."""
    config = current_app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_revision("cloud_numbers").down_revision


@pytest.fixture
def migrated_to_round_one(tmp_path):
    """An app whose database is migrated to the revision before this lane's."""
    url = (
        services.create_postgres_database()
        if os.environ.get("TEST_DATABASE") == "postgres"
        else None
    )
    uri = "postgresql+psycopg://" + url.split("://", 1)[1] if url else f"sqlite:///{tmp_path}/m.db"
    app = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": uri})
    with app.app_context():
        flask_migrate.upgrade(revision=_revision_before_ours())
        yield app
        db.session.remove()
        db.engine.dispose()
    if url:
        services.drop_postgres_database(url)


def _insert_old_rows(connection):
    """Two spellings of one customer for one owner, one other customer, and their events."""
    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC).replace(tzinfo=None)
    later = datetime(2026, 12, 1, 11, 0, tzinfo=UTC).replace(tzinfo=None)
    connection.execute(
        text(
            "INSERT INTO users (id, email, name, role, is_active, password_hash, created_at)"
            " VALUES (1, 'a@example.com', '', 'USER', true, 'x', :now)"
        ),
        {"now": now},
    )
    conversations = [
        (1, "905551110000", now),
        (2, "+90 555 111 00 00", later),
        (3, "+15550001", now),
    ]
    for conversation_id, phone, at in conversations:
        connection.execute(
            text(
                "INSERT INTO conversations (id, user_id, customer_phone, customer_name,"
                " last_message, last_message_at, created_at)"
                " VALUES (:id, 1, :phone, 'Ayşe', :content, :at, :at)"
            ),
            {"id": conversation_id, "phone": phone, "content": f"text {conversation_id}", "at": at},
        )
        connection.execute(
            text(
                "INSERT INTO messages (id, conversation_id, user_id, direction, message_type,"
                " content, timestamp, is_read, created_at, client_message_id)"
                " VALUES (:mid, :id, 1, 'INBOUND', 'text', :content, :at, false, :at, 'same')"
            ),
            {
                "mid": f"msg_{conversation_id}",
                "id": conversation_id,
                "content": f"text {conversation_id}",
                "at": at,
            },
        )
        connection.execute(
            text(
                "INSERT INTO media (id, user_id, conversation_id, message_id, storage_key,"
                " mime_type, size, voice, sha256, created_at)"
                " VALUES (:mid, 1, :id, :msg, 'k', 'image/png', 1, false, 'x', :at)"
            ),
            {
                "mid": f"med_{conversation_id}",
                "id": conversation_id,
                "msg": f"msg_{conversation_id}",
                "at": at,
            },
        )
        payload = json.dumps({"id": f"msg_{conversation_id}", "conversationId": conversation_id})
        connection.execute(
            text(
                "INSERT INTO events (name, user_id, conversation_id, payload, created_at)"
                " VALUES ('new_message', 1, :id, :payload, :at)"
            ),
            {"id": conversation_id, "payload": payload, "at": at},
        )


def test_migration_merges_conversations_of_one_number(migrated_to_round_one):
    with db.engine.begin() as connection:
        _insert_old_rows(connection)
        # A transfer's aliases: two spellings of one number, one other number.
        for phone, conversation_id in (
            ("905551110000", 1),
            ("+90 555 111 00 00", 2),
            ("15550001", 3),
        ):
            connection.execute(
                text(
                    "INSERT INTO conversation_aliases (user_id, customer_phone, conversation_id)"
                    " VALUES (1, :phone, :id)"
                ),
                {"phone": phone, "id": conversation_id},
            )
    flask_migrate.upgrade(revision="heads")  # the other lanes' revisions too, before rechaining
    conversations = db.session.execute(
        select(Conversation.id, Conversation.customer_phone, Conversation.last_message).order_by(
            Conversation.id
        )
    ).all()
    assert conversations == [(1, "+905551110000", "text 2"), (3, "+15550001", "text 3")]
    moved = dict(db.session.execute(select(Message.id, Message.conversation_id)).all())
    assert moved == {"msg_1": 1, "msg_2": 1, "msg_3": 3}
    aliases = db.session.execute(
        text("SELECT customer_phone, conversation_id FROM conversation_aliases ORDER BY 1")
    ).all()
    assert aliases == [("+15550001", 3), ("+905551110000", 1)]
    files = dict(db.session.execute(text("SELECT id, conversation_id FROM media")).all())
    assert files == {"med_1": 1, "med_2": 1, "med_3": 3}
    # The moved reply's clientMessageId clashed with the survivor's: the survivor keeps it.
    assert db.session.scalar(select(Message.client_message_id).where(Message.id == "msg_2")) is None
    logged = {
        e.data["id"]: (e.conversation_id, e.data["conversationId"])
        for e in db.session.scalars(select(Event))
    }
    assert logged == {"msg_1": (1, 1), "msg_2": (1, 1), "msg_3": (3, 3)}
