"""Who is online: the sockets of each user, in this process or across all of them.

The same small interface has two backings. LocalPresence serves one process.
RedisPresence keeps every socket as a member with an expiry that its own
process refreshes, so the sockets of a process that was killed drop out on
their own within `ttl` seconds, while a socket that closes normally is removed
at once (offline within the contract's 2 s, whichever process is asked).
"""

import threading
import time

import redis

from app.redis_support import ERRORS, Outage


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

    def sockets(self) -> dict[str, int]:
        """sid -> user id of every socket listed here."""
        with self._lock:
            return {sid: user for user, sids in self._sockets.items() for sid in sids}

    def withdraw(self) -> int:
        """The process is stopping: forget every socket; returns how many there were."""
        with self._lock:
            count = sum(len(sids) for sids in self._sockets.values())
            self._sockets.clear()
            return count

    def tick(self) -> None:
        """Nothing expires in memory; the Redis backing refreshes here."""

    def request_sync(self) -> None:
        """Nothing to re-write in memory."""


class RedisPresence:
    """Sockets per user in Redis sorted sets scored by expiry time.

    Redis holds every process's sockets; this process also keeps its own in a
    LocalPresence, the truth it re-writes on each refresh. A change that Redis
    could not take (an outage) is written by the first tick that reaches it,
    so a connect or disconnect never fails because Redis is away.
    """

    _USERS = "inbox:presence:users"
    RETRY_SECONDS = 1.0

    def __init__(self, client: redis.Redis, ttl: float = 60.0):
        self._redis = client
        self.ttl = ttl
        self._local = LocalPresence()
        self._lock = threading.Lock()
        self._unsynced_removals: dict[str, int] = {}  # sid -> user id
        self._next_sync = 0.0
        self._withdrawn = False  # the process is stopping: nothing is listed any more
        self._outage = Outage("presence")
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

    def _list(self, pipe, sid: str, user_id: int, expiry: float) -> None:
        pipe.zadd(self._key(user_id), {sid: expiry})
        pipe.zadd(self._USERS, {str(user_id): expiry}, gt=True)
        pipe.expire(self._key(user_id), int(self.ttl * 2) + 1)

    def _unlist(self, sid: str, user_id: int, client=None) -> None:
        args = [sid, time.time(), str(user_id)]
        self._drop(keys=[self._key(user_id), self._USERS], args=args, client=client)

    def connect(self, user_id: int, sid: str) -> int:
        """Record a socket; returns the user's sockets across every process."""
        local_count = self._local.connect(user_id, sid)
        if self._outage.paused() or self._withdrawn:
            return local_count  # the next sync lists it (none once withdrawn)
        try:
            pipe = self._redis.pipeline()
            self._list(pipe, sid, user_id, time.time() + self.ttl)
            pipe.zcount(self._key(user_id), time.time(), "+inf")
            return int(pipe.execute()[-1])
        except ERRORS as exc:
            self._failed(exc)
            return local_count

    def disconnect(self, user_id: int, sid: str) -> None:
        self._local.disconnect(user_id, sid)
        if self._withdrawn:
            return  # no longer listed
        try:
            if self._outage.paused():
                raise ConnectionError("redis paused after a failure")
            self._unlist(sid, user_id)
        except ERRORS as exc:
            with self._lock:
                self._unsynced_removals[sid] = user_id
            self._failed(exc)

    def _failed(self, exc: BaseException) -> None:
        """Remember that Redis missed a change: the next tick after a short pause re-syncs."""
        self._outage.failed(exc)
        with self._lock:
            self._next_sync = min(self._next_sync, time.monotonic() + self.RETRY_SECONDS)

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

    def request_sync(self) -> None:
        """Re-write this process's sockets on the next tick (Redis restarted empty)."""
        with self._lock:
            self._next_sync = 0.0

    def withdraw(self) -> int:
        """The process is stopping: remove all its sockets from Redis, and refresh no more.

        Returns how many it had. If Redis cannot be reached, they expire within
        `ttl` as a killed process's do.
        """
        with self._lock:
            self._withdrawn = True
        sockets = self._local.sockets()
        self._local.withdraw()
        pipe = self._redis.pipeline(transaction=False)
        for sid, user_id in sockets.items():
            self._unlist(sid, user_id, client=pipe)
        try:
            pipe.execute()
        except ERRORS as exc:
            self._outage.failed(exc)
        return len(sockets)

    def tick(self) -> None:
        """Refresh this process's sockets every ttl/4 s, sooner after a missed change."""
        if time.monotonic() >= self._next_sync and not self._withdrawn:
            self.sync()

    def sync(self) -> None:
        """Write this process's sockets and pending removals to Redis; prune the expired."""
        if self._outage.paused():
            self._next_sync = time.monotonic() + self.RETRY_SECONDS
            return
        with self._lock:
            removals = dict(self._unsynced_removals)
        expiry, now = time.time() + self.ttl, time.time()
        pipe = self._redis.pipeline(transaction=False)
        for sid, user_id in self._local.sockets().items():
            self._list(pipe, sid, user_id, expiry)
        for sid, user_id in removals.items():
            self._unlist(sid, user_id, client=pipe)
        pipe.zremrangebyscore(self._USERS, "-inf", now)
        try:
            pipe.execute()
        except ERRORS as exc:
            self._outage.failed(exc)
            self._next_sync = time.monotonic() + self.RETRY_SECONDS
            return
        self._synced(removals)

    def _synced(self, removals: dict[str, int]) -> None:
        self._outage.succeeded()
        with self._lock:
            for sid in removals:
                self._unsynced_removals.pop(sid, None)
            self._next_sync = time.monotonic() + self.ttl / 4
