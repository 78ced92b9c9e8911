"""A rich message from the n8n webhook: its file fetched or taken from the request,
its quoted message looked up, or (a reaction) the reacted message changed."""

from werkzeug.datastructures import FileStorage

from app.errors import ValidationError
from app.media import fetch
from app.media.ingest import StoredFile, ingest, read_chunks
from app.schemas.webhooks import MEDIA_TYPES, IncomingMessage
from app.services import messages, reactions


def receive(incoming: IncomingMessage, part: FileStorage | None):
    """Store what n8n reported; returns (message, created) like messages.store.

    A repeated message_id is answered before any download. The file is stored
    first and the message after it; if the message is not stored, neither is
    the file.
    """
    if incoming.message_type == "reaction":
        return reactions.react(incoming.reaction.message_id, incoming.reaction.emoji), True
    existing = messages.find_by_whatsapp_id(incoming.message_id)
    if existing is not None:
        return existing, False
    stored = _take_file(incoming, part)
    try:
        message, created = messages.store(incoming, stored, _quoted(incoming))
    except BaseException:
        if stored is not None:
            stored.discard()
        raise
    if stored is not None and not created:
        stored.discard()  # a duplicate that raced this one kept its own file
    return message, created


def _quoted(incoming: IncomingMessage) -> str | None:
    """Our id of the quoted message (None when we never saw it)."""
    if incoming.context is None:
        return None
    quoted = messages.find_by_whatsapp_id(incoming.context.message_id)
    return quoted.id if quoted is not None else None


def _take_file(incoming: IncomingMessage, part: FileStorage | None) -> StoredFile | None:
    media = incoming.media
    if part is None and (media is None or media.url is None):
        if media is not None:
            raise ValidationError(
                "media.url is required (or send the file as multipart)", field="media.url"
            )
        if incoming.message_type in MEDIA_TYPES and not incoming.message_content:
            raise ValidationError(f"media is required for {incoming.message_type}", field="media")
        return None
    if incoming.message_type not in MEDIA_TYPES:
        raise ValidationError(
            "message_type must be one of " + ", ".join(MEDIA_TYPES) + " for a file",
            field="message_type",
        )
    declared = media.mime_type if media is not None else part.mimetype
    chunks = read_chunks(part.stream) if part is not None else fetch.download(media.url)
    return ingest(
        chunks,
        incoming.message_type,
        declared,
        filename=(media.filename if media else None) or (part.filename if part else None),
        caption=media.caption if media else None,
        voice=media.voice if media else False,
        sha256=media.sha256 if media else None,
    )
