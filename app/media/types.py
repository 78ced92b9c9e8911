"""What a media file is: its kind (WhatsApp's message types), size limits, sniffed type.

The stored type is always the one sniffed from the bytes (`filetype`, pure
Python); the declared one only has to agree with it on the family (image,
audio, video), or the file is refused as lying about itself.
"""

import filetype

from app.errors import PayloadTooLarge, ValidationError

MB = 1024 * 1024
# WhatsApp's own limits per message type.
SIZE_LIMITS = {
    "image": 5 * MB,
    "audio": 16 * MB,
    "video": 16 * MB,
    "document": 100 * MB,
    "sticker": 500 * 1024,
}
MEDIA_KINDS = tuple(SIZE_LIMITS)
LARGEST = max(SIZE_LIMITS.values())
# The bytes filetype needs to recognize every type it knows.
SNIFF_BYTES = 261
_FAMILY = {"image": "image", "sticker": "image", "audio": "audio", "video": "video"}
# Containers that hold audio as often as video: a browser's voice recording is
# audio/webm, which sniffs as the WebM container (video/webm).
_AUDIO_CONTAINERS = {"video/webm", "video/mp4", "video/3gpp", "video/quicktime"}
FALLBACK_TYPE = "application/octet-stream"


def base_type(mime: str | None) -> str:
    """`audio/ogg; codecs=opus` -> `audio/ogg`."""
    return (mime or "").split(";", 1)[0].strip().lower()


def kind_for(mime: str) -> str:
    """The message type an agent's file goes out as, by its (declared or sniffed) type."""
    family = base_type(mime).partition("/")[0]
    return family if family in ("image", "audio", "video") else "document"


def check_size(kind: str, size: int) -> None:
    """413 when a file is over its kind's limit."""
    limit = SIZE_LIMITS[kind]
    if size > limit:
        raise PayloadTooLarge(f"A {kind} may be at most {limit} bytes", field="media")


def sniffed_type(kind: str, declared: str | None, head: bytes) -> str:
    """The type to store for a file of `kind` that starts with `head`.

    400 (field `media`) when the bytes are not of the family the message type
    or the declared type says.
    """
    sniffed = filetype.guess_mime(head[:SNIFF_BYTES]) if head else None
    declared_family = base_type(declared).partition("/")[0]
    for family in {
        _FAMILY.get(kind),
        declared_family if declared_family in _FAMILY.values() else None,
    }:
        if family is not None and not _of_family(sniffed, family):
            raise ValidationError(
                f"media bytes are not {family} (they look like {sniffed or 'unknown data'})",
                field="media",
            )
    if sniffed is None:
        return _unsniffable(declared, head)
    if _FAMILY.get(kind) == "audio" and sniffed in _AUDIO_CONTAINERS:
        return "audio/" + sniffed.partition("/")[2]
    return sniffed


def _of_family(sniffed: str | None, family: str) -> bool:
    if sniffed is None:
        return False
    if family == "audio" and sniffed in _AUDIO_CONTAINERS:
        return True
    return sniffed.startswith(family + "/")


def _unsniffable(declared: str | None, head: bytes) -> str:
    """A document no signature recognizes: plain text when it reads as UTF-8, else bytes."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the head is still text.
        if exc.start < len(head) - 3:
            return FALLBACK_TYPE
    text_type = base_type(declared)
    return text_type if text_type in ("text/plain", "text/csv") else "text/plain"
