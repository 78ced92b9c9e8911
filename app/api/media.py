"""GET /api/media/<id>: a message's file, to its owner and admins."""

from flask_jwt_extended import current_user, verify_jwt_in_request

from app.api import bp
from app.media import links, serve
from app.schemas.http import BEARER, operation
from app.schemas.media import MediaPath, MediaQuery

FILE = "application/octet-stream"


@bp.get("/media/<media_id>")
@operation(
    path=MediaPath,
    query=MediaQuery,
    responses={200: FILE, 206: FILE},
    errors=(400, 401, 403, 404, 416),
    security=(*BEARER, {}),
)
def get_media(media_id: str, query: MediaQuery):
    """The file (Range requests answer 206), to the owner and admins.

    Authorized by a bearer token, or by the short-lived `token` inside
    `media.url` (for `<img src>` and n8n). Sent with `nosniff` and
    `Content-Security-Policy: sandbox`; anything but images, audio and video
    as an attachment.
    """
    media = serve.find(media_id)
    if not (query.token and links.token_allows(query.token, media.id)):
        verify_jwt_in_request()
        serve.check_access(media, current_user)
    return serve.response(media, query.thumbnail)
