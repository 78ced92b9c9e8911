"""The calls in progress: in this process's memory, or in Redis with REDIS_URL.

A call's two sockets may live in different processes, and its ring timeout may
be swept by any of them, so with Redis every process reads and changes the same
record. Each change that decides something (answering, ending) is atomic and
has one winner: two sockets accepting at once, or a reject racing the ring
timeout, end with exactly one outcome, announced once.
"""

import threading
import time
from dataclasses import asdict, dataclass

import redis

# With Redis, a record no process ended (both of its processes were killed) is
# dropped after this long; ringing ones are swept at their ring deadline.
RECORD_TTL_SECONDS = 12 * 3600


@dataclass
class Call:
    """One call: who called whom from which socket, and which socket answered ("" while ringing)."""

    call_id: str
    caller_id: int
    caller_sid: str
    callee_id: int
    kind: str
    ring_deadline: float  # Unix time
    answer_sid: str = ""

    @property
    def ringing(self) -> bool:
        return not self.answer_sid

    def index_keys(self) -> list[str]:
        """The indexes a call is listed under: its sockets, and its callee while ringing."""
        keys = [f"sid:{self.caller_sid}", f"callee:{self.callee_id}"]
        if self.answer_sid:
            keys.append(f"sid:{self.answer_sid}")
        return keys


class LocalCallStore:
    """Calls of a single process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._calls: dict[str, Call] = {}

    def add(self, call: Call) -> None:
        with self._lock:
            self._calls[call.call_id] = call

    def get(self, call_id: str) -> Call | None:
        with self._lock:
            call = self._calls.get(call_id)
            return None if call is None else Call(**asdict(call))

    def answer(self, call_id: str, sid: str) -> bool:
        """Mark a ringing call answered by `sid`; False when it is not ringing (any more)."""
        with self._lock:
            call = self._calls.get(call_id)
            if call is None or not call.ringing:
                return False
            call.answer_sid = sid
            return True

    def remove(self, call_id: str, ringing_only: bool = False) -> Call | None:
        """Take a call out (only if still ringing, when asked); None when another did first."""
        with self._lock:
            call = self._calls.get(call_id)
            if call is None or (ringing_only and not call.ringing):
                return None
            return self._calls.pop(call_id)

    def listed_under(self, key: str) -> list[str]:
        """Ids of the calls of a socket (`sid:<sid>`) or to a user (`callee:<id>`)."""
        with self._lock:
            return [c.call_id for c in self._calls.values() if key in c.index_keys()]

    def overdue(self, now: float) -> list[str]:
        """Ringing calls past their ring deadline."""
        with self._lock:
            return [c.call_id for c in self._calls.values() if c.ringing and c.ring_deadline <= now]


class RedisCallStore:
    """Calls shared by every process: a hash per call, a sorted set of ringing deadlines,
    and a set of call ids per socket and per ringing callee."""

    RINGING = "inbox:calls:ringing"

    def __init__(self, client: redis.Redis):
        self._redis = client
        self._answer = client.register_script(
            """
            if redis.call('HGET', KEYS[1], 'answer_sid') ~= '' then return 0 end
            redis.call('HSET', KEYS[1], 'answer_sid', ARGV[1])
            redis.call('ZREM', KEYS[2], ARGV[2])
            return 1
            """
        )
        # HGET of a missing hash is false, never '': a missing call is not ringing.
        self._remove = client.register_script(
            """
            local answer = redis.call('HGET', KEYS[1], 'answer_sid')
            if answer == false or (ARGV[2] == '1' and answer ~= '') then return {} end
            local fields = redis.call('HGETALL', KEYS[1])
            redis.call('DEL', KEYS[1])
            redis.call('ZREM', KEYS[2], ARGV[1])
            return fields
            """
        )

    @staticmethod
    def _key(call_id: str) -> str:
        return f"inbox:call:{call_id}"

    @staticmethod
    def _index(key: str) -> str:
        return f"inbox:calls:{key}"

    def add(self, call: Call) -> None:
        pipe = self._redis.pipeline()
        pipe.hset(self._key(call.call_id), mapping={k: str(v) for k, v in asdict(call).items()})
        pipe.expire(self._key(call.call_id), RECORD_TTL_SECONDS)
        pipe.zadd(self.RINGING, {call.call_id: call.ring_deadline})
        for key in call.index_keys():
            self._list(pipe, key, call.call_id)
        pipe.execute()

    def _list(self, pipe, key: str, call_id: str) -> None:
        pipe.sadd(self._index(key), call_id)
        pipe.expire(self._index(key), RECORD_TTL_SECONDS)

    def get(self, call_id: str) -> Call | None:
        return self._call(self._redis.hgetall(self._key(call_id)))

    @staticmethod
    def _call(fields) -> Call | None:
        if not fields:
            return None
        if isinstance(fields, list):  # a Lua reply: [field, value, field, value, ...]
            fields = dict(zip(fields[::2], fields[1::2], strict=True))
        values = {k.decode(): v.decode() for k, v in fields.items()}
        return Call(
            call_id=values["call_id"],
            caller_id=int(values["caller_id"]),
            caller_sid=values["caller_sid"],
            callee_id=int(values["callee_id"]),
            kind=values["kind"],
            ring_deadline=float(values["ring_deadline"]),
            answer_sid=values["answer_sid"],
        )

    def answer(self, call_id: str, sid: str) -> bool:
        answered = self._answer(keys=[self._key(call_id), self.RINGING], args=[sid, call_id])
        if answered:
            pipe = self._redis.pipeline()
            self._list(pipe, f"sid:{sid}", call_id)
            pipe.execute()
        return bool(answered)

    def remove(self, call_id: str, ringing_only: bool = False) -> Call | None:
        fields = self._remove(
            keys=[self._key(call_id), self.RINGING], args=[call_id, "1" if ringing_only else "0"]
        )
        call = self._call(fields)
        if call is not None:
            pipe = self._redis.pipeline()
            for key in call.index_keys():
                pipe.srem(self._index(key), call_id)
            pipe.execute()
        return call

    def listed_under(self, key: str) -> list[str]:
        return [member.decode() for member in self._redis.smembers(self._index(key))]

    def overdue(self, now: float) -> list[str]:
        return [member.decode() for member in self._redis.zrangebyscore(self.RINGING, "-inf", now)]


def new_deadline(ring_seconds: float) -> float:
    """When a call placed now stops ringing."""
    return time.time() + ring_seconds
