"""The sender: hands queued replies over (n8n, or WhatsApp directly with
OUTBOUND_TRANSPORT=whatsapp), inside the web process or `flask outbox run`.

In the web process it is a background task of the gevent worker, started by the
app factory only under gunicorn, so `flask` commands (which import the app too)
never run it. Several senders, in any number of processes, may run at once:
each attempt is claimed atomically in the database.
"""

import logging
import os
import threading

from flask import Flask, current_app

from app.extensions import db, socketio
from app.outbound import n8n, whatsapp
from app.services import media_fetches, outbox

log = logging.getLogger(__name__)

# The longest wait between two looks at the queue; new replies wake the sender at once.
POLL_SECONDS = 1.0
BATCH = 20


def start_if_served(app: Flask) -> None:
    """Run the sender in this process when gunicorn serves it (and OUTBOUND_IN_WEB allows)."""
    served = os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn")
    if served and app.config["OUTBOUND_IN_WEB"]:
        socketio.start_background_task(run, app)


def run(app: Flask, stop: threading.Event | None = None) -> None:
    """Send due replies until `stop` is set (forever without one)."""
    wakeup = outbox.wakeup_event(app)
    log.info(
        "outbound sender started (%s: %s)",
        app.config["OUTBOUND_TRANSPORT"],
        app.config["WHATSAPP_GRAPH_URL"]
        if app.config["OUTBOUND_TRANSPORT"] == "whatsapp"
        else app.config["N8N_OUTBOUND_URL"] or "not set",
    )
    while stop is None or not stop.is_set():
        wakeup.clear()
        wakeup.wait(tick(app))


def tick(app: Flask) -> float:
    """One pass over the due replies and files to fetch; returns how long to wait."""
    with app.app_context():
        try:
            send_due()
            media_fetches.fetch_due()
            return min(
                outbox.seconds_until_next(POLL_SECONDS),
                media_fetches.seconds_until_next(POLL_SECONDS),
            )
        except Exception:
            # The database may be down: keep the loop alive and look again later.
            log.exception("outbound sender pass failed")
            db.session.rollback()
            return POLL_SECONDS


def send_due() -> int:
    """Hand every due reply to n8n once; returns how many attempts were made."""
    attempts = 0
    for delivery_id in outbox.due_ids(BATCH):
        attempt = outbox.claim(delivery_id)
        if attempt is not None:
            deliver(attempt)
            attempts += 1
    return attempts


def _transport(app: Flask):
    """The hand-off of OUTBOUND_TRANSPORT: n8n's webhook, or the WhatsApp Graph API."""
    return whatsapp.send if app.config["OUTBOUND_TRANSPORT"] == "whatsapp" else n8n.hand_off


def deliver(attempt: outbox.Attempt) -> None:
    """One attempt: hand the reply over (n8n or WhatsApp), then record the outcome."""
    try:
        whatsapp_id = _transport(current_app)(attempt.payload)
    except whatsapp.Refused as exc:
        log.warning("reply %s refused by WhatsApp (%s): %s", attempt.message_id, exc.code, exc)
        outbox.record_refusal(attempt, str(exc), exc.code)
        return
    except n8n.HandOffError as exc:
        log.warning("reply %s attempt %d failed: %s", attempt.message_id, attempt.number, exc)
        outbox.record_failure(attempt, str(exc))
        return
    outbox.record_success(attempt, whatsapp_id)
    log.info("reply %s handed over at attempt %d", attempt.message_id, attempt.number)
