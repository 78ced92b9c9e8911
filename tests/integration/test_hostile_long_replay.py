"""A 1,000-event replay and GET /api/events?limit=1000 do not stall the worker.

Both read and send the log in pages of 100, letting other greenlets run between
pages (app/services/events.py pages()). Before, each was built and sent in one
piece, and every other request waited for the whole of it.

While a client reconnects with lastEventId=0 to 1,000 missed events of about
2 KB each (and while one REST call fetches them), /health is asked over and
over from another thread. Checked: the replay arrives whole, in eventId order,
without doubles; /health keeps answering during it: some answers come back
while the replay is still going out, and none waits half as long as the replay
(before: one waited about as long as the whole replay, 180 of 211 ms here).
"""

import json
import statistics
import threading
import time

import pytest
import requests

from tests.integration import hostile
from tests.live_server import LiveServer
from tests.reliability_figures import record

EVENTS = 1000
CONTENT = "ç" * 1000  # about 2 KB of JSON per event


@pytest.fixture(scope="module")
def server():
    live = LiveServer().start()
    live.user_id = live.create_user("replayed@example.com")
    with requests.Session() as session:
        for n in range(EVENTS):
            body = {
                "user_id": live.user_id,
                "customer_name": "Ayşe",
                "customer_phone": "+905550003333",
                "message_content": f"{n} {CONTENT}",
            }
            response = session.post(
                live.url + "/api/webhooks/n8n/message",
                json=body,
                headers={"X-Webhook-Secret": "live-webhook-secret"},
                timeout=10,
            )
            assert response.status_code == 201, response.text
    yield live
    live.close()


class HealthAsker:
    """Asks /health back to back in a thread; keeps when each answer came and took."""

    def __init__(self, server):
        self.url = server.url + "/health"
        self.answers: list[tuple[float, float]] = []  # (answered at, seconds taken)
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with requests.Session() as session:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    ok = session.get(self.url, timeout=10).status_code == 200
                except requests.RequestException:
                    ok = False
                if ok:
                    self.answers.append((time.monotonic(), time.monotonic() - started))
                else:
                    self.failures += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def during(self, start: float, end: float) -> list[float]:
        """Seconds taken by the answers that came back between start and end."""
        return [taken for at, taken in self.answers if start < at < end]


def wait_for_answers(asker: HealthAsker, count: int = 5) -> None:
    deadline = time.monotonic() + 10
    while len(asker.answers) < count:
        assert time.monotonic() < deadline, "no /health answers"
        time.sleep(0.01)


def test_a_1000_event_replay_goes_out_whole_in_order_while_health_answers(server):
    token = server.login("replayed@example.com")["accessToken"]
    asker = HealthAsker(server)
    ws = hostile.open_websocket(server)
    try:
        assert ws.recv().startswith("0{")
        wait_for_answers(asker)
        started = time.monotonic()
        ws.send("40" + json.dumps({"token": token, "lastEventId": 0}))
        ids, first_at = [], None
        while len(ids) < EVENTS:
            message = ws.recv()
            if message == "2":
                ws.send("3")
            elif message.startswith('42["new_message"'):
                first_at = first_at or time.monotonic()
                ids.append(json.loads(message[2:])[1]["eventId"])
        finished = time.monotonic()
    finally:
        ws.close()
        asker.stop()
    assert ids == sorted(set(ids)) and len(ids) == EVENTS
    during = asker.during(started, finished)
    replay_seconds = finished - started
    figures = {
        "replay_seconds": round(replay_seconds, 3),
        "health_answers_during": len(during),
        "health_max_ms": round(max(during, default=0) * 1000, 1),
        "health_p50_ms": round(statistics.median(during) * 1000, 1) if during else None,
    }
    record("hostile: 1,000-event replay on reconnect", **figures)
    assert asker.failures == 0
    assert len(during) >= 3, figures
    assert max(during) < replay_seconds / 2, figures


def test_get_events_with_limit_1000_is_whole_while_health_answers(server):
    token = server.login("replayed@example.com")["accessToken"]
    asker = HealthAsker(server)
    try:
        wait_for_answers(asker)
        started = time.monotonic()
        response = server.get("/api/events", token, after=0, limit=1000)
        finished = time.monotonic()
    finally:
        asker.stop()
    assert response.status_code == 200
    page = response.json()
    ids = [event["eventId"] for event in page["events"]]
    assert ids == sorted(set(ids)) and len(ids) == EVENTS
    assert page["lastEventId"] == ids[-1]
    assert all(event["data"]["eventId"] == event["eventId"] for event in page["events"])
    during = asker.during(started, finished)
    figures = {
        "request_seconds": round(finished - started, 3),
        "health_answers_during": len(during),
        "health_max_ms": round(max(during, default=0) * 1000, 1),
    }
    record("hostile: GET /api/events?limit=1000", **figures)
    assert asker.failures == 0
    assert len(during) >= 3, figures
