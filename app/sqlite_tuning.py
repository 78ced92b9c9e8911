"""The embedded SQLite database's settings, and its WAL checkpoints off the event loop.

WAL and a busy timeout let the webhook write while readers read. SQLite also
checkpoints its write-ahead log from inside a commit once the log passes 1,000
pages, and with synchronous=NORMAL a checkpoint syncs the database file: the whole
gevent process then waits, a few to tens of milliseconds, every hundred or so
webhooks (their p99 at 1,000/s fell from about 30 ms to about 2 ms without it,
docs/performance.md). A process gunicorn serves therefore turns that off and
checkpoints once a second from a native thread of gevent's pool instead, at the
lowest CPU priority, while the event loop goes on. `flask` commands and tests
keep SQLite's own checkpoints.
"""

import logging
import os
import sqlite3
import threading

from sqlalchemy import event

from app.extensions import db, socketio

log = logging.getLogger(__name__)

CHECKPOINT_SECONDS = 1.0


def engine_options(app) -> None:
    """Before the engine exists: a file has no connection to lose, and a pre-ping
    would cost a statement per request."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, "pool_pre_ping": False}


def tune(app) -> None:
    """Set the pragmas on every new connection; when served, start the checkpointer."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        engine = db.engine
    path = engine.url.database
    in_thread = bool(path) and path != ":memory:" and _served()

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
        if in_thread:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    if in_thread:
        socketio.start_background_task(_checkpoint_every_second, path)


def _served() -> bool:
    return os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn")


def _checkpoint_every_second(path: str) -> None:
    run = _in_native_thread if socketio.server.eio.async_mode == "gevent" else _direct
    while True:
        socketio.sleep(CHECKPOINT_SECONDS)
        try:
            run(checkpoint, path)
        except Exception:
            log.exception("WAL checkpoint of %s failed; trying again", path)


def _in_native_thread(function, *args):
    import gevent

    return gevent.get_hub().threadpool.apply(_yielding, (function, *args))


def _yielding(function, *args):
    """Run at the lowest CPU priority: on a busy core, requests go first."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except OSError:
        pass  # not allowed here; it runs at the process's priority
    return function(*args)


def _direct(function, *args):
    return function(*args)


def checkpoint(path: str) -> tuple[int, int, int]:
    """Copy what the WAL holds into the database file, never waiting for anyone.

    Returns SQLite's (busy, frames in the log, frames checkpointed).
    """
    connection = sqlite3.connect(path, timeout=5)
    try:
        return connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        connection.close()
