"""Serving a stored file to the browser and to n8n, safely.

`nosniff` and `Content-Security-Policy: sandbox` keep a file from running as a
page of ours; anything but images, audio and video is a download.
"""

from urllib.parse import quote

from flask import Response
from sqlalchemy import select

from app.errors import Forbidden, NotFound
from app.extensions import db
from app.media.storage import storage
from app.models import Conversation, Media, User
from app.services.conversations import can_access

_INLINE_FAMILIES = ("image/", "audio/", "video/")


def find(media_id: str) -> Media:
    media = db.session.get(Media, media_id) if media_id.isascii() else None
    if media is None:
        raise NotFound("Media not found")
    return media


def check_access(media: Media, user: User) -> None:
    """The conversation's current owner, or an admin."""
    owner = db.session.scalar(
        select(Conversation.user_id).where(Conversation.id == media.conversation_id)
    )
    if owner is None or not can_access(user, owner):
        raise Forbidden("Unauthorized")


def response(media: Media, thumbnail: bool) -> Response:
    """The file (or its thumbnail) streamed, with Range support and the safety headers."""
    if thumbnail and media.thumbnail_key:
        key = media.thumbnail_key
        served = storage().response(key, "image/jpeg", storage().size(key))
        inline = True
    else:
        served = storage().response(media.storage_key, media.mime_type, media.size)
        inline = media.mime_type.startswith(_INLINE_FAMILIES)
    served.headers["X-Content-Type-Options"] = "nosniff"
    served.headers["Content-Security-Policy"] = "sandbox"
    served.headers["Cache-Control"] = "private, max-age=0"
    served.headers["Content-Disposition"] = _disposition(media, inline)
    return served


def _disposition(media: Media, inline: bool) -> str:
    kind = "inline" if inline else "attachment"
    name = media.filename or media.id
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "'").replace("\\", "_")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
