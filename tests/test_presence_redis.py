"""Presence and typing expiry shared through a real Redis, across "processes".

Each RedisPresence / SharedTypingTracker instance stands for one server
process; they share a private redis-server that some tests stop and restart.
"""

import time

import pytest

from app.realtime.presence import RedisPresence
from app.realtime.shared_typing import SharedTypingTracker
from app.redis_support import command_client


@pytest.fixture
def redis_down(redis_server):
    """Redis stopped for the test, started again (empty) afterwards."""
    redis_server.stop()
    yield redis_server
    redis_server.start()


@pytest.fixture
def client(redis_server):
    if redis_server.process is None:
        redis_server.start()
    redis_client = command_client(redis_server.url())
    redis_client.flushdb()
    return redis_client


def eventually(condition, timeout: float = 5.0, step: float = 0.05) -> None:
    """Wait until condition() is true; fail with its last value otherwise."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(step)


# Presence.


def test_sockets_on_two_processes_count_together(client):
    process_a, process_b = RedisPresence(client), RedisPresence(client)
    assert process_a.connect(7, "sid-a") == 1
    assert process_b.connect(7, "sid-b") == 2
    process_b.connect(8, "sid-c")
    assert process_a.online_user_ids() == [7, 8]
    assert process_b.socket_count(7) == 2


def test_the_last_socket_closing_on_any_process_is_offline_at_once(client):
    process_a, process_b = RedisPresence(client), RedisPresence(client)
    process_a.connect(7, "sid-a")
    process_b.connect(7, "sid-b")
    process_a.disconnect(7, "sid-a")
    assert process_b.is_online(7)
    process_b.disconnect(7, "sid-b")
    assert not process_a.is_online(7)
    assert process_a.online_user_ids() == []


def test_the_sockets_of_a_process_that_stopped_refreshing_expire(client):
    dead, alive = RedisPresence(client, ttl=0.6), RedisPresence(client, ttl=0.6)
    dead.connect(7, "sid-dead")
    alive.connect(8, "sid-alive")

    def dead_one_expired() -> bool:
        alive.tick()  # the live process keeps refreshing; the dead one does not
        return not alive.is_online(7)

    eventually(dead_one_expired, timeout=5.0)
    assert alive.online_user_ids() == [8]


def test_a_stopping_process_withdraws_its_sockets_at_once_and_for_good(client):
    stopping, staying = RedisPresence(client), RedisPresence(client)
    for n in range(20):
        stopping.connect(7, f"old-{n}")
    stopping.connect(8, "old-x")
    staying.connect(8, "new-x")
    assert stopping.withdraw() == 21
    assert staying.socket_count(7) == 0 and staying.online_user_ids() == [8]
    # Its last sockets closing, a refresh or a late connect list nothing again.
    stopping.disconnect(7, "old-0")
    stopping.connect(7, "late")
    stopping.request_sync()
    stopping.tick()
    assert staying.socket_count(7) == 0 and staying.socket_count(8) == 1


def test_connect_and_disconnect_during_an_outage_reach_redis_when_it_is_back(client, redis_server):
    process_a, process_b = RedisPresence(client), RedisPresence(client)
    process_a.connect(7, "sid-leaving")
    redis_server.stop()
    assert process_a.connect(8, "sid-new") == 1  # this process's own count
    process_a.disconnect(7, "sid-leaving")
    with pytest.raises(Exception, match="onnect"):
        process_b.online_user_ids()  # reads fail (the REST view answers 503)
    redis_server.start()  # empty: everything written before the outage is gone
    process_a.RETRY_SECONDS = 0.05

    def synced():
        process_a.tick()
        return process_b.online_user_ids() == [8]

    eventually(synced)


def test_a_restarted_redis_gets_every_socket_back_on_request(client, redis_server):
    process_a, process_b = RedisPresence(client), RedisPresence(client)
    process_a.connect(7, "sid-a")
    process_a.tick()
    redis_server.stop()
    redis_server.start()
    assert process_b.online_user_ids() == []
    process_a.request_sync()  # what the message queue does after re-subscribing
    process_a.tick()
    assert process_b.online_user_ids() == [7]


# Typing.


def fast_tracker(client, timeout: float = 0.3) -> SharedTypingTracker:
    tracker = SharedTypingTracker(timeout, client)
    tracker.GRACE_SECONDS = 0.2
    tracker.SWEEP_SECONDS = 0.0
    return tracker


def poll_expired(trackers, seconds: float) -> list[list]:
    """Every tracker's expired() results over some time, as each process's loop would."""
    results = [[] for _ in trackers]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for found, tracker in zip(results, trackers, strict=True):
            found.extend(tracker.expired())
        time.sleep(0.02)
    return results


def test_the_typer_of_a_dead_process_is_ended_by_exactly_one_other(client):
    dead, sweeper_b, sweeper_c = fast_tracker(client), fast_tracker(client), fast_tracker(client)
    assert dead.update("sid-typer", 7, 42, True)
    started = time.monotonic()
    found_b, found_c = poll_expired([sweeper_b, sweeper_c], 1.0)
    assert found_b + found_c == [(42, 7, "sid-typer")]
    assert time.monotonic() - started >= 0.5  # not before timeout + grace


def test_a_live_typer_is_ended_by_its_own_process_only(client):
    owner, other = fast_tracker(client), fast_tracker(client)
    owner.update("sid-typer", 7, 42, True)
    found_owner, found_other = poll_expired([owner, other], 1.0)
    assert found_owner == [(42, 7, "sid-typer")]
    assert found_other == []


def test_typing_false_and_disconnect_unlist_the_typer(client):
    owner, other = fast_tracker(client), fast_tracker(client)
    owner.update("sid-1", 7, 42, True)
    owner.update("sid-2", 7, 43, True)
    assert owner.update("sid-1", 7, 42, False)
    assert owner.drop_socket("sid-2") == [(43, 7, "sid-2")]
    assert client.zcard(SharedTypingTracker.KEY) == 0
    assert poll_expired([other], 0.7) == [[]]


def test_typing_keeps_working_in_one_process_while_redis_is_down(client, redis_down):
    tracker = fast_tracker(client)
    assert tracker.update("sid-typer", 7, 42, True)
    assert not tracker.update("sid-typer", 7, 42, True)  # the 500 ms throttle still holds
    (found,) = poll_expired([tracker], 0.6)
    assert found == [(42, 7, "sid-typer")]
