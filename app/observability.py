"""Per-request bookkeeping of operations, as WSGI middleware around the Flask app:
the request id (X-Request-ID in and out, in every log line: app/request_logging.py)
and the webhooks' latency histogram (app/metrics).

Middleware rather than Flask hooks: each Flask hook costs every request a
dispatch and the response header a validation, and the webhooks' hot path is
what this must not slow down. Socket.IO's own requests never reach it (its
middleware sits outside the Flask app).
"""

import os
import re
import time

from app.metrics import WEBHOOK_SECONDS, labelled

HEADER = "X-Request-ID"
REQUEST_ID = "inbox.request_id"  # the id's key in the WSGI environ
_PLAIN_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
WEBHOOK_PREFIX = "/api/webhooks/"


def request_id_for(environ: dict) -> str:
    """The client's (or proxy's) X-Request-ID when it is a plain token, else a new one."""
    incoming = environ.get("HTTP_X_REQUEST_ID", "")
    return incoming if _PLAIN_ID.fullmatch(incoming) else os.urandom(16).hex()


class RequestObservation:
    """Gives each request its id (environ and response header) and times the webhooks."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        request_id = environ[REQUEST_ID] = request_id_for(environ)
        path = environ.get("PATH_INFO", "")
        answered = []

        def start(status, headers, exc_info=None):
            headers.append((HEADER, request_id))
            answered.append(status)
            return start_response(status, headers, exc_info)

        if not path.startswith(WEBHOOK_PREFIX):
            return self.wsgi_app(environ, start)
        started = time.perf_counter()
        body = self.wsgi_app(environ, start)
        status = answered[0][:3] if answered else "500"
        # A 404 is no route: its path is whatever was asked, not a label to keep.
        route = path if status != "404" else "unrouted"
        labelled(WEBHOOK_SECONDS, route, status).observe(time.perf_counter() - started)
        return body
