"""The call store's decisions, in memory and in Redis: each has exactly one winner."""

import threading
import time

import pytest
import redis

from app.realtime.call_store import Call, LocalCallStore, RedisCallStore


@pytest.fixture(params=["memory", "redis"])
def store(request):
    if request.param == "memory":
        return LocalCallStore()
    server = request.getfixturevalue("redis_server")
    client = redis.Redis.from_url(server.url())
    client.flushdb()
    return RedisCallStore(client)


def ringing_call(call_id: str = "call_" + "1" * 32, deadline: float | None = None) -> Call:
    return Call(
        call_id=call_id,
        caller_id=1,
        caller_sid="caller-sid",
        callee_id=2,
        kind="video",
        ring_deadline=time.time() + 30 if deadline is None else deadline,
    )


def test_one_socket_answers(store):
    call = ringing_call()
    store.add(call)
    winners = []

    def answer(sid):
        if store.answer(call.call_id, sid):
            winners.append(sid)

    threads = [threading.Thread(target=answer, args=(f"sid-{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
    stored = store.get(call.call_id)
    assert stored.answer_sid == winners[0] and not stored.ringing
    assert store.listed_under(f"sid:{winners[0]}") == [call.call_id]


def test_a_reject_or_timeout_cannot_end_an_answered_call(store):
    call = ringing_call()
    store.add(call)
    assert store.answer(call.call_id, "callee-sid")
    assert store.remove(call.call_id, ringing_only=True) is None
    ended = store.remove(call.call_id)
    assert ended.answer_sid == "callee-sid" and ended.caller_id == 1
    assert store.remove(call.call_id) is None  # announced once
    assert store.get(call.call_id) is None
    assert store.listed_under("sid:caller-sid") == []


def test_overdue_lists_ringing_calls_past_their_deadline_only(store):
    late, answered, early = (ringing_call(f"call_{n * 32}", time.time() - 1) for n in "abc")
    early.ring_deadline = time.time() + 60
    for call in (late, answered, early):
        store.add(call)
    assert store.answer(answered.call_id, "sid")
    assert store.overdue(time.time()) == [late.call_id]
    assert store.remove(late.call_id, ringing_only=True).call_id == late.call_id
    assert store.overdue(time.time()) == []


def test_a_callee_lists_the_calls_to_them(store):
    first, second = ringing_call("call_" + "d" * 32), ringing_call("call_" + "e" * 32)
    store.add(first)
    store.add(second)
    assert sorted(store.listed_under("callee:2")) == [first.call_id, second.call_id]
    assert sorted(store.listed_under("sid:caller-sid")) == [first.call_id, second.call_id]
    assert store.listed_under("callee:1") == []
