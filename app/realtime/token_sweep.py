"""Cutting live sockets whose token stopped being valid after the handshake.

The handshake checks the token once; nothing in Socket.IO notices a logout, a
deactivation or an expiry afterwards. The housekeeping loop calls sweep()
every TOKEN_SWEEP_SECONDS. It reads the database, not process memory, so a
deactivation made by the CLI (another process) takes effect here too.
"""

import logging
import time
from collections.abc import Iterable

from sqlalchemy import select

from app.extensions import db, socketio
from app.models import RevokedToken, User
from app.realtime.connections import Connection

log = logging.getLogger(__name__)

_QUERY_BATCH = 500  # ids per IN (...) list, well under SQLite's parameter limit


def _batches(values: Iterable) -> Iterable[list]:
    values = list(values)
    for start in range(0, len(values), _QUERY_BATCH):
        yield values[start : start + _QUERY_BATCH]


def _revoked(jtis: set[str]) -> set[str]:
    """The jtis among these that a logout revoked."""
    found: set[str] = set()
    for batch in _batches(jtis):
        found.update(
            db.session.scalars(select(RevokedToken.jti).where(RevokedToken.jti.in_(batch)))
        )
    return found


def _active(user_ids: set[int]) -> set[int]:
    """The user ids among these that still exist and are active."""
    found: set[int] = set()
    for batch in _batches(user_ids):
        query = select(User.id).where(User.id.in_(batch), User.is_active.is_(True))
        found.update(db.session.scalars(query))
    return found


def stale(connections: list[Connection], now: float) -> list[Connection]:
    """The connections whose token (or its login session) expired or was revoked, or whose
    user is gone or inactive."""
    live = [c for c in connections if c.token_expires_at > now]
    revoked = _revoked({c.token_jti for c in live} | {c.session_jti for c in live} - {None})
    active = _active({c.user_id for c in live})
    return [
        c
        for c in connections
        if c.token_expires_at <= now
        or c.token_jti in revoked
        or c.session_jti in revoked
        or c.user_id not in active
    ]


def disconnect(sid: str) -> None:
    """Disconnect one socket from the server side and close its transport.

    The Socket.IO DISCONNECT makes real clients stop reconnecting on their own
    (socket.io-client: reason "io server disconnect"); closing the Engine.IO
    socket without waiting also ends a client that ignores that packet.
    """
    server = socketio.server
    eio_sid = server.manager.eio_sid_from_sid(sid, "/")
    server.disconnect(sid, namespace="/")
    transport = server.eio.sockets.get(eio_sid) if eio_sid else None
    if transport is not None:
        transport.close(wait=False)


def sweep(app, shared) -> int:
    """Disconnect every stale socket of this process; returns how many."""
    connections = shared.connections.all()
    if not connections:
        return 0
    with app.app_context():
        try:
            found = stale(connections, time.time())
        finally:
            db.session.remove()
    for connection in found:
        log.info(
            "disconnecting socket %s of user %s: token no longer valid",
            connection.sid,
            connection.user_id,
        )
        disconnect(connection.sid)
    return len(found)
