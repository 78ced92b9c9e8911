"""A serving process that stops on purpose (SIGTERM, SIGINT) hands its sockets over
before it exits.

Without this, its presence entries in Redis outlived it by up to
PRESENCE_TTL_SECONDS (its users showed online, and their dead sockets counted
against the 20-socket cap while they reconnected elsewhere), and its sockets stayed
open until gunicorn's graceful timeout ran out, so every stop took that long.
Now, as soon as gunicorn tells the worker to stop:

1. its sockets leave presence, in one Redis round trip;
2. once gunicorn no longer accepts connections (within a second), every socket's
   transport is dropped (ending its typing indicators), without a Socket.IO
   DISCONNECT: clients take it for a lost connection and reconnect by themselves,
   through the proxy to another process, with their lastEventId;
3. with no connection left, the worker exits.

Only a process that is killed (SIGKILL, a crash) still leaves its entries to
expire. gunicorn.conf.py starts the watcher (post_worker_init) and repeats step
1 when the worker exits (worker_exit), for SIGINT and SIGQUIT, which exit at once.
"""

import logging
import time

import gevent
from flask import Flask

from app.extensions import socketio

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1
# gunicorn closes its listening sockets at its next look at `alive`, once a second.
LISTENERS_CLOSE_WITHIN = 3.0


def withdraw_sockets(app: Flask) -> int:
    """Take every socket of this process out of presence, for good; returns how many.

    In one round trip: a process with thousands of sockets should not spend its
    last seconds on a Redis call for each.
    """
    shared = app.extensions.get("inbox_state")
    if shared is None:
        return 0
    withdrawn = shared.presence.withdraw()
    log.info("stopping: withdrew %d socket(s) from presence", withdrawn)
    return withdrawn


def drop_transports(app: Flask) -> int:
    """Drop every socket's transport so its client reconnects elsewhere; returns how many.

    Each drop runs the disconnect handler (registry, typing indicators). No
    Socket.IO DISCONNECT is sent: it would tell clients not to come back.
    """
    dropped = 0
    with app.app_context():
        for transport in list(socketio.server.eio.sockets.values()):
            transport.close(wait=False, abort=True)
            dropped += 1
    log.info("stopping: dropped %d connection(s); their clients reconnect elsewhere", dropped)
    return dropped


def hand_over_when_stopping(worker) -> None:
    """Watch a gunicorn worker; when it is told to stop, hand its sockets over (above)."""
    gevent.spawn(_hand_over_when_stopping, worker, worker.wsgi)


def _hand_over_when_stopping(worker, app: Flask) -> None:
    while worker.alive:
        gevent.sleep(POLL_SECONDS)
    withdraw_sockets(app)
    # A client dropped while this process still accepts would come straight back here.
    deadline = time.monotonic() + LISTENERS_CLOSE_WITHIN
    while any(listener.fileno() >= 0 for listener in worker.sockets):  # -1 once closed
        if time.monotonic() > deadline:
            break
        gevent.sleep(POLL_SECONDS / 2)
    drop_transports(app)
