"""The one place that emits server-to-client events.

Each event goes out as a single emit to the set of rooms that may see it, so a
socket in several of them (an admin who owns the conversation) receives it once.
"""

import logging
from typing import TYPE_CHECKING

from pydantic import BaseModel

from app.extensions import socketio
from app.metrics import EVENTS_EMITTED, labelled
from app.models import Event
from app.realtime.rooms import ADMIN_ROOM, conversation_room, user_room
from app.schemas.socket import UserTyping

if TYPE_CHECKING:
    from app.services.events import RecordedEvent

log = logging.getLogger(__name__)

# Which rooms, besides the owner's and the admins', see each durable event.
_WITH_CONVERSATION_ROOM = {"message_read"}


def rooms_for(event: "Event | RecordedEvent") -> list[str]:
    """The rooms a durable event is addressed to."""
    rooms = [user_room(event.user_id), ADMIN_ROOM]
    if getattr(event, "also_user_id", None) is not None:
        rooms.append(user_room(event.also_user_id))
    if event.name in _WITH_CONVERSATION_ROOM:
        rooms.append(conversation_room(event.conversation_id))
    return rooms


def publish(event: "RecordedEvent") -> None:
    """Emit a committed durable event to everyone who may see it.

    A lost emit is not fatal: the event is in the log, so clients get it on their
    next reconnect or poll, and with Redis the message queue re-sends what an
    outage kept from other processes (app/realtime/message_queue.py).
    """
    labelled(EVENTS_EMITTED, event.name).inc()
    try:
        socketio.emit(event.name, event.data, to=rooms_for(event))
    except Exception:
        log.exception("emit of event %s failed; clients will get it from the log", event.id)


def to_socket(sid: str, name: str, data: dict) -> None:
    """Emit to one socket of this process (replay, refusals).

    Not through the message queue: no other process has the socket, and a
    reconnect storm's replays would otherwise flood Redis and every process.
    """
    labelled(EVENTS_EMITTED, name).inc()
    socketio.emit(name, data, to=sid, ignore_queue=True)


def typing(conversation_id: int, user_id: int, is_typing: bool, skip_sid: str | None) -> None:
    """Tell a conversation room that someone started or stopped typing."""
    payload = UserTyping(
        user_id=user_id, conversation_id=conversation_id, is_typing=is_typing
    ).model_dump()
    labelled(EVENTS_EMITTED, "user_typing").inc()
    socketio.emit("user_typing", payload, to=conversation_room(conversation_id), skip_sid=skip_sid)


def empty_conversation_room(conversation_id: int) -> None:
    """Take every socket, on every process, out of a conversation's room.

    After a transfer the previous owner must stop getting the conversation's
    typing and read events; who else was in the room joins again (the panel does
    on `conversation_updated`), and is checked again as it does.
    """
    socketio.close_room(conversation_room(conversation_id))


def call_event(name: str, payload: BaseModel, to: list[str], skip_sid: str | None = None) -> None:
    """Emit a call's signalling event to sockets or rooms, through the message queue:
    the other party may be connected to another process."""
    labelled(EVENTS_EMITTED, name).inc()
    socketio.emit(name, payload.model_dump(), to=to, skip_sid=skip_sid)


def upload_progress(user_id: int, payload) -> None:
    """Tell every socket of an uploader how far its upload got (ephemeral: no eventId)."""
    labelled(EVENTS_EMITTED, "upload_progress").inc()
    socketio.emit("upload_progress", payload.model_dump(), to=user_room(user_id))
