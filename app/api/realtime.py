"""Who is online, across every server process; the ICE servers for a call."""

from flask import current_app
from flask_jwt_extended import current_user, jwt_required

from app.api import bp
from app.api.access import admin_required
from app.errors import Forbidden
from app.schemas.calls import IceServers
from app.schemas.http import BEARER, operation
from app.schemas.rest import RealtimeStatus, UserOnline, UserPath
from app.services.ice_servers import ice_servers as ice_servers_for
from app.services.users import get_user
from app.state import presence


@bp.get("/realtime/status")
@admin_required
@operation(responses={200: RealtimeStatus}, errors=(401, 403), security=BEARER)
def realtime_status():
    """How many distinct users are connected, and which (admins)."""
    online = presence().online_user_ids()
    return RealtimeStatus(connected_users=len(online), online_user_ids=online)


@bp.get("/users/<int:user_id>/online")
@jwt_required()
@operation(path=UserPath, responses={200: UserOnline}, errors=(401, 403, 404), security=BEARER)
def user_online(user_id: int):
    """Whether one user has a live socket (admins, or the user themself)."""
    if not current_user.is_admin and current_user.id != user_id:
        raise Forbidden("Only admins may see other users' presence")
    get_user(user_id)
    return UserOnline(user_id=user_id, online=presence().is_online(user_id))


@bp.get("/realtime/ice-servers")
@jwt_required()
@operation(responses={200: IceServers}, errors=(401,), security=BEARER)
def ice_servers():
    """The STUN/TURN servers for RTCPeerConnection, with TURN credentials good for `ttl` s.

    From TURN_URLS; each TURN credential is coturn's use-auth-secret scheme over
    TURN_SECRET: username `<expiry unix time>:<userId>`, credential
    base64(HMAC-SHA1(TURN_SECRET, username)). Without TURN_URLS the list is empty
    (calls then work only where the browsers reach each other directly).
    """
    return ice_servers_for(current_app.config, current_user.id)
