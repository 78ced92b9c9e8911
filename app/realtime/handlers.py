"""Socket.IO event handlers: validate, authorize, call a service, answer the ack.

Each client event answers with an ack of {"ok": true} or {"error": message};
every refusal is also sent as an `error` event.
"""

import functools
import inspect
import logging

from flask import current_app, request
from flask_socketio import ConnectionRefusedError, join_room, leave_room, rooms
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.exc import DBAPIError

from app.errors import AppError, Forbidden
from app.extensions import db, socketio
from app.metrics import RATE_LIMITED, REPLAYED_EVENTS, REPLAYS
from app.models import User
from app.realtime import broadcast, housekeeping, lifecycle
from app.realtime.connections import Connection
from app.realtime.event_limits import EventLimit
from app.realtime.rooms import ADMIN_ROOM, conversation_room, user_room
from app.schemas.socket import (
    CLIENT_EVENTS,
    Ack,
    ClientEvent,
    ClientPayload,
    ConversationRef,
    ErrorEvent,
    MarkRead,
    Refusal,
    ResyncRequired,
    Typing,
)
from app.services import calls, conversations, events, messages
from app.services.auth import SESSION_CLAIM, AuthenticationFailed, user_from_access_token
from app.state import presence, state

log = logging.getLogger(__name__)


class Refused(Exception):
    """A client event refused with the contract's message (and keys its ack adds)."""

    def __init__(self, message: str, ack_extra: dict | None = None):
        super().__init__(message)
        self.ack_extra = ack_extra or {}


@socketio.on("connect")
def on_connect(auth=None):
    """Authenticate the handshake token, join the user's rooms, replay what was missed."""
    if lifecycle.sent_by_client():
        return lifecycle.ignored()
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
        Connection(
            request.sid,
            user.id,
            user.is_admin,
            claims["jti"],
            float(claims["exp"]),
            claims.get(SESSION_CLAIM),
        )
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
    REPLAYS.labels("resync" if missed is None else "replayed").inc()
    return _send_replay(missed, last_event_id)


def _replay_since(user, after: int) -> None:
    """After joining the rooms: what committed during the replay, which the rooms missed.

    Rooms joined before this read lose nothing committed in between; live
    events may interleave with it, and clients drop the repeats.
    """
    missed = events.missed_after(user, after, current_app.config["EVENT_REPLAY_LIMIT"])
    _send_replay(missed, after)


def _send_replay(missed, after: int) -> int | None:
    """Emit replayed events to this socket in eventId order, page by page (the worker
    serves others in between); None asks it to resync. Returns the largest eventId sent
    (or `after`), None after a resync."""
    if missed is None:
        broadcast.to_socket(request.sid, "resync_required", ResyncRequired().model_dump())
        return None
    for page in missed:
        REPLAYED_EVENTS.inc(len(page))
        for event in page:
            broadcast.to_socket(request.sid, event.name, event.data)
        after = max(after, page[-1].id)
    return after


@socketio.on("disconnect")
def on_disconnect(reason=None):
    """Forget the socket; clear its typing indicators; update presence."""
    if lifecycle.sent_by_client():
        return lifecycle.ignored()
    shared = state()
    connection = shared.connections.remove(request.sid)
    for conversation_id, user_id, sid in shared.typing.drop_socket(request.sid):
        broadcast.typing(conversation_id, user_id, False, skip_sid=sid)
    if connection is not None:
        presence().disconnect(connection.user_id, request.sid)
        calls.socket_gone(shared, request.sid, connection.user_id)


def client_event(
    name: str,
    payload: type[ClientPayload],
    refusals: tuple[str, ...] = (),
    limits: tuple[EventLimit, ...] | None = None,
    ack: type[BaseModel] = Ack,
):
    """Register a client event handler with its payload model (validated before the
    handler runs), the rate limit, and the ack/error replies.

    `refusals` are the event's own refusal messages, for the AsyncAPI document.
    `limits` replaces the socket's default 10 events a second for this event
    (app/realtime/event_limits.py). A handler that answers more than `{"ok": true}`
    declares its `ack` model and returns an instance of it.
    """

    if name in lifecycle.LIFECYCLE_EVENTS:
        raise ValueError(f"{name!r} is the server's own event, not a client event")

    def decorator(handler):
        summary, _, description = inspect.cleandoc(handler.__doc__ or "").partition("\n")
        CLIENT_EVENTS[name] = ClientEvent(
            name, payload, refusals, summary.strip(), description.strip(), ack
        )

        @socketio.on(name)
        @functools.wraps(handler)
        def wrapper(*args):
            try:
                answer = _run_checked(handler, payload, args[0] if args else None, limits)
            except Refused as exc:
                return _refuse(str(exc), exc.ack_extra)
            return (answer or Ack()).model_dump(mode="json")

        return wrapper

    return decorator


