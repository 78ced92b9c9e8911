"""A snoozed conversation reopens by itself, once, with two server processes sweeping.

Two gunicorn processes share one database (PostgreSQL with TEST_DATABASE=postgres,
else one SQLite file); each runs the housekeeping loop (started by a socket) that
claims due snoozes with one UPDATE. However both race, each snooze is reopened,
and recorded as `conversation_updated`, exactly once.
"""

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.clients import PyClient
from tests.live_server import LiveServer

SWEEP_SECONDS = "0.2"


@pytest.fixture(scope="module")
def servers():
    env = {"SNOOZE_SWEEP_SECONDS": SWEEP_SECONDS}
    first = LiveServer(env=env).start()
    second = LiveServer(database_url=first.database_url, env=env).start()
    yield first, second
    second.close()
    first.close()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def reopen_events(server, token: str, conversation_id: int) -> list[dict]:
    page = requests.get(
        server.url + "/api/events", params={"limit": 1000}, headers=bearer(token), timeout=10
    ).json()
    return [
        e["data"]
        for e in page["events"]
        if e["event"] == "conversation_updated"
        and e["data"]["conversationId"] == conversation_id
        and e["data"]["status"] == "open"
    ]


def snooze_and_wait(server, token: str, conversation_id: int, count: int) -> None:
    """Snooze for a second, then wait until the log holds `count` reopenings."""
    until = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    response = requests.patch(
        f"{server.url}/api/conversations/{conversation_id}",
        json={"snoozedUntil": until},
        headers=bearer(token),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    deadline = time.monotonic() + 20
    while len(reopen_events(server, token, conversation_id)) < count:
        assert time.monotonic() < deadline, "the snooze never woke"
        time.sleep(0.2)


def test_each_snooze_wakes_once_across_processes(servers):
    first, second = servers
    admin_id = first.create_user("sweeper@example.com", role="ADMIN")
    tokens = first.login("sweeper@example.com")
    sockets = [PyClient(server.url, tokens["accessToken"]) for server in servers]
    try:
        created = first.post_webhook(
            {
                "user_id": admin_id,
                "customer_name": "Erteleme",
                "customer_phone": "+905550009999",
                "message_content": "Yarın dönün",
            }
        )
        conversation = created.json()["data"]["conversationId"]
        for round_number in (1, 2):
            snooze_and_wait(second, tokens["accessToken"], conversation, round_number)
        reopened = reopen_events(first, tokens["accessToken"], conversation)
        assert len(reopened) == 2  # one per snooze, never one per process
        conversations = requests.get(
            first.url + "/api/conversations", headers=bearer(tokens["accessToken"]), timeout=10
        ).json()
        assert [(c["status"], c["snoozedUntil"]) for c in conversations] == [("open", None)]
        # Each reopening reached the admin's sockets live, from whichever process claimed it.
        live = [e for s in sockets for e in s.of("conversation_updated") if e["status"] == "open"]
        assert {e["eventId"] for e in live} <= {e["eventId"] for e in reopened}
    finally:
        for socket in sockets:
            socket.close()
