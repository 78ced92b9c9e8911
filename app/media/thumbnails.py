"""Small JPEG previews of images, for the conversation list and the thread (Pillow)."""

import io
import logging
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

log = logging.getLogger(__name__)

THUMBNAIL_PIXELS = 320
# A 5 MB image may still decode to a huge bitmap (a decompression bomb): refuse
# to thumbnail more pixels than a 64-megapixel photo.
MAX_PIXELS = 64_000_000


def make_thumbnail(source: BinaryIO) -> io.BytesIO | None:
    """A JPEG at most THUMBNAIL_PIXELS on its longer side, or None when it cannot be made."""
    try:
        with Image.open(source) as image:
            if image.width * image.height > MAX_PIXELS:
                return None
            image = ImageOps.exif_transpose(image)
            image.thumbnail((THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))
            if image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
            out = io.BytesIO()
            image.save(out, "JPEG", quality=80)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        log.info("no thumbnail: %s", exc)
        return None
    out.seek(0)
    return out
