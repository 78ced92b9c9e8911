"""A reply's delivery status: the monotonic rule and the `message_status` event.

pending < sent < delivered < read; a status never moves backwards, `failed`
replaces only pending or sent, and only a retry (outbox.retry) replaces
`failed`. Late or repeated reports are accepted and change nothing.
"""

from datetime import datetime

from sqlalchemy import select, update

from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import Event, Message, OutboundDelivery
from app.realtime import broadcast
from app.schemas.messages import MessageStatus
from app.services import events
from app.timeutil import utcnow

_RANK = {"pending": 0, "sent": 1, "delivered": 2, "read": 3}
# Compare-and-set rounds before giving up on a message that keeps changing.
_MAX_RACES = 5


def may_change(current: str | None, new: str) -> bool:
    """Whether a reply in status `current` moves to `new` under the monotonic rule.

    None is an OUTBOUND message n8n reported itself (sent from the phone): it
    has no status yet, so any first report applies.
    """
    if current == new or current == "failed":
        return False
    if current is None:
        return True
    if new == "failed":
        return current in ("pending", "sent")
    return _RANK[new] > _RANK[current]


def record_change(message: Message) -> Event:
    """Add the `message_status` event for the message's current status to the transaction."""
    payload = MessageStatus.of(message)
    return events.record("message_status", message.user_id, message.conversation_id, payload)


def _compare_and_set(
    message: Message, current: str, new: str, at: datetime, error, error_code=None
) -> bool:
    """Move the stored status from `current` to `new` unless another writer got there first."""
    failed = new == "failed"
    changed = db.session.execute(
        update(Message)
        .where(Message.seq == message.seq, Message.status == current)
        .values(
            status=new,
            status_at=at,
            error=error if failed else None,
            error_code=error_code if failed else None,
        )
    ).rowcount
    return bool(changed)


def _close_queued_delivery(message: Message, status: str) -> None:
    """n8n has the reply (or WhatsApp refused it): the outbox must not send it again."""
    db.session.execute(
        update(OutboundDelivery)
        .where(OutboundDelivery.message_seq == message.seq, OutboundDelivery.state == "queued")
        .values(state="failed" if status == "failed" else "done")
    )


def transition(
    message: Message, status: str, at: datetime, error=None, error_code=None
) -> Event | None:
    """Change the status inside the caller's transaction (event log locked, caller commits).

    None when the rule refuses the change or another writer changed it first.
    `error_code` is WhatsApp's code of a failure (Cloud API statuses and sends).
    """
    current = message.status
    if not may_change(current, status):
        return None
    if not _compare_and_set(message, current, status, at, error, error_code):
        return None
    _close_queued_delivery(message, status)
    db.session.refresh(message)
    return record_change(message)


def report(
    message: Message, status: str, at: datetime | None = None, error=None, error_code=None
) -> Event | None:
    """Apply a status report, commit and publish; None when it was accepted but ignored."""
    at = at or utcnow()
    for _ in range(_MAX_RACES):
        if not may_change(message.status, status):
            return None
        events.lock_event_log()
        event = transition(message, status, at, error, error_code)
        if event is not None:
            db.session.commit()
            broadcast.publish(event)
            return event
        db.session.rollback()
        db.session.refresh(message)
    raise Conflict("the message's status keeps changing, retry")


def find_reply(reference: str) -> Message:
    """The reply named by our message id or by the WhatsApp id n8n reported."""
    message = db.session.scalar(
        select(Message).where((Message.id == reference) | (Message.whatsapp_id == reference))
    )
    if message is None:
        raise NotFound("message_id does not name a known message", field="message_id")
    if message.direction != "OUTBOUND":
        raise Conflict(
            "message_id names an inbound message; only replies have a status", field="message_id"
        )
    return message
