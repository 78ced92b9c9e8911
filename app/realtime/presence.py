"""Who is online: the sockets of each user, in this process or across all of them.

The same small interface has two backings. LocalPresence serves one process.
RedisPresence keeps every socket as a member with an expiry, refreshed by each
process's heartbeat, so the sockets of a process that was killed drop out on
their own within SOCKET_TTL seconds.
"""

import threading
import time

import redis


class LocalPresence:
    """Sockets per user, in this process's memory."""

    def __init__(self):
        self._lock = threading.Lock()
        self._sockets: dict[int, set[str]] = {}

    def connect(self, user_id: int, sid: str) -> int:
        """Record a socket; returns how many sockets the user now has."""
        with self._lock:
            sids = self._sockets.setdefault(user_id, set())
            sids.add(sid)
            return len(sids)

    def disconnect(self, user_id: int, sid: str) -> None:
        with self._lock:
            sids = self._sockets.get(user_id, set())
            sids.discard(sid)
            if not sids:
                self._sockets.pop(user_id, None)

    def socket_count(self, user_id: int) -> int:
        with self._lock:
            return len(self._sockets.get(user_id, ()))

    def is_online(self, user_id: int) -> bool:
        return self.socket_count(user_id) > 0

    def online_user_ids(self) -> list[int]:
        with self._lock:
            return sorted(self._sockets)

    def heartbeat(self, sockets: dict[str, int]) -> None:
        """Nothing to refresh in memory; the Redis backing needs it."""


class RedisPresence:
    """Sockets per user in Redis sorted sets scored by expiry time."""

    SOCKET_TTL = 60  # seconds a socket stays listed without a heartbeat
    _USERS = "inbox:presence:users"

    def __init__(self, client: redis.Redis):
        self._redis = client
        self._drop = client.register_script(
            """
            redis.call('ZREM', KEYS[1], ARGV[1])
            if redis.call('ZCOUNT', KEYS[1], ARGV[2], '+inf') == 0 then
              redis.call('ZREM', KEYS[2], ARGV[3])
            end
            """
        )

    @staticmethod
    def _key(user_id: int) -> str:
        return f"inbox:presence:sockets:{user_id}"

    def _expiry(self) -> float:
        return time.time() + self.SOCKET_TTL

    def connect(self, user_id: int, sid: str) -> int:
        expiry, now = self._expiry(), time.time()
        pipe = self._redis.pipeline()
        pipe.zadd(self._key(user_id), {sid: expiry})
        pipe.zadd(self._USERS, {str(user_id): expiry}, gt=True)
        pipe.expire(self._key(user_id), self.SOCKET_TTL * 2)
        pipe.zcount(self._key(user_id), now, "+inf")
        return int(pipe.execute()[-1])

    def disconnect(self, user_id: int, sid: str) -> None:
        self._drop(keys=[self._key(user_id), self._USERS], args=[sid, time.time(), str(user_id)])

    def socket_count(self, user_id: int) -> int:
        return int(self._redis.zcount(self._key(user_id), time.time(), "+inf"))

    def is_online(self, user_id: int) -> bool:
        return self.socket_count(user_id) > 0

    def online_user_ids(self) -> list[int]:
        now = time.time()
        candidates = self._redis.zrangebyscore(self._USERS, now, "+inf")
        if not candidates:
            return []
        pipe = self._redis.pipeline()
        for user_id in candidates:
            pipe.zcount(self._key(int(user_id)), now, "+inf")
        counts = pipe.execute()
        return sorted(int(u) for u, n in zip(candidates, counts, strict=True) if n)

    def heartbeat(self, sockets: dict[str, int]) -> None:
        """Extend the expiry of this process's sockets (sid -> user id)."""
        expiry, now = self._expiry(), time.time()
        pipe = self._redis.pipeline()
        for sid, user_id in sockets.items():
            pipe.zadd(self._key(user_id), {sid: expiry})
            pipe.zadd(self._USERS, {str(user_id): expiry}, gt=True)
            pipe.expire(self._key(user_id), self.SOCKET_TTL * 2)
        pipe.zremrangebyscore(self._USERS, "-inf", now)
        pipe.execute()
