"""The durable queue of replies for n8n: enqueue, claim, and record each attempt.

A reply's row is written in the transaction that stores the reply, so a
committed reply is always queued. A sender claims a due row with one atomic
UPDATE that counts the attempt and pushes `next_attempt_at` past a lease: two
senders never claim the same attempt, and a sender that dies mid-attempt only
delays the row until the lease runs out. An n8n 2xx closes the row in the
transaction that moves the reply to `sent`.
"""

import json
import threading
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from app.errors import Conflict, NotFound
from app.extensions import db
from app.media import links
from app.metrics import OUTBOX_ATTEMPTS
from app.models import Message, OutboundDelivery
from app.realtime import broadcast
from app.services import delivery_status, events
from app.timeutil import utcnow

# A claim lasts 3 x OUTBOUND_TIMEOUT_SECONDS plus this (35 s by default): longer
# than an attempt can take (requests' timeout applies to connect and to each
# read), and it is how long a sender that died mid-attempt delays the reply.
_LEASE_MARGIN_SECONDS = 5


@dataclass(frozen=True)
class Attempt:
    """One attempt at handing a reply to n8n, owned by the sender that claimed it."""

    delivery_id: int
    number: int
    message_id: str
    payload: dict


def wakeup_event(app) -> threading.Event:
    """Set when a reply is queued, so this process's sender does not wait for its next poll."""
    return app.extensions.setdefault("outbox_wakeup", threading.Event())


def notify() -> None:
    wakeup_event(current_app).set()


