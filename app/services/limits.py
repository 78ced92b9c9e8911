"""Counters over fixed time windows: in memory, or in Redis when REDIS_URL is set.

Used for failed logins; a window starts at the first hit and lasts `window`
seconds, so a blocked key is free again once that minute has passed.

The per-socket event limit is not here: a socket lives in one process, so its
sliding window stays in that process (app/realtime/connections.py).
"""

import threading
import time

import redis

from app.redis_support import ERRORS, Outage


class LocalWindowCounter:
    """Per-process counters (the single-process embedded default)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}

    def _current(self, key: str, window: float, now: float) -> int:
        started, count = self._windows.get(key, (now, 0))
        if now - started >= window:
            self._windows.pop(key, None)
            return 0
        return count

    def count(self, key: str, window: float) -> int:
        with self._lock:
            return self._current(key, window, time.monotonic())

    def hit(self, key: str, window: float) -> int:
        with self._lock:
            now = time.monotonic()
            count = self._current(key, window, now) + 1
            started = self._windows.get(key, (now, 0))[0]
            self._windows[key] = (started, count)
            return count


class RedisWindowCounter:
    """Counters shared by every process through Redis keys that expire with the window."""

    def __init__(self, client: redis.Redis, prefix: str = "inbox:limit:"):
        self._redis = client
        self._prefix = prefix

    def count(self, key: str, window: float) -> int:
        return int(self._redis.get(self._prefix + key) or 0)

    def hit(self, key: str, window: float) -> int:
        pipe = self._redis.pipeline()
        pipe.incr(self._prefix + key)
        pipe.expire(self._prefix + key, max(1, int(window)), nx=True)
        return int(pipe.execute()[0])


class FallbackWindowCounter:
    """Redis counters that fall back to this process's own while Redis is away.

    Logins keep working through a Redis outage; the limits then hold per
    process instead of across all of them.
    """

    def __init__(self, shared: RedisWindowCounter, local: LocalWindowCounter):
        self._shared = shared
        self._local = local
        self._outage = Outage("login limits")

    def _either(self, method: str, key: str, window: float) -> int:
        if self._outage.paused():
            return getattr(self._local, method)(key, window)
        try:
            result = getattr(self._shared, method)(key, window)
        except ERRORS as exc:
            self._outage.failed(exc)
            return getattr(self._local, method)(key, window)
        self._outage.succeeded()
        return result

    def count(self, key: str, window: float) -> int:
        return self._either("count", key, window)

    def hit(self, key: str, window: float) -> int:
        return self._either("hit", key, window)
