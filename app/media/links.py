"""Signed links to a media file: what `media.url` carries for `<img src>` and n8n.

The credential is an itsdangerous token over the media id, signed with
SECRET_KEY and valid for MEDIA_URL_SECONDS (default one hour): long enough for
n8n to fetch an outgoing file, short enough that a leaked link soon dies.
"""

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

_SALT = "media-link"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def media_url(media_id: str, *, thumbnail: bool = False) -> str:
    """The path that serves this media (or its thumbnail) without a bearer token."""
    token = _serializer().dumps(media_id)
    suffix = "&thumbnail=1" if thumbnail else ""
    return f"/api/media/{media_id}?token={token}{suffix}"


def absolute_media_url(media_id: str) -> str:
    """media_url under PUBLIC_URL, for n8n (which is not on our origin)."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return base + media_url(media_id)


def token_allows(token: str, media_id: str) -> bool:
    """Whether `token` is a live credential for this media id."""
    try:
        signed_id = _serializer().loads(token, max_age=current_app.config["MEDIA_URL_SECONDS"])
    except (SignatureExpired, BadSignature):
        return False
    return signed_id == media_id
