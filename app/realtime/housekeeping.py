"""The background loop of a serving process: typing expiry, ring timeouts, slow
consumers, presence refresh, token sweep, unfinished uploads, snoozed conversations
coming due.

Started by the first socket connect, so `flask` commands (which import the
app too) never run it.
"""

import logging
import time

from app.extensions import db, socketio
from app.media import uploads
from app.realtime import broadcast, token_sweep
from app.services import calls, workflow
from app.transport import sessions

log = logging.getLogger(__name__)

TICK_SECONDS = 0.25


def ensure_started(app) -> None:
    """Start the loop once per app."""
    shared = app.extensions["inbox_state"]
    if not shared.housekeeping_started:
        shared.housekeeping_started = True
        socketio.start_background_task(_run, app, shared)


def _run(app, shared) -> None:
    last_token_sweep = last_upload_sweep = last_snooze_sweep = 0.0
    while True:
        socketio.sleep(TICK_SECONDS)
        try:
            expire_typing(shared)
            calls.expire_ringing(shared)
            sessions.cut_slow_consumers(app.config["SOCKET_MAX_BACKLOG_BYTES"])
            # Presence paces itself: a refresh every ttl/4 s, a retry after an outage.
            shared.presence.tick()
            # Last: it reads the database, and a database outage must not stop the rest.
            sweep_every = app.config["TOKEN_SWEEP_SECONDS"]
            if sweep_every and time.monotonic() - last_token_sweep >= sweep_every:
                last_token_sweep = time.monotonic()
                token_sweep.sweep(app, shared)
            upload_sweep_every = app.config["MEDIA_UPLOAD_SWEEP_SECONDS"]
            if upload_sweep_every and time.monotonic() - last_upload_sweep >= upload_sweep_every:
                last_upload_sweep = time.monotonic()
                uploads.expire(app)
            snooze_every = app.config["SNOOZE_SWEEP_SECONDS"]
            if snooze_every and time.monotonic() - last_snooze_sweep >= snooze_every:
                last_snooze_sweep = time.monotonic()
                wake_snoozes(app)
        except Exception:
            log.exception("housekeeping tick failed")


def expire_typing(shared) -> None:
    """Broadcast `isTyping: false` for everyone silent past the timeout.

    With Redis this includes the typers of processes that died, which every
    process sweeps for (app/realtime/shared_typing.py).
    """
    for conversation_id, user_id, sid in shared.typing.expired():
        broadcast.typing(conversation_id, user_id, False, skip_sid=sid)


def wake_snoozes(app) -> int:
    """Reopen the snoozed conversations that came due (each once, whichever process wins)."""
    with app.app_context():
        try:
            return workflow.wake_due_snoozes()
        finally:
            db.session.remove()
