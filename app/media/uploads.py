"""Agents' files arriving in chunks over the socket: start (or resume), chunk, finish.

The upload's state is a database row (so a reconnect to another process can
resume it) and its bytes a file in MEDIA_UPLOAD_DIR (instance/uploads), appended in order: a
chunk must start where the last one ended, or it is refused with where to go
on. Finished, the file takes the path of every file (app/media/ingest.py) and
goes out as a reply; an upload left unfinished for MEDIA_UPLOAD_TTL_SECONDS is
deleted by the housekeeping loop.
"""

import logging
import re
import uuid
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, select, update

from app.errors import AppError
from app.extensions import db
from app.media import types
from app.media.ingest import ingest, read_chunks
from app.models import Conversation, MediaUpload, User
from app.realtime import broadcast
from app.schemas.messages import SentMessage
from app.schemas.socket import UploadChunk, UploadFinish, UploadProgress, UploadStart
from app.services import conversations, replies, reply_window
from app.timeutil import utcnow

log = logging.getLogger(__name__)

_MIME = re.compile(r"(image|audio|video|application|text)/[a-z0-9][a-z0-9.+-]{0,100}")


class UploadRefused(AppError):
    """A refused upload event; `received` (when known) tells the client where to go on."""

    def __init__(self, message: str, received: int | None = None):
        super().__init__(message)
        self.ack_extra = {} if received is None else {"received": received}


def _folder() -> Path:
    folder = Path(current_app.config["MEDIA_UPLOAD_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def part_path(upload_id: str) -> Path:
    return _folder() / f"{upload_id}.part"


def _own_upload(upload_id: str, user: User) -> MediaUpload:
    upload = db.session.get(MediaUpload, upload_id)
    if upload is None or upload.user_id != user.id:
        raise UploadRefused("Unknown upload")
    return upload


def start(user: User, data: UploadStart) -> MediaUpload:
    """A new upload, or (given `uploadId`) the one to resume."""
    if data.upload_id:
        return _own_upload(data.upload_id, user)
    conversation = conversations.get_visible(data.conversation_id, user)
    mime_type = types.base_type(data.mime_type)
    if not _MIME.fullmatch(mime_type):
        raise UploadRefused("Unsupported type")
    if data.size > types.SIZE_LIMITS[types.kind_for(mime_type)]:
        raise UploadRefused("File too large")
    upload = MediaUpload(
        id="upl_" + uuid.uuid4().hex,
        user_id=user.id,
        conversation_id=conversation.id,
        filename=data.filename,
        mime_type=mime_type,
        size=data.size,
        received=0,
    )
    db.session.add(upload)
    db.session.commit()
    part_path(upload.id).touch()
    return upload


def chunk(user: User, data: UploadChunk) -> int:
    """Append a chunk at its offset; returns the bytes received. Tells every tab."""
    upload = _own_upload(data.upload_id, user)
    end = data.offset + len(data.data)
    if data.offset != upload.received or end > upload.size:
        raise UploadRefused("Bad offset", upload.received)
    with part_path(upload.id).open("r+b") as part:
        part.seek(data.offset)
        part.write(data.data)
        part.truncate()
    moved = db.session.execute(
        update(MediaUpload)
        .where(MediaUpload.id == upload.id, MediaUpload.received == data.offset)
        .values(received=end)
    ).rowcount
    db.session.commit()
    if not moved:  # another tab's chunk at the same offset won
        db.session.refresh(upload)
        raise UploadRefused("Bad offset", upload.received)
    progress = UploadProgress(
        upload_id=upload.id, conversation_id=upload.conversation_id, received=end, size=upload.size
    )
    broadcast.upload_progress(user.id, progress)
    return end


def finish(user: User, data: UploadFinish):
    """Store the complete file and send it as a reply; returns the reply (SentMessage)."""
    upload = _own_upload(data.upload_id, user)
    if upload.received != upload.size:
        raise UploadRefused("Upload incomplete", upload.received)
    conversation = conversations.get_visible(upload.conversation_id, user)
    return send_file(
        conversation,
        user,
        read_chunks_of(part_path(upload.id)),
        upload.mime_type,
        upload.filename,
        data.caption,
        data.client_message_id,
        done=lambda: discard(upload.id),
    )


def read_chunks_of(path: Path):
    with path.open("rb") as part:
        yield from read_chunks(part)


def send_file(
    conversation: Conversation,
    author: User,
    chunks,
    declared_type: str,
    filename: str | None,
    caption: str | None,
    client_message_id: str | None,
    done=None,
):
    """Store a file and reply with it (the socket's finish and the REST multipart reply).

    A repeated clientMessageId returns the stored reply and keeps no second file.
    """
    existing = replies.find_by_client_id(conversation, client_message_id)
    if existing is None:
        reply_window.ensure_open(conversation)  # before the file is stored, not after
        kind = types.kind_for(declared_type)
        stored = ingest(chunks, kind, declared_type, filename=filename, caption=caption)
        reply, created = replies.create(
            conversation, author, caption or "", client_message_id, media=stored, message_type=kind
        )
        if not created:
            stored.discard()
    else:
        reply, created = SentMessage.of(existing), False
    if done is not None:
        done()
    return reply, created


def discard(upload_id: str) -> None:
    """Forget an upload and delete its bytes."""
    db.session.execute(delete(MediaUpload).where(MediaUpload.id == upload_id))
    db.session.commit()
    part_path(upload_id).unlink(missing_ok=True)


def expire(app) -> int:
    """Delete uploads left unfinished past MEDIA_UPLOAD_TTL_SECONDS; returns how many."""
    with app.app_context():
        cutoff = utcnow() - timedelta(seconds=app.config["MEDIA_UPLOAD_TTL_SECONDS"])
        stale = list(
            db.session.scalars(select(MediaUpload.id).where(MediaUpload.created_at < cutoff))
        )
        for upload_id in stale:
            discard(upload_id)
        if stale:
            log.info("deleted %d unfinished uploads", len(stale))
        return len(stale)
