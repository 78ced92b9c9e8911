"""Taking in a file (a webhook's download or part, an agent's upload): bounded copy,
sha256, sniffed type, storage, thumbnail. The one path every file takes in."""

import base64
import binascii
import hashlib
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from app.errors import ValidationError
from app.media import types
from app.media.storage import CHUNK_BYTES, storage
from app.media.thumbnails import make_thumbnail
from app.models import new_media_id
from app.timeutil import utcnow


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file in the storage, not yet tied to a message (the message's transaction does that).

    Its attributes are named like the Media row's, which it becomes.
    """

    id: str
    storage_key: str
    mime_type: str
    size: int
    sha256: str
    filename: str | None
    caption: str | None
    voice: bool
    thumbnail_key: str | None
    created_at: datetime

    def discard(self) -> None:
        """Delete the bytes (the message was not stored after all)."""
        for key in (self.storage_key, self.thumbnail_key):
            if key:
                storage().delete(key)


def storage_key(media_id: str, now: datetime) -> str:
    """Keys spread by month, so a folder listing (or prune) stays small."""
    return f"{now:%Y/%m}/{media_id}"


def spool(chunks: Iterable[bytes], limit_kind: str) -> tuple[BinaryIO, int, str]:
    """Copy chunks to a temporary file, 413 as soon as they pass the kind's limit.

    Returns (file at offset 0, size, sha256 hex).
    """
    spooled = tempfile.TemporaryFile()
    digest = hashlib.sha256()
    size = 0
    try:
        for chunk in chunks:
            size += len(chunk)
            types.check_size(limit_kind, size)
            digest.update(chunk)
            spooled.write(chunk)
    except BaseException:
        spooled.close()
        raise
    spooled.seek(0)
    return spooled, size, digest.hexdigest()


def read_chunks(fileobj: BinaryIO) -> Iterable[bytes]:
    while chunk := fileobj.read(CHUNK_BYTES):
        yield chunk


def check_sha256(expected: str | None, actual_hex: str) -> None:
    """WhatsApp's sha256 (base64, or hex) must match the bytes, when n8n passes it on."""
    if not expected:
        return
    expected = expected.strip()
    if expected.lower() == actual_hex:
        return
    try:
        if base64.b64decode(expected, validate=True) == bytes.fromhex(actual_hex):
            return
    except (binascii.Error, ValueError):
        pass
    raise ValidationError("media.sha256 does not match the file", field="media.sha256")


def ingest(
    chunks: Iterable[bytes],
    kind: str,
    declared_type: str | None,
    *,
    filename: str | None = None,
    caption: str | None = None,
    voice: bool = False,
    sha256: str | None = None,
) -> StoredFile:
    """Store a file of message type `kind`: 413 over its limit, 400 when its bytes lie."""
    spooled, size, digest = spool(chunks, kind)
    with spooled:
        head = spooled.read(types.SNIFF_BYTES)
        mime_type = types.sniffed_type(kind, declared_type, head)
        check_sha256(sha256, digest)
        media_id, now = new_media_id(), utcnow()
        key = storage_key(media_id, now)
        thumbnail_key = None
        if mime_type.startswith("image/") and kind == "image":
            spooled.seek(0)
            thumbnail = make_thumbnail(spooled)
            if thumbnail is not None:
                thumbnail_key = key + ".thumb.jpg"
                storage().save(thumbnail_key, thumbnail, "image/jpeg")
        spooled.seek(0)
        storage().save(key, spooled, mime_type)  # last: boto3 closes the file it sent
    return StoredFile(
        id=media_id,
        storage_key=key,
        mime_type=mime_type,
        size=size,
        sha256=digest,
        filename=filename,
        caption=caption,
        voice=voice,
        thumbnail_key=thumbnail_key,
        created_at=now,
    )
