"""LOG_FORMAT=json and METRICS_TOKEN on a real gunicorn: the worker logs JSON lines, each
line of a request carries the id the response returned, and /metrics answers its bearer."""

import json

import pytest
import requests

from tests.live_server import LiveServer

TOKEN = "live-metrics-token"


@pytest.fixture(scope="module")
def server():
    live = LiveServer(env={"LOG_FORMAT": "json", "METRICS_TOKEN": TOKEN}).start()
    yield live
    live.close()


def app_lines(server) -> list[dict]:
    """The app's JSON lines in the server's output (gunicorn's master keeps its own format)."""
    return [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]


def test_json_lines_carry_the_request_id_the_response_returned(server):
    body = {"email": "nobody@example.com", "password": "wrong"}
    ids = []
    for n in range(11):
        response = requests.post(
            server.url + "/api/auth/login", json=body, headers={"X-Request-ID": f"live-{n}"}
        )
        ids.append(response.headers["X-Request-ID"])
    assert response.status_code == 429
    assert ids == [f"live-{n}" for n in range(11)]
    generated = requests.get(server.url + "/health").headers["X-Request-ID"]
    assert len(generated) == 32

    lines = app_lines(server)
    assert any(line["logger"] == "app.outbound.sender" for line in lines)  # start-up, no id
    refused = [line for line in lines if line.get("request_id") == "live-10"]
    assert [line["logger"] for line in refused] == ["flask-limiter"]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)


def test_metrics_answer_only_their_bearer(server):
    assert requests.get(server.url + "/metrics").status_code == 401
    headers = {"Authorization": f"Bearer {TOKEN}"}
    response = requests.get(server.url + "/metrics", headers=headers)
    assert response.status_code == 200
    assert "\ninbox_sockets_connected 0.0\n" in response.text
