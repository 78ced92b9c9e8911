"""Typing indicators that outlive the process of the typer.

The typer's own process ends each indicator (timeout, `false`, disconnect), as
TypingTracker does. With Redis, every live indicator is also listed in one
sorted set scored by its expiry time, and every process sweeps it: an entry
still there GRACE_SECONDS after its expiry belongs to a process that died,
and whichever process removes it first broadcasts the `isTyping: false`.
"""

import threading
import time

import redis

from app.realtime.typing_tracker import TypingTracker
from app.redis_support import ERRORS, Outage

Typer = tuple[int, int, str]  # (conversation_id, user_id, sid)


def _member(conversation_id: int, user_id: int, sid: str) -> str:
    return f"{conversation_id}:{user_id}:{sid}"


def _typer(member: bytes) -> Typer:
    conversation_id, user_id, sid = member.decode().split(":", 2)
    return int(conversation_id), int(user_id), sid


class SharedTypingTracker(TypingTracker):
    """A TypingTracker that lists its typers in Redis for the other processes."""

    KEY = "inbox:typing"
    GRACE_SECONDS = 2.0
    SWEEP_SECONDS = 1.0
    SWEEP_BATCH = 100

    def __init__(self, timeout: float, client: redis.Redis):
        super().__init__(timeout)
        self._redis = client
        self._outage = Outage("typing indicators")
        self._unlist_lock = threading.Lock()
        self._unlisted_pending: set[str] = set()
        self._next_sweep = 0.0

    def update(self, sid: str, user_id: int, conversation_id: int, is_typing: bool) -> bool:
        changed = super().update(sid, user_id, conversation_id, is_typing)
        if is_typing:
            self._redis_call(
                self._redis.zadd,
                self.KEY,
                {_member(conversation_id, user_id, sid): time.time() + self.timeout},
            )
        elif changed:
            self._unlist([(conversation_id, user_id, sid)])
        return changed

    def expired(self) -> list[Typer]:
        """This process's typers past the timeout, then other processes' orphans."""
        due = super().expired()
        self._unlist(due)
        return due + self._sweep_orphans()

    def drop_socket(self, sid: str) -> list[Typer]:
        dropped = super().drop_socket(sid)
        self._unlist(dropped)
        return dropped

    def _unlist(self, typers: list[Typer]) -> None:
        """Remove ended indicators from Redis; what fails is retried at the next sweep."""
        with self._unlist_lock:
            members = self._unlisted_pending | {_member(*t) for t in typers}
            self._unlisted_pending = set()
        if members and self._redis_call(self._redis.zrem, self.KEY, *members) is None:
            with self._unlist_lock:
                self._unlisted_pending |= members

    def _sweep_orphans(self) -> list[Typer]:
        """Claim the indicators that no live process ended in time."""
        if time.monotonic() < self._next_sweep:
            return []
        self._next_sweep = time.monotonic() + self.SWEEP_SECONDS
        self._unlist([])
        cutoff = time.time() - self.GRACE_SECONDS
        stale = self._redis_call(
            self._redis.zrangebyscore, self.KEY, "-inf", cutoff, 0, self.SWEEP_BATCH
        )
        return [_typer(m) for m in stale or () if self._redis_call(self._redis.zrem, self.KEY, m)]

    def _redis_call(self, command, *args):
        """Run a Redis command; None when Redis is away (the local tracker carries on)."""
        if self._outage.paused():
            return None
        try:
            result = command(*args)
        except ERRORS as exc:
            self._outage.failed(exc)
            return None
        self._outage.succeeded()
        return result
