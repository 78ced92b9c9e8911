"""WSGI entry point: `gunicorn ... wsgi:app` (see Procfile)."""

import gevent
from gevent import monkey

# Before anything imports socket, ssl, threading, redis or the database driver,
# or those calls would block the whole worker.
monkey.patch_all()
# gevent keeps each greenlet's spawning stack and parent for debugging: a stack
# extract per request, and memory for as long as a socket's greenlet lives.
gevent.config.track_greenlet_tree = False

from app import create_app  # noqa: E402

app = create_app()
