"""The per-request bookkeeping of operations, in one before/after pair of hooks:
the request id (X-Request-ID in and out, in every log line: app/request_logging.py)
and the webhooks' latency histogram (app/metrics).

One pair, reading the WSGI environ once: every hook costs every request, the
webhooks' hot path included.
"""

import os
import re
import time

from flask import Flask, request

from app.metrics import WEBHOOK_SECONDS, labelled

HEADER = "X-Request-ID"
REQUEST_ID = "inbox.request_id"  # the id's key in the WSGI environ
_STARTED = "inbox.webhook_started"
_PLAIN_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
WEBHOOK_PREFIX = "/api/webhooks/"


def _before() -> None:
    environ = request.environ
    incoming = environ.get("HTTP_X_REQUEST_ID", "")
    environ[REQUEST_ID] = incoming if _PLAIN_ID.fullmatch(incoming) else os.urandom(16).hex()
    if environ.get("PATH_INFO", "").startswith(WEBHOOK_PREFIX):
        environ[_STARTED] = time.perf_counter()


def _after(response):
    environ = request.environ
    response.headers.add(HEADER, environ[REQUEST_ID])  # add: no handler sets it before
    started = environ.get(_STARTED)
    if started is not None:
        rule = request.url_rule
        path = rule.rule if rule is not None else "unrouted"
        labelled(WEBHOOK_SECONDS, path, str(response.status_code)).observe(
            time.perf_counter() - started
        )
    return response


def init_observability(app: Flask) -> None:
    """Registered before every other hook, so their logs carry the id and the clock sees them."""
    app.before_request(_before)
    app.after_request(_after)
