"""The STUN/TURN servers a browser needs for a call, with short-lived TURN credentials.

The credentials follow coturn's `use-auth-secret` scheme (the "TURN REST API"):
coturn shares TURN_SECRET with this server and checks each credential itself,
so nothing is stored and a leaked one stops working when it expires.
"""

import base64
import hashlib
import hmac
import time

from app.schemas.calls import IceServer, IceServers


def turn_credential(
    secret: str, user_id: int, ttl: int, now: float | None = None
) -> tuple[str, str]:
    """(username, password): `<expiry unix time>:<user id>`, base64(HMAC-SHA1(secret, username))."""
    username = f"{int(now if now is not None else time.time()) + ttl}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(config, user_id: int) -> IceServers:
    """TURN_URLS as RTCConfiguration.iceServers: STUN as they are, TURN with a credential."""
    urls = [url.strip() for url in config["TURN_URLS"].split(",") if url.strip()]
    stun = [url for url in urls if url.startswith(("stun:", "stuns:"))]
    turn = [url for url in urls if url.startswith(("turn:", "turns:"))]
    ttl = config["TURN_TTL_SECONDS"]
    servers = [IceServer(urls=stun)] if stun else []
    if turn:
        username, credential = (None, None)
        if config["TURN_SECRET"]:
            username, credential = turn_credential(config["TURN_SECRET"], user_id, ttl)
        servers.append(IceServer(urls=turn, username=username, credential=credential))
    return IceServers(ice_servers=servers, ttl=ttl)
