"""Calls between a user and the support team: who may call whom, and each step of a call.

The server only signals: it rings the callee, lets one of the callee's sockets
answer, relays SDP and ICE candidates between the two sockets in the call, and
ends the call (hang-up, rejection, a 30 s ring without answer, a party's socket
closing). Calls are ephemeral: nothing is stored in the database and no event
goes through the event log. Every emit goes through the message queue, so the
two parties may be connected to different processes.
"""

import logging
import time
import uuid

from flask import current_app

from app.errors import AppError, Forbidden
from app.extensions import db
from app.models import User
from app.realtime import broadcast
from app.realtime.call_store import Call, new_deadline
from app.realtime.rooms import user_room
from app.redis_support import ERRORS
from app.schemas.calls import CallAccepted, CallEnded, CallIncoming, CallSignalEvent
from app.services.ids import is_int_id
from app.state import presence, state

log = logging.getLogger(__name__)


class CallRefused(AppError):
    """A call step refused with the message its ack carries."""


def _store():
    return state().calls


def invite(caller: User, caller_sid: str, to_user_id: int, kind: str) -> str:
    """Ring every socket of the callee; returns the new call's id."""
    callee = _callee(caller, to_user_id)
    if not presence().is_online(callee.id):
        raise CallRefused("User offline")
    ring_seconds = current_app.config["CALL_RING_TIMEOUT_SECONDS"]
    call = Call(
        call_id=f"call_{uuid.uuid4().hex}",
        caller_id=caller.id,
        caller_sid=caller_sid,
        callee_id=callee.id,
        kind=kind,
        ring_deadline=new_deadline(ring_seconds),
    )
    _store().add(call)
    incoming = CallIncoming(
        call_id=call.call_id,
        from_user_id=caller.id,
        from_name=caller.name or caller.email,
        kind=kind,
    )
    broadcast.call_event("call_incoming", incoming, [user_room(callee.id)])
    return call.call_id


def _callee(caller: User, to_user_id: int) -> User:
    """The user to ring: anyone for an admin, an admin for a user."""
    if to_user_id == caller.id:
        raise CallRefused("Invalid toUserId")
    callee = db.session.get(User, to_user_id) if is_int_id(to_user_id) else None
    if not caller.is_admin and (callee is None or not callee.is_admin):
        raise Forbidden("Users may call admins only")
    if callee is None or not callee.is_active:
        raise CallRefused("User not found")
    return callee


def accept(user_id: int, sid: str, call_id: str) -> None:
    """Answer a ringing call on this socket; the callee's other sockets stop ringing."""
    call = _own_ringing_call(user_id, call_id)
    if not _store().answer(call.call_id, sid):
        raise CallRefused("Call already answered" if _store().get(call_id) else "Call not found")
    elsewhere = CallEnded(call_id=call.call_id, reason="answered_elsewhere")
    broadcast.call_event("call_ended", elsewhere, [user_room(user_id)], skip_sid=sid)
    accepted = CallAccepted(call_id=call.call_id, by_user_id=user_id)
    broadcast.call_event("call_accepted", accepted, [call.caller_sid])


def reject(user_id: int, call_id: str) -> None:
    """Decline a ringing call: it ends for both sides with reason `rejected`."""
    _own_ringing_call(user_id, call_id)
    call = _store().remove(call_id, ringing_only=True)
    if call is None:
        raise CallRefused("Call not found")
    _announce_end(call, "rejected")


def _own_ringing_call(user_id: int, call_id: str) -> Call:
    call = _store().get(call_id)
    if call is None:
        raise CallRefused("Call not found")
    if call.callee_id != user_id:
        raise Forbidden("Only the callee may answer a call")
    if not call.ringing:
        raise CallRefused("Call already answered")
    return call


def relay_signal(user_id: int, sid: str, call_id: str, data) -> None:
    """Pass signalling data to the other party's socket in the call, and to no other."""
    call = _store().get(call_id)
    if call is None:
        raise CallRefused("Call not found")
    if sid not in (call.caller_sid, call.answer_sid):
        raise Forbidden("Only the sockets in a call may signal in it")
    if call.ringing:
        raise CallRefused("Call not answered")
    to_sid = call.answer_sid if sid == call.caller_sid else call.caller_sid
    signal = CallSignalEvent(call_id=call_id, from_user_id=user_id, data=data)
    broadcast.call_event("call_signal", signal, [to_sid])


def hang_up(user_id: int, sid: str, call_id: str) -> None:
    """End a call from one of its sockets (the callee's, any of them while it rings)."""
    call = _store().get(call_id)
    if call is None:
        raise CallRefused("Call not found")
    ringing_callee = call.ringing and user_id == call.callee_id
    if sid not in (call.caller_sid, call.answer_sid) and not ringing_callee:
        raise Forbidden("Only the sockets in a call may end it")
    ended = _store().remove(call_id)
    if ended is None:
        raise CallRefused("Call not found")
    _announce_end(ended, "ended")


def _announce_end(call: Call, reason: str) -> None:
    """call_ended to both parties: the caller's socket, and the answering socket (every
    socket of the callee while it was still ringing)."""
    callee = call.answer_sid or user_room(call.callee_id)
    ended = CallEnded(call_id=call.call_id, reason=reason)
    broadcast.call_event("call_ended", ended, [call.caller_sid, callee])


def socket_gone(shared, sid: str, user_id: int) -> None:
    """A socket closed: end its calls; with the user's last socket, the calls ringing it."""
    try:
        ids = shared.calls.listed_under(f"sid:{sid}")
        last_socket = shared.presence.socket_count(user_id) == 0
        ringing = shared.calls.listed_under(f"callee:{user_id}") if last_socket else []
        ended = [shared.calls.remove(i) for i in ids]
        ended += [shared.calls.remove(i, ringing_only=True) for i in ringing]
    except ERRORS as exc:
        log.warning("calls of a closed socket not ended (redis unavailable): %s", exc)
        return
    for call in filter(None, ended):
        _announce_end(call, "disconnected")


def expire_ringing(shared) -> None:
    """End the calls that rang past their deadline (`timeout`); any process may sweep."""
    try:
        overdue = shared.calls.overdue(time.time())
        ended = [shared.calls.remove(call_id, ringing_only=True) for call_id in overdue]
    except ERRORS as exc:
        log.debug("ring timeouts not swept (redis unavailable): %s", exc)
        return
    for call in filter(None, ended):
        _announce_end(call, "timeout")
