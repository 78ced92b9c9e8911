"""The durable event log: every change commits with its event, and eventIds only grow."""

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Conversation, Event, Message
from app.services import events as event_log
from tests.conftest import received, webhook_body

pytestmark = pytest.mark.usefixtures("fast_password_hashes")


class EventLogBroken(Exception):
    """Raised in place of writing an event."""


def _broken_record(*_args, **_kwargs):
    raise EventLogBroken()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_event_ids_only_grow_across_kinds_of_events(post_webhook, make_user, socket_for):
    owner = make_user()
    listener = socket_for(make_user(role="ADMIN"))
    first = post_webhook(**webhook_body(owner, message_content="one")).get_json()["data"]
    accepted = socket_for(owner).emit("mark_read", {"messageId": first["id"]}, callback=True)
    assert accepted == {"ok": True}
    post_webhook(**webhook_body(owner, message_content="two"))
    events = listener.get_received()
    names = [p["name"] for p in events]
    ids = [p["args"][0]["eventId"] for p in events]
    assert names == ["new_message", "message_read", "new_message"]
    assert ids == sorted(ids) and len(set(ids)) == 3


def test_a_message_is_not_stored_when_its_event_cannot_be(
    post_webhook, make_user, socket_for, monkeypatch
):
    owner = make_user()
    listener = socket_for(owner)
    monkeypatch.setattr(event_log, "record", _broken_record)
    with pytest.raises(EventLogBroken):
        post_webhook(**webhook_body(owner, message_id="wamid.NO-EVENT"))
    db.session.remove()  # what the end of the failed request does
    assert (count(Message), count(Conversation), count(Event)) == (0, 0, 0)
    assert received(listener) == {}

    monkeypatch.undo()
    assert post_webhook(**webhook_body(owner, message_id="wamid.NO-EVENT")).status_code == 201


def test_a_read_receipt_is_not_stored_when_its_event_cannot_be(
    client, post_webhook, make_user, headers_for, monkeypatch
):
    owner = make_user()
    message = post_webhook(**webhook_body(owner)).get_json()["data"]
    monkeypatch.setattr(event_log, "record", _broken_record)
    with pytest.raises(EventLogBroken):
        client.patch(f"/api/messages/{message['id']}/read", headers=headers_for(owner))
    db.session.remove()
    monkeypatch.undo()

    page = client.get(
        f"/api/conversations/{message['conversationId']}/messages", headers=headers_for(owner)
    ).get_json()
    assert page[0]["isRead"] is False and page[0]["readBy"] is None
    assert count(Event) == 1
    response = client.patch(f"/api/messages/{message['id']}/read", headers=headers_for(owner))
    assert response.status_code == 200 and count(Event) == 2
