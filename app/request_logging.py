"""Logs as text or as JSON lines (LOG_FORMAT=json), and an id for every HTTP request.

Each request gets an id: the client's (or proxy's) `X-Request-ID` when it is a
plain token (1 to 128 letters, digits or `-_.:`), else a new random one. It goes
back in the response's `X-Request-ID` header and, in JSON logs, into every line
logged while the request is handled (`request_id`); a line logged by a socket
event handler carries the socket's `sid` instead. JSON lines come from
python-json-logger: `time`, `level`, `logger`, `message`, those ids, and
whatever a call passes in `extra`.
"""

import logging
import re
import uuid

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

HEADER = "X-Request-ID"
_PLAIN_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
FORMATS = ("text", "json")


def _assign_request_id() -> None:
    incoming = request.headers.get(HEADER, "")
    g.request_id = incoming if _PLAIN_ID.fullmatch(incoming) else uuid.uuid4().hex


def _return_request_id(response):
    request_id = g.get("request_id")
    if request_id is not None:
        response.headers[HEADER] = request_id
    return response


class RequestContext(logging.Filter):
    """Adds the request's id, or the socket's sid, to each record logged while handling it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            request_id = g.get("request_id")
            sid = getattr(request, "sid", None)
            if request_id is not None:
                record.request_id = request_id
            elif sid is not None:
                record.sid = sid
        return True


def json_handler(stream=None) -> logging.Handler:
    """A handler writing one JSON object a line, with the request's id."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        JsonFormatter(
            ["levelname", "name", "message"],
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",  # ISO 8601 in UTC, to the microsecond
        )
    )
    handler.addFilter(RequestContext())
    return handler


def init_request_ids(app: Flask) -> None:
    """Give every request its id (registered before other hooks, so their logs carry it)."""
    app.before_request(_assign_request_id)
    app.after_request(_return_request_id)


def configure_logging(app: Flask) -> None:
    """Text logs (logging's default format) or JSON lines, at LOG_LEVEL."""
    log_format = app.config["LOG_FORMAT"]
    if log_format not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {log_format!r}")
    if log_format == "json":
        logging.basicConfig(level=app.config["LOG_LEVEL"], handlers=[json_handler()], force=True)
    else:
        logging.basicConfig(level=app.config["LOG_LEVEL"])
    # gevent-websocket's line per HTTP request is costly under load.
    logging.getLogger("geventwebsocket.handler").setLevel(app.config["ACCESS_LOG_LEVEL"])
