"""Socket.IO event handlers: validate, authorize, call a service, answer the ack.

Each client event answers with an ack of {"ok": true} or {"error": message};
every refusal is also sent as an `error` event.
"""

import functools
import logging

from flask import current_app, request
from flask_socketio import ConnectionRefusedError, join_room, leave_room, rooms
from sqlalchemy.exc import DBAPIError

from app.errors import AppError, Forbidden
from app.extensions import db, socketio
from app.metrics import RATE_LIMITED, REPLAYED_EVENTS, REPLAYS
from app.models import User
from app.realtime import broadcast, housekeeping
from app.realtime.connections import Connection
from app.realtime.event_limits import EventLimit
from app.realtime.rooms import ADMIN_ROOM, conversation_room, user_room
from app.services import conversations, events, messages
from app.services.auth import AuthenticationFailed, user_from_access_token
from app.state import presence, state

log = logging.getLogger(__name__)


class Refused(Exception):
    """A client event refused with the contract's message."""


@socketio.on("connect")
def on_connect(auth=None):
    """Authenticate the handshake token, join the user's rooms, replay what was missed."""
    auth = auth if isinstance(auth, dict) else {}
    try:
        user, claims = user_from_access_token(auth.get("token"))
    except AuthenticationFailed as exc:
        raise ConnectionRefusedError(exc.message) from exc
    except DBAPIError as exc:
        db.session.rollback()
        raise ConnectionRefusedError("Service unavailable") from exc
    _claim_socket_slot(user.id)
    state().connections.add(
        Connection(request.sid, user.id, user.is_admin, claims["jti"], float(claims["exp"]))
    )
    housekeeping.ensure_started(current_app._get_current_object())
    # The replay goes out before the socket joins its rooms: a live event sent in
    # the middle of it would carry a larger eventId than the replay still owes, and
    # a client dropped right then would resume past what it never got.
    replayed_to = None
    if "lastEventId" in auth and auth["lastEventId"] is not None:
        replayed_to = _replay(user, auth["lastEventId"])
    join_room(user_room(user.id))
    if user.is_admin:
        join_room(ADMIN_ROOM)
    if replayed_to is not None:
        _replay_since(user, replayed_to)


def _claim_socket_slot(user_id: int) -> None:
    """Count this socket in the user's presence, refusing it past MAX_SOCKETS_PER_USER.

    Counting first and undoing on refusal keeps two racing connects from both
    slipping under the limit (the count spans every process with Redis).
    """
    if presence().connect(user_id, request.sid) > current_app.config["MAX_SOCKETS_PER_USER"]:
        presence().disconnect(user_id, request.sid)
        raise ConnectionRefusedError("Too many connections")


def _replay(user, last_event_id) -> int | None:
    """Send what this user missed since `last_event_id`, or ask for a REST resync.

    Returns the eventId the log was read up to (None after a resync), from where
    _replay_since sends what committed meanwhile once the rooms are joined.
    """
    valid = isinstance(last_event_id, int) and not isinstance(last_event_id, bool)
    missed = None
    if valid and last_event_id >= 0:
        missed = events.replay_for(user, last_event_id, current_app.config["EVENT_REPLAY_LIMIT"])
    _send_replay(missed)
    return None if missed is None else max([last_event_id, *(event.id for event in missed)])


def _replay_since(user, after: int) -> None:
    """After joining the rooms: what committed during the replay, which the rooms missed.

    Rooms joined before this read lose nothing committed in between; live
    events may interleave with it, and clients drop the repeats.
    """
    _send_replay(events.missed_after(user, after, current_app.config["EVENT_REPLAY_LIMIT"]))


def _send_replay(missed: list | None) -> None:
    """Emit replayed events to this socket in eventId order; None asks it to resync."""
    if missed is None:
        REPLAYS.labels("resync").inc()
        broadcast.to_socket(request.sid, "resync_required", {})
        return
    REPLAYS.labels("replayed").inc()
    REPLAYED_EVENTS.inc(len(missed))
    for event in missed:
        broadcast.to_socket(request.sid, event.name, event.data)


