"""The upload events: an agent's file in chunks over the socket (app/media/uploads.py)."""

from app.media import uploads
from app.realtime.connections import Connection
from app.realtime.event_limits import EventLimit
from app.realtime.handlers import _current_user, client_event
from app.schemas.socket import (
    UploadAck,
    UploadChunk,
    UploadFinish,
    UploadFinished,
    UploadStart,
)
from app.transport.attachments import UPLOAD_CHUNK_BYTES

UPLOAD_REFUSALS = ("Unauthorized", "Unknown upload", "Conversation not found")
# A 16 MB file is 342 chunks: the default 10 events a second would take 34 s.
CHUNK_LIMITS = (
    EventLimit("upload_chunk", "400/second"),
    EventLimit("upload_bytes", f"{32 * 1024 * 1024}/second", cost=lambda data: _chunk_bytes(data)),
)


def _chunk_bytes(data) -> int:
    chunk = data.get("data") if isinstance(data, dict) else None
    return len(chunk) if isinstance(chunk, bytes | bytearray) else 1


@client_event(
    "upload_start",
    UploadStart,
    (*UPLOAD_REFUSALS, "File too large", "Unsupported type", "Invalid conversationId"),
    ack=UploadAck,
)
def upload_start(connection: Connection, data: UploadStart) -> UploadAck:
    """Start an upload (owner or admin of the conversation), or resume one by `uploadId`.

    The ack says `uploadId`, `chunkSize` and how much was `received`: go on from there.
    """
    upload = uploads.start(_current_user(connection), data)
    return UploadAck(upload_id=upload.id, chunk_size=UPLOAD_CHUNK_BYTES, received=upload.received)


@client_event(
    "upload_chunk",
    UploadChunk,
    (*UPLOAD_REFUSALS, "Bad offset", "Invalid data"),
    limits=CHUNK_LIMITS,
    ack=UploadAck,
)
def upload_chunk(connection: Connection, data: UploadChunk) -> UploadAck:
    """The next bytes, at `offset` = what was received so far.

    Every socket of the uploader gets `upload_progress`. A wrong offset is
    refused with `Bad offset`, and the ack's `received` says where to go on.
    """
    return UploadAck(received=uploads.chunk(_current_user(connection), data))


@client_event(
    "upload_finish", UploadFinish, (*UPLOAD_REFUSALS, "Upload incomplete"), ack=UploadFinished
)
def upload_finish(connection: Connection, data: UploadFinish) -> UploadFinished:
    """Send the complete file as a reply: emitted as `new_message`, handed on to n8n."""
    reply, _created = uploads.finish(_current_user(connection), data)
    return UploadFinished(message=reply)
