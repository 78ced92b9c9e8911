"""The call signalling events (docs/calls.md): thin handlers over app/services/calls.py."""

import contextlib
import json

from flask import request

from app.errors import AppError
from app.realtime.connections import Connection
from app.realtime.event_limits import EventLimit
from app.realtime.handlers import _current_user, client_event
from app.redis_support import ERRORS
from app.schemas.calls import SIGNAL_MAX_BYTES, CallInvite, CallInvited, CallRef, CallSignal
from app.services import calls

CALL_REFUSALS = ("Invalid callId", "Call not found", "Unauthorized")
# Answering, declining and hanging up share one budget per socket.
STEP_LIMIT = (EventLimit("call_step", "10/second"),)


def _signal_bytes(data) -> int:
    """What one call_signal costs against the byte budget: its payload as JSON."""
    try:
        return min(len(json.dumps(data, separators=(",", ":"))), SIGNAL_MAX_BYTES + 1)
    except (TypeError, ValueError):
        return 1


@contextlib.contextmanager
def _calls_reachable():
    """Call state lives in Redis with REDIS_URL: an outage refuses the step, changes nothing."""
    try:
        yield
    except ERRORS as exc:
        raise AppError("Service unavailable") from exc


@client_event(
    "call_invite",
    CallInvite,
    ("Invalid toUserId", "Invalid kind", "User not found", "User offline", "Unauthorized"),
    limits=(EventLimit("call_invite", "10/minute"),),
    ack=CallInvited,
)
def call_invite(connection: Connection, data: CallInvite) -> CallInvited:
    """Call a user; their sockets get `call_incoming`, and it rings for 30 s.

    An admin may call anyone, a user only admins. The ack carries the new call's id.
    """
    with _calls_reachable():
        call_id = calls.invite(_current_user(connection), request.sid, data.to_user_id, data.kind)
    return CallInvited(call_id=call_id)


@client_event(
    "call_accept",
    CallRef,
    (*CALL_REFUSALS, "Call already answered"),
    limits=STEP_LIMIT,
)
def call_accept(connection: Connection, data: CallRef) -> None:
    """Answer a ringing call on this socket (the callee only).

    The caller gets `call_accepted`; the callee's other sockets get `call_ended` with
    reason `answered_elsewhere`.
    """
    with _calls_reachable():
        calls.accept(connection.user_id, request.sid, data.call_id)


@client_event(
    "call_reject",
    CallRef,
    (*CALL_REFUSALS, "Call already answered"),
    limits=STEP_LIMIT,
)
def call_reject(connection: Connection, data: CallRef) -> None:
    """Decline a ringing call (the callee only): both sides get `call_ended` `rejected`."""
    with _calls_reachable():
        calls.reject(connection.user_id, data.call_id)


@client_event(
    "call_signal",
    CallSignal,
    (*CALL_REFUSALS, "Invalid data", "Call not answered"),
    # Trickle ICE sends a burst of candidates at once; SDPs are a few KiB.
    limits=(
        EventLimit("call_signal", "50/second"),
        EventLimit("call_signal_bytes", f"{256 * 1024}/second", cost=_signal_bytes),
    ),
)
def call_signal(connection: Connection, data: CallSignal) -> None:
    """Relay WebRTC signalling (an SDP or an ICE candidate, at most 64 KiB) to the other
    party's socket in the call, as `call_signal {callId, fromUserId, data}`."""
    with _calls_reachable():
        calls.relay_signal(connection.user_id, request.sid, data.call_id, data.data)


@client_event("call_end", CallRef, CALL_REFUSALS, limits=STEP_LIMIT)
def call_end(connection: Connection, data: CallRef) -> None:
    """Hang up (or, while it rings, cancel): both sides get `call_ended` `ended`."""
    with _calls_reachable():
        calls.hang_up(connection.user_id, request.sid, data.call_id)
