"""WSGI entry point: `gunicorn ... wsgi:app` (see Procfile)."""

from gevent import monkey

# Before anything imports socket, ssl, threading, redis or the database driver,
# or those calls would block the whole worker.
monkey.patch_all()

from app import create_app  # noqa: E402

app = create_app()
