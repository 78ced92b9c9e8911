"""Request ids (X-Request-ID in and out) and JSON log lines that carry them.

The same through a real gunicorn with LOG_FORMAT=json: tests/integration/test_json_logs_live.py.
"""

import io
import json
import logging

import pytest
from flask import request

from app import create_app
from app.request_logging import json_handler


@pytest.fixture
def json_lines():
    """Every record logged meanwhile, as the JSON lines LOG_FORMAT=json writes."""
    stream = io.StringIO()
    handler = json_handler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    level, root.level = root.level, logging.INFO
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_request_without_an_id_gets_a_new_one_back(client):
    first = client.get("/health").headers["X-Request-ID"]
    second = client.get("/health").headers["X-Request-ID"]
    assert len(first) == 32 and int(first, 16) >= 0
    assert first != second


def test_a_plain_incoming_id_is_kept_and_a_strange_one_replaced(client):
    kept = client.get("/health", headers={"X-Request-ID": "lb-7f3a:9.x_y-z"})
    assert kept.headers["X-Request-ID"] == "lb-7f3a:9.x_y-z"
    for strange in ("has space", "x" * 129, "new\\nline", "ünï"):
        replaced = client.get("/health", headers={"X-Request-ID": strange})
        assert replaced.headers["X-Request-ID"] != strange
        assert len(replaced.headers["X-Request-ID"]) == 32


def test_every_line_logged_during_a_request_carries_its_id(client, json_lines):
    body = {"email": "nobody@example.com", "password": "wrong"}
    for n in range(11):
        response = client.post("/api/auth/login", json=body, headers={"X-Request-ID": f"req-{n}"})
    assert response.status_code == 429
    lines = json_lines()
    refused = [line for line in lines if line["logger"] == "flask-limiter"]
    assert refused and {line["request_id"] for line in refused} == {"req-10"}
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert all(line.get("request_id", "req-10").startswith("req-") for line in lines)


def test_a_socket_event_logs_its_sid(app, json_lines):
    with app.test_request_context("/socket.io/"):
        request.sid = "socket-sid-1"  # as Flask-SocketIO sets it for each event
        logging.getLogger("app.realtime.handlers").warning("refused")
    (line,) = json_lines()
    assert (line["sid"], line["message"], line["level"]) == ("socket-sid-1", "refused", "WARNING")
    assert "request_id" not in line


def test_an_unknown_log_format_is_refused_at_start():
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        create_app({"CONFIG": "testing", "LOG_FORMAT": "xml"})