def _validated(payload: type[ClientPayload], data) -> ClientPayload:
    """The event's payload as its model, or the refusal naming the bad field."""
    try:
        return payload.model_validate(data)
    except PydanticValidationError as exc:
        location = exc.errors(include_url=False)[0]["loc"]
        raise Refused(f"Invalid {location[0]}" if location else payload.invalid) from None


def _run_checked(
    handler, payload: type[ClientPayload], data, limits: tuple[EventLimit, ...] | None
) -> BaseModel | None:
    """Run the handler on the validated payload; returns its ack model (None: the plain one)."""
    connection = state().connections.get(request.sid)
    if connection is None:
        raise Refused("Unauthorized")
    if not state().connections.allow_event(request.sid, limits, data):
        RATE_LIMITED.labels("socket_events").inc()
        raise Refused("Rate limit exceeded")
    data = _validated(payload, data)
    try:
        return handler(connection, data)
    except Forbidden as exc:
        raise Refused("Unauthorized") from exc
    except AppError as exc:
        raise Refused(exc.message, getattr(exc, "ack_extra", None)) from exc
    except DBAPIError as exc:
        db.session.rollback()
        log.warning("database unavailable during a socket event: %s", exc)
        raise Refused("Service unavailable") from exc


def _refuse(message: str, ack_extra: dict | None = None) -> dict:
    broadcast.to_socket(request.sid, "error", ErrorEvent(message=message).model_dump())
    return {**Refusal(error=message).model_dump(), **(ack_extra or {})}


def _current_user(connection: Connection) -> User:
    """The socket's user, re-read so a deactivation takes effect at once."""
    user = db.session.get(User, connection.user_id)
    if user is None or not user.is_active:
        raise Refused("Unauthorized")
    return user


CONVERSATION_REFUSALS = ("Invalid conversationId", "Conversation not found", "Unauthorized")


@client_event("join_conversation", ConversationRef, CONVERSATION_REFUSALS)
def join_conversation(connection: Connection, data: ConversationRef) -> None:
    """Join a conversation's room (owner or admin), to get its typing and read events."""
    conversation = conversations.get_visible(data.root, _current_user(connection))
    join_room(conversation_room(conversation.id))


@client_event("leave_conversation", ConversationRef, CONVERSATION_REFUSALS)
def leave_conversation(connection: Connection, data: ConversationRef) -> None:
    """Leave a conversation's room; a typing indicator there stops."""
    conversation = conversations.get_visible(data.root, _current_user(connection))
    leave_room(conversation_room(conversation.id))
    if state().typing.update(request.sid, connection.user_id, conversation.id, False):
        broadcast.typing(conversation.id, connection.user_id, False, skip_sid=request.sid)


@client_event("typing", Typing, ("Invalid conversationId", "Invalid isTyping", "Unauthorized"))
def typing(connection: Connection, data: Typing) -> None:
    """Tell the conversation's room that the sender is typing (or stopped).

    Only in a joined conversation. A repeated `isTyping: true` is broadcast at
    most once per 500 ms per socket and conversation; a `false` always goes out.
    """
    if conversation_room(data.conversation_id) not in rooms():
        raise Refused("Unauthorized")
    if state().typing.update(request.sid, connection.user_id, data.conversation_id, data.is_typing):
        broadcast.typing(
            data.conversation_id, connection.user_id, data.is_typing, skip_sid=request.sid
        )


@client_event("mark_read", MarkRead, ("Invalid messageId", "Message not found", "Unauthorized"))
def mark_read(connection: Connection, data: MarkRead) -> None:
    """Mark a message read (owner or admin); emits `message_read`, like the REST PATCH."""
    messages.mark_read(data.message_id, _current_user(connection))


from app.realtime import uploads  # noqa: E402,F401  (registers the upload events)
