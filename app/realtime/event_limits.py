"""Per-socket limits on client events, on the `limits` library, kept in this process.

Every client event counts against its socket's default limit, the interface's
SOCKET_EVENTS_PER_SECOND (10) in any one second (limits' moving window: exact,
a refused event is not counted). An event that needs another budget declares
its own limits where it is registered, and is then counted by those instead:

    @client_event("upload_chunk", limits=(
        EventLimit("upload_chunk", "200/second"),
        EventLimit("upload_bytes", f"{64 * 1024 * 1024}/second", cost=chunk_bytes),
    ))

A limit with a `cost` (what one event spends, e.g. its payload's bytes) runs on
limits' fixed window, one counter whatever the budget; one without a cost on
the moving window. docs/rate-limits.md tells the whole story.

The windows live in this process's memory even with Redis: a socket lives in
one process, so nothing needs sharing, and a Redis round trip per event would
cost more than the event itself. limits' own MemoryStorage is not used either:
it sweeps every key from a new timer thread every 10 ms while anything is hit,
which at thousands of sockets costs more than the events (bench/event_limits.py
measures the three). SocketWindows is a limits storage without a sweeper:
a socket's window is made at its first event and dropped at its disconnect, so
an idle socket holds nothing.
"""

import threading
import time

from limits import RateLimitItem, parse, parse_many
from limits.storage import MovingWindowSupport, Storage
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

# Every limit declared by an event, so a disconnect can drop the socket's windows.
_declared: list["EventLimit"] = []


class EventLimit:
    """A limit an event declares for itself: one rate in limits' notation, what an event costs."""

    def __init__(self, scope: str, rate: str, cost=None):
        items = parse_many(rate)
        if len(items) != 1:
            raise ValueError(f"one rate per EventLimit, not {rate!r}")
        self.scope = scope
        self.item: RateLimitItem = items[0]
        self.cost = cost  # callable(data) -> int, or None for 1 per event
        _declared.append(self)

    def key(self, sid: str) -> str:
        return self.item.key_for(sid, self.scope)


class SocketWindows(Storage, MovingWindowSupport):
    """A limits storage for the sockets of this process: plain dicts, no sweeper thread.

    Keys are dropped by `clear` when their socket disconnects; until then a
    window only grows to its limit's amount.
    """

    def __init__(self):
        super().__init__()
        self._lock = threading.Lock()
        self._moving: dict[str, list[float]] = {}  # key -> event times, oldest first
        self._fixed: dict[str, list] = {}  # key -> [count, window end]

    @property
    def base_exceptions(self) -> type[Exception]:
        return RuntimeError  # nothing here fails like a remote storage does

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Moving window: take `amount` entries if fewer than `limit` were taken in `expiry` s."""
        now = time.monotonic()
        with self._lock:
            times = self._moving.setdefault(key, [])
            while times and now - times[0] >= expiry:
                del times[0]
            if len(times) + amount > limit:
                return False
            times.extend([now] * amount)
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = time.monotonic()
        times = [t for t in self._moving.get(key, ()) if now - t < expiry]
        return (times[0] if times else now), len(times)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Fixed window: add `amount` to the count of the window that began at its first hit."""
        now = time.monotonic()
        with self._lock:
            window = self._fixed.get(key)
            if window is None or window[1] <= now:
                window = self._fixed[key] = [0, now + expiry]
            window[0] += amount
            return window[0]

    def get(self, key: str) -> int:
        window = self._fixed.get(key)
        return window[0] if window is not None and window[1] > time.monotonic() else 0

    def get_expiry(self, key: str) -> float:
        window = self._fixed.get(key)
        return window[1] if window is not None else time.monotonic()

    def check(self) -> bool:
        return True

    def reset(self) -> int:
        with self._lock:
            count = len(self._moving) + len(self._fixed)
            self._moving.clear()
            self._fixed.clear()
        return count

    def clear(self, key: str) -> None:
        with self._lock:
            self._moving.pop(key, None)
            self._fixed.pop(key, None)

    def key_count(self) -> int:
        """How many windows are held (sockets times the limits they have used)."""
        return len(self._moving) + len(self._fixed)


class EventLimiter:
    """The event limits of one process's sockets."""

    SCOPE = "events"

    def __init__(self, events_per_second: int):
        self.storage = SocketWindows()
        self._moving = MovingWindowRateLimiter(self.storage)
        self._fixed = FixedWindowRateLimiter(self.storage)
        self._default = parse(f"{events_per_second}/second")

    def allow(self, sid: str, limits: tuple[EventLimit, ...] | None, data) -> bool:
        """Count one event of this socket; False when a limit refuses it."""
        if not limits:
            return self._moving.hit(self._default, sid, self.SCOPE)
        for limit in limits:
            if limit.cost is None:
                allowed = self._moving.hit(limit.item, sid, limit.scope)
            else:
                allowed = self._fixed.hit(limit.item, sid, limit.scope, cost=limit.cost(data))
            if not allowed:
                return False
        return True

    def forget(self, sid: str) -> None:
        """Drop a disconnected socket's windows."""
        self.storage.clear(self._default.key_for(sid, self.SCOPE))
        for limit in _declared:
            self.storage.clear(limit.key(sid))
