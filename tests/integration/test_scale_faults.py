"""Faults under a stream of webhooks, with two server processes sharing Redis and PostgreSQL.

- `kill -9` of process A: its users are shown offline within the presence
  expiry, its typers get `isTyping: false` from B, and its clients reconnect to
  B with their lastEventId and lose nothing.
- Redis stopped (SIGTERM or SIGKILL) and restarted, or frozen (SIGSTOP) and
  resumed, mid-stream: webhooks keep answering 201, and every connected client
  ends with every message once.

Each test prints its figures (posted, received, lost, duplicates, shown twice);
SCALE_FIGURES=<file> also appends them there (docs/deploy.md quotes them).
"""

import pytest
import requests

from app.realtime.shared_typing import SharedTypingTracker
from tests.integration.scale_cluster import (
    PRESENCE_TTL_SECONDS,
    TYPING_TIMEOUT_SECONDS,
    Session,
    Stream,
    cluster_fixtures,
    first_true,
    has_all,
    message_body,
    new_phone,
    online,
    record_figures,
    tally,
    wait_until,
)

# The typer's process dies right after `true`: its expiry, the sweepers' grace,
# one sweep period, and a second for a loaded test machine.
TYPING_FALSE_WITHIN = TYPING_TIMEOUT_SECONDS + SharedTypingTracker.GRACE_SECONDS + 2
OFFLINE_WITHIN = PRESENCE_TTL_SECONDS + 1


# Always PostgreSQL and a private Redis, whatever TEST_DATABASE says.
pytestmark = pytest.mark.database_pinned


cluster, fresh_sockets = cluster_fixtures(
    owner="USER", typist="USER", admin="ADMIN", admin2="ADMIN"
)


def typing_conversation(cluster) -> tuple[Session, Session, int]:
    """The typist on A typing in their conversation, watched by an admin on B."""
    body = message_body(cluster.typist.id, "typing here", new_phone())
    conversation = cluster.b.post_webhook(body).json()["data"]["conversationId"]
    typist = Session(cluster, cluster.a, cluster.typist)
    watcher = Session(cluster, cluster.b, cluster.admin2)
    for session in (typist, watcher):
        assert session.connections[0].call("join_conversation", conversation) == {"ok": True}
    typist.connections[0].call("typing", {"conversationId": conversation, "isTyping": True})
    watcher.connections[0].wait_for("user_typing")
    return typist, watcher, conversation


def test_kill_9_of_a_process_loses_nothing_and_clears_its_users(cluster):
    typist, watcher, conversation = typing_conversation(cluster)
    sessions = [
        Session(cluster, cluster.a, cluster.owner),
        Session(cluster, cluster.a, cluster.admin),
    ]
    assert online(cluster.b, cluster.admin2, cluster.typist.id)
    stream = Stream([cluster.b], cluster.owner.id, "kill").start()
    wait_until(lambda: len(stream.message_ids) >= 20, 20)

    cluster.a.stop(kill=True)
    seconds = first_true(
        {
            "typing": lambda: len(watcher.of("user_typing")) == 2,
            "offline": lambda: not online(cluster.b, cluster.admin2, cluster.typist.id),
        },
        timeout=max(TYPING_FALSE_WITHIN, OFFLINE_WITHIN),
    )
    for session in sessions:
        session.reconnect(cluster.b)
    wait_until(lambda: len(stream.message_ids) >= 60, 30)
    stream.stop()
    for session in sessions:
        wait_until(lambda session=session: has_all(session, stream.message_ids), 20)

    figures = tally(sessions, stream.message_ids)
    record_figures(
        "kill -9 of server A (clients reconnect to B with lastEventId)",
        posted=len(stream.message_ids),
        webhook_failures=sum(status != 201 for status in stream.statuses),
        typing_false_after_s=round(seconds["typing"], 2),
        offline_after_s=round(seconds["offline"], 2),
        **figures,
    )
    assert watcher.of("user_typing")[1] == {
        "userId": cluster.typist.id,
        "conversationId": conversation,
        "isTyping": False,
    }
    assert seconds["typing"] <= TYPING_FALSE_WITHIN
    assert seconds["offline"] <= OFFLINE_WITHIN
    assert figures["lost"] == 0 and figures["shown_twice"] == 0
    assert set(stream.statuses) == {201}
    cluster.a.start()


def take_redis_away(cluster, signal: str) -> None:
    if signal == "SIGSTOP":
        cluster.redis.freeze()
    else:
        cluster.redis.stop(kill=signal == "SIGKILL")


def bring_redis_back(cluster, signal: str) -> None:
    if signal == "SIGSTOP":
        cluster.redis.thaw()
    else:
        cluster.redis.start()  # empty: --save "" --appendonly no


@pytest.mark.parametrize("signal", ["SIGTERM", "SIGKILL", "SIGSTOP"])
def test_a_redis_outage_mid_stream_loses_nothing_and_shows_nothing_twice(cluster, signal):
    """Redis stopped, killed, or frozen (SIGSTOP: connections hang instead of failing)."""
    sessions = [
        Session(cluster, server, account)
        for server in (cluster.a, cluster.b)
        for account in (cluster.owner, cluster.admin)
    ]
    stream = Stream([cluster.a, cluster.b], cluster.owner.id, f"outage-{signal}").start()
    wait_until(lambda: len(stream.statuses) >= 20, 20)

    take_redis_away(cluster, signal)
    down_from = len(stream.statuses)
    health = requests.get(cluster.a.url + "/health", timeout=10)
    wait_until(lambda: len(stream.statuses) >= down_from + 30, 60)
    bring_redis_back(cluster, signal)
    down_ids = stream.message_ids[down_from:]  # every post answered 201 (asserted below)
    recovered_in = wait_until(lambda: all(has_all(session, down_ids) for session in sessions), 30)
    wait_until(lambda: len(stream.statuses) >= down_from + len(down_ids) + 20, 30)
    stream.stop()
    wait_until(lambda: all(has_all(session, stream.message_ids) for session in sessions), 30)

    figures = tally(sessions, stream.message_ids)
    record_figures(
        f"Redis {signal} and back mid-stream",
        posted=len(stream.message_ids),
        posted_while_down=len(down_ids),
        webhook_failures=sum(status != 201 for status in stream.statuses),
        slowest_webhook_s=round(max(stream.latencies), 3),
        caught_up_after_return_s=round(recovered_in, 2),
        **figures,
    )
    assert health.status_code == 503 and health.json()["messageQueue"] == "unavailable"
    assert set(stream.statuses) == {201}
    assert figures["lost"] == 0 and figures["shown_twice"] == 0