@socketio.on("disconnect")
def on_disconnect(reason=None):
    """Forget the socket; clear its typing indicators; update presence."""
    shared = state()
    connection = shared.connections.remove(request.sid)
    for conversation_id, user_id, sid in shared.typing.drop_socket(request.sid):
        broadcast.typing(conversation_id, user_id, False, skip_sid=sid)
    if connection is not None:
        presence().disconnect(connection.user_id, request.sid)


def client_event(name: str, limits: tuple[EventLimit, ...] | None = None):
    """Register a client event handler with its rate limit and the ack/error replies.

    `limits` replaces the socket's default 10 events a second for this event
    (app/realtime/event_limits.py).
    """

    def decorator(handler):
        @socketio.on(name)
        @functools.wraps(handler)
        def wrapper(*args):
            try:
                _run_checked(handler, args[0] if args else None, limits)
            except Refused as exc:
                return _refuse(str(exc))
            return {"ok": True}

        return wrapper

    return decorator


def _run_checked(handler, data, limits: tuple[EventLimit, ...] | None) -> None:
    connection = state().connections.get(request.sid)
    if connection is None:
        raise Refused("Unauthorized")
    if not state().connections.allow_event(request.sid, limits, data):
        RATE_LIMITED.labels("socket_events").inc()
        raise Refused("Rate limit exceeded")
    try:
        handler(connection, data)
    except Forbidden as exc:
        raise Refused("Unauthorized") from exc
    except AppError as exc:
        raise Refused(exc.message) from exc
    except DBAPIError as exc:
        db.session.rollback()
        log.warning("database unavailable during a socket event: %s", exc)
        raise Refused("Service unavailable") from exc


def _refuse(message: str) -> dict:
    broadcast.to_socket(request.sid, "error", {"message": message})
    return {"error": message}


def _conversation_id(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise Refused("Invalid conversationId")
    return value


def _current_user(connection: Connection) -> User:
    """The socket's user, re-read so a deactivation takes effect at once."""
    user = db.session.get(User, connection.user_id)
    if user is None or not user.is_active:
        raise Refused("Unauthorized")
    return user


@client_event("join_conversation")
def join_conversation(connection: Connection, data) -> None:
    """Join a conversation room (owner or admin)."""
    conversation = conversations.get_visible(_conversation_id(data), _current_user(connection))
    join_room(conversation_room(conversation.id))


@client_event("leave_conversation")
def leave_conversation(connection: Connection, data) -> None:
    """Leave a conversation room; stop any typing indicator there."""
    conversation = conversations.get_visible(_conversation_id(data), _current_user(connection))
    leave_room(conversation_room(conversation.id))
    if state().typing.update(request.sid, connection.user_id, conversation.id, False):
        broadcast.typing(conversation.id, connection.user_id, False, skip_sid=request.sid)


@client_event("typing")
def typing(connection: Connection, data) -> None:
    """Broadcast a typing change to the conversation room, throttled."""
    if not isinstance(data, dict):
        raise Refused("Invalid conversationId")
    conversation_id = _conversation_id(data.get("conversationId"))
    is_typing = data.get("isTyping")
    if not isinstance(is_typing, bool):
        raise Refused("Invalid isTyping")
    if conversation_room(conversation_id) not in rooms():
        raise Refused("Unauthorized")
    if state().typing.update(request.sid, connection.user_id, conversation_id, is_typing):
        broadcast.typing(conversation_id, connection.user_id, is_typing, skip_sid=request.sid)


def _comparable_text(value) -> bool:
    """A non-empty string the database can compare; no message id is anything else.

    PostgreSQL refuses NUL in text, and a lone surrogate ("\\ud800" in the JSON)
    cannot be encoded for any database.
    """
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@client_event("mark_read")
def mark_read(connection: Connection, data) -> None:
    """Mark a message read (owner or admin)."""
    message_id = data.get("messageId") if isinstance(data, dict) else None
    if not _comparable_text(message_id):
        raise Refused("Invalid messageId")
    messages.mark_read(message_id, _current_user(connection))
