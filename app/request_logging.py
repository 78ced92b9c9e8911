"""Logs as text or as JSON lines (LOG_FORMAT=json), each line of a request with its id.

Each request gets an id (app/observability.py): the client's (or proxy's)
`X-Request-ID` when it is a plain token (1 to 128 letters, digits or `-_.:`),
else a new random one, returned in the response's `X-Request-ID`. In JSON logs
it is the `request_id` of every line logged while the request is handled; a
line logged by a socket event handler carries the socket's `sid` instead. JSON
lines come from python-json-logger: `time`, `level`, `logger`, `message`, those
ids, and whatever a call passes in `extra`.
"""

import logging

from flask import Flask, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

from app.observability import REQUEST_ID

FORMATS = ("text", "json")


class RequestContext(logging.Filter):
    """Adds the request's id, or the socket's sid, to each record logged while handling it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            request_id = request.environ.get(REQUEST_ID)
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
