"""Files of Cloud API messages, fetched from the Graph API after their message was stored.

Meta's webhook must be answered quickly, and it names a file by id only, so
the message is stored and emitted at once with a queue row beside it (the
one transaction of messages.write). This module works that queue: it claims
a due row (an atomic UPDATE pushing `next_attempt_at` past a lease, as the
reply queue does), downloads the file, stores it through the media ingest
(size limits, sniffed type, storage) and ties it to the message with a
`message_media` event in one transaction. A failed try is retried with the
reply queue's backoff (OUTBOUND_BACKOFF_SECONDS, doubling) up to
OUTBOUND_MAX_ATTEMPTS; a file the ingest refuses (too large, lying type) is
not tried again. The media id lives about seven days.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from app.channels import whatsapp_media
from app.errors import AppError
from app.extensions import db
from app.media.ingest import StoredFile, ingest
from app.models import Media, Message, WhatsappMediaFetch
from app.realtime import broadcast
from app.schemas.messages import MediaRef, MessageMedia
from app.services import events
from app.timeutil import utcnow

log = logging.getLogger(__name__)
_LEASE_MARGIN_SECONDS = 30  # a download of up to 100 MB may take a while
BATCH = 10


@dataclass(frozen=True)
class Claim:
    """One try at one row, owned by the fetcher that claimed it."""

    fetch_id: int
    attempt: int
    message_id: str
    kind: str
    media_id: str
    mime_type: str | None
    filename: str | None
    caption: str | None
    sha256: str | None
    voice: bool


def due_ids(limit: int = BATCH) -> list[int]:
    query = (
        select(WhatsappMediaFetch.id)
        .where(WhatsappMediaFetch.state == "queued", WhatsappMediaFetch.next_attempt_at <= utcnow())
        .order_by(WhatsappMediaFetch.next_attempt_at)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def claim(fetch_id: int) -> Claim | None:
    """Take the next try of a due row, or None when another fetcher took it."""
    now = utcnow()
    lease = timedelta(
        seconds=3 * current_app.config["OUTBOUND_TIMEOUT_SECONDS"] + _LEASE_MARGIN_SECONDS
    )
    claimed = db.session.execute(
        update(WhatsappMediaFetch)
        .where(
            WhatsappMediaFetch.id == fetch_id,
            WhatsappMediaFetch.state == "queued",
            WhatsappMediaFetch.next_attempt_at <= now,
        )
        .values(attempts=WhatsappMediaFetch.attempts + 1, next_attempt_at=now + lease)
    ).rowcount
    if not claimed:
        db.session.rollback()
        return None
    row = db.session.get(WhatsappMediaFetch, fetch_id, populate_existing=True)
    kind = db.session.scalar(select(Message.message_type).where(Message.id == row.message_id))
    found = Claim(
        row.id,
        row.attempts,
        row.message_id,
        kind,
        row.media_id,
        row.mime_type,
        row.filename,
        row.caption,
        row.sha256,
        row.voice,
    )
    db.session.commit()
    return found


def fetch_due() -> int:
    """Try every due file once; returns how many tries were made."""
    tries = 0
    for fetch_id in due_ids():
        found = claim(fetch_id)
        if found is not None:
            fetch(found)
            tries += 1
    return tries


def fetch(claim: Claim) -> None:
    """One try: download, store, tie to the message; or record why not."""
    try:
        download = whatsapp_media.download(claim.media_id)
        stored = ingest(
            download.chunks,
            claim.kind,
            claim.mime_type or download.mime_type,
            filename=claim.filename,
            caption=claim.caption,
            voice=claim.voice,
            sha256=claim.sha256,
        )
    except whatsapp_media.FetchError as exc:
        _retry_or_give_up(claim, str(exc))
        return
    except AppError as exc:  # too large, or bytes that are not what Meta said: final
        _close(claim, "failed", exc.message)
        return
    try:
        _attach(claim, stored)
    except BaseException:
        stored.discard()
        raise


def _attach(claim: Claim, stored: StoredFile) -> None:
    """Tie the file to its message, close the row and log `message_media`, in one transaction."""
    message = db.session.scalar(select(Message).where(Message.id == claim.message_id))
    events.lock_event_log()
    closed = _close_row(claim, "done", None)
    if not closed:
        db.session.rollback()
        stored.discard()
        return
    media = Media(
        id=stored.id,
        user_id=message.user_id,
        conversation_id=message.conversation_id,
        message_id=message.id,
        storage_key=stored.storage_key,
        mime_type=stored.mime_type,
        size=stored.size,
        filename=stored.filename,
        caption=stored.caption,
        voice=stored.voice,
        sha256=stored.sha256,
        thumbnail_key=stored.thumbnail_key,
        created_at=stored.created_at,
    )
    db.session.add(media)
    db.session.flush()
    payload = MessageMedia(
        message_id=message.id, conversation_id=message.conversation_id, media=MediaRef.of(media)
    )
    event = events.record("message_media", message.user_id, message.conversation_id, payload)
    db.session.commit()
    broadcast.publish(event)
    log.info("file of message %s fetched (%d bytes)", message.id, stored.size)


def _close_row(claim: Claim, state: str, error: str | None) -> bool:
    return bool(
        db.session.execute(
            update(WhatsappMediaFetch)
            .where(
                WhatsappMediaFetch.id == claim.fetch_id,
                WhatsappMediaFetch.state == "queued",
                WhatsappMediaFetch.attempts == claim.attempt,
            )
            .values(state=state, last_error=error)
        ).rowcount
    )


def _close(claim: Claim, state: str, error: str) -> None:
    log.warning("file of message %s not fetched: %s", claim.message_id, error)
    _close_row(claim, state, error)
    db.session.commit()


def _retry_or_give_up(claim: Claim, reason: str) -> None:
    config = current_app.config
    if claim.attempt >= config["OUTBOUND_MAX_ATTEMPTS"]:
        _close(claim, "failed", f"gave up after {claim.attempt} attempts: {reason}")
        return
    delay = config["OUTBOUND_BACKOFF_SECONDS"] * 2 ** (claim.attempt - 1)
    db.session.execute(
        update(WhatsappMediaFetch)
        .where(
            WhatsappMediaFetch.id == claim.fetch_id,
            WhatsappMediaFetch.state == "queued",
            WhatsappMediaFetch.attempts == claim.attempt,
        )
        .values(next_attempt_at=utcnow() + timedelta(seconds=delay), last_error=reason)
    )
    db.session.commit()
    log.info(
        "file of message %s: try %d failed, retried in %.1f s: %s",
        claim.message_id,
        claim.attempt,
        delay,
        reason,
    )


def seconds_until_next(cap: float) -> float:
    """How long until the earliest queued file is due, at most `cap`."""
    from sqlalchemy import func

    due = db.session.scalar(
        select(func.min(WhatsappMediaFetch.next_attempt_at)).where(
            WhatsappMediaFetch.state == "queued"
        )
    )
    if due is None:
        return cap
    return min(cap, max(0.0, (due - utcnow()).total_seconds()))