def due_ids(limit: int) -> list[int]:
    """Queued rows whose next attempt is due, oldest due first."""
    query = (
        select(OutboundDelivery.id)
        .where(OutboundDelivery.state == "queued", OutboundDelivery.next_attempt_at <= utcnow())
        .order_by(OutboundDelivery.next_attempt_at)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def seconds_until_next(cap: float) -> float:
    """How long until the earliest queued row is due, at most `cap`."""
    due = db.session.scalar(
        select(func.min(OutboundDelivery.next_attempt_at)).where(OutboundDelivery.state == "queued")
    )
    if due is None:
        return cap
    return min(cap, max(0.0, (due - utcnow()).total_seconds()))


def _lease() -> timedelta:
    timeout = current_app.config["OUTBOUND_TIMEOUT_SECONDS"]
    return timedelta(seconds=3 * timeout + _LEASE_MARGIN_SECONDS)


def _payload(message: Message) -> dict:
    """The body n8n receives for one reply (a file's link, type, name and caption, or a
    template reply's WhatsApp `template`, too)."""
    payload = {
        "message_id": message.id,
        "user_id": message.user_id,
        "customer_phone": message.conversation.customer_phone,
        "message_content": message.content,
        "message_type": message.message_type,
    }
    if message.template:
        payload["template"] = json.loads(message.template)
    media = message.media
    if media is not None:
        payload.update(
            # Signed when handed off, so the link lives MEDIA_URL_SECONDS from each attempt.
            media_url=links.absolute_media_url(media.id),
            mime_type=media.mime_type,
            filename=media.filename,
            caption=media.caption,
        )
    return payload


def claim(delivery_id: int) -> Attempt | None:
    """Take the next attempt of a due row, or None when another sender took it.

    The row is read inside the claiming transaction, so no transaction stays
    open during the HTTP call that follows.
    """
    now = utcnow()
    claimed = db.session.execute(
        update(OutboundDelivery)
        .where(
            OutboundDelivery.id == delivery_id,
            OutboundDelivery.state == "queued",
            OutboundDelivery.next_attempt_at <= now,
        )
        .values(attempts=OutboundDelivery.attempts + 1, next_attempt_at=now + _lease())
    ).rowcount
    if not claimed:
        db.session.rollback()
        return None
    delivery = db.session.get(OutboundDelivery, delivery_id, populate_existing=True)
    message = delivery.message
    attempt = Attempt(delivery.id, delivery.attempts, message.id, _payload(message))
    db.session.commit()
    return attempt


def _still_owned(attempt: Attempt):
    """The row as this claim left it: queued, at this attempt."""
    return (
        OutboundDelivery.id == attempt.delivery_id,
        OutboundDelivery.state == "queued",
        OutboundDelivery.attempts == attempt.number,
    )


def _message(attempt: Attempt) -> Message:
    return db.session.scalar(
        select(Message)
        .where(Message.id == attempt.message_id)
        .execution_options(populate_existing=True)
    )


def _keep_whatsapp_id(message: Message, whatsapp_id: str | None) -> None:
    """Store n8n's WhatsApp id for status look-ups, unless another message has it."""
    if not whatsapp_id or message.whatsapp_id:
        return
    if db.session.scalar(select(Message.seq).where(Message.whatsapp_id == whatsapp_id)):
        return
    db.session.execute(
        update(Message).where(Message.seq == message.seq).values(whatsapp_id=whatsapp_id)
    )


def record_success(attempt: Attempt, whatsapp_id: str | None) -> None:
    """n8n answered 2xx: close the row and move the reply to `sent`, in one transaction."""
    events.lock_event_log()
    db.session.execute(
        update(OutboundDelivery)
        .where(OutboundDelivery.id == attempt.delivery_id, OutboundDelivery.state == "queued")
        .values(state="done", last_error=None)
    )
    message = _message(attempt)
    _keep_whatsapp_id(message, whatsapp_id)
    event = delivery_status.transition(message, "sent", utcnow())
    db.session.commit()
    OUTBOX_ATTEMPTS.labels("sent").inc()
    if event is not None:
        broadcast.publish(event)


def record_failure(attempt: Attempt, reason: str) -> None:
    """n8n refused or was unreachable: retry after the backoff, or give up after the last try."""
    config = current_app.config
    if attempt.number >= config["OUTBOUND_MAX_ATTEMPTS"]:
        _give_up(attempt, reason)
        return
    delay = config["OUTBOUND_BACKOFF_SECONDS"] * 2 ** (attempt.number - 1)
    db.session.execute(
        update(OutboundDelivery)
        .where(*_still_owned(attempt))
        .values(next_attempt_at=utcnow() + timedelta(seconds=delay), last_error=reason)
    )
    db.session.commit()
    OUTBOX_ATTEMPTS.labels("retry").inc()


def record_refusal(attempt: Attempt, reason: str, error_code: int | None) -> None:
    """WhatsApp refused the reply for good: fail it now, with its reason and code."""
    _give_up(attempt, reason, error=f"WhatsApp refused the reply: {reason}", error_code=error_code)


def _give_up(attempt: Attempt, reason: str, error: str | None = None, error_code=None) -> None:
    """Mark the row and the reply failed, with the reason, in one transaction."""
    events.lock_event_log()
    closed = db.session.execute(
        update(OutboundDelivery)
        .where(*_still_owned(attempt))
        .values(state="failed", last_error=reason)
    ).rowcount
    if not closed:
        db.session.rollback()
        return
    if error is None:
        target = "WhatsApp" if current_app.config["OUTBOUND_TRANSPORT"] == "whatsapp" else "n8n"
        error = f"{target} did not accept the reply after {attempt.number} attempts: {reason}"
    event = delivery_status.transition(_message(attempt), "failed", utcnow(), error, error_code)
    db.session.commit()
    OUTBOX_ATTEMPTS.labels("given_up").inc()
    if event is not None:
        broadcast.publish(event)


def retry(message_id: str) -> Message:
    """Queue a failed reply again from its first attempt; the only way out of `failed`."""
    message = db.session.scalar(select(Message).where(Message.id == message_id))
    if message is None:
        raise NotFound(f"no message with id {message_id}")
    events.lock_event_log()
    requeued = db.session.execute(
        update(Message)
        .where(Message.seq == message.seq, Message.status == "failed")
        .values(status="pending", status_at=utcnow(), error=None, error_code=None)
    ).rowcount
    if not requeued:
        db.session.rollback()
        raise Conflict(f"message {message_id} is not a failed reply")
    _requeue_row(message)
    db.session.refresh(message)
    event = delivery_status.record_change(message)
    db.session.commit()
    broadcast.publish(event)
    notify()
    return message


def _requeue_row(message: Message) -> None:
    values = {"state": "queued", "attempts": 0, "next_attempt_at": utcnow(), "last_error": None}
    updated = db.session.execute(
        update(OutboundDelivery).where(OutboundDelivery.message_seq == message.seq).values(values)
    ).rowcount
    if not updated:
        db.session.add(OutboundDelivery(message_seq=message.seq, **values))


def counts() -> dict[str, int]:
    """Rows per state, for `flask outbox status`."""
    rows = db.session.execute(
        select(OutboundDelivery.state, func.count()).group_by(OutboundDelivery.state)
    )
    return {"queued": 0, "done": 0, "failed": 0, **dict(rows.all())}
