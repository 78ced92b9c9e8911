"""Typing indicators: the throttle of repeated `true` and the server-side expiry."""

import threading
import time
from dataclasses import dataclass

THROTTLE_SECONDS = 0.5


@dataclass
class _Typing:
    user_id: int
    last_broadcast: float
    expires_at: float


class TypingTracker:
    """Who is typing where, per socket and conversation, in this process.

    `update` says whether a change must be broadcast; `expired` and
    `drop_socket` hand back the typers whose `isTyping: false` is due.
    """

    def __init__(self, timeout: float):
        self.timeout = timeout
        self._lock = threading.Lock()
        self._typing: dict[tuple[str, int], _Typing] = {}

    def update(self, sid: str, user_id: int, conversation_id: int, is_typing: bool) -> bool:
        """Record a typing event; True when it should be broadcast."""
        key, now = (sid, conversation_id), time.monotonic()
        with self._lock:
            current = self._typing.get(key)
            if not is_typing:
                return self._typing.pop(key, None) is not None
            if current is not None and now - current.last_broadcast < THROTTLE_SECONDS:
                current.expires_at = now + self.timeout
                return False
            self._typing[key] = _Typing(user_id, now, now + self.timeout)
            return True

    def expired(self) -> list[tuple[int, int, str]]:
        """Remove and return (conversation_id, user_id, sid) of typers silent too long."""
        now = time.monotonic()
        with self._lock:
            due = [key for key, state in self._typing.items() if state.expires_at <= now]
            return [(key[1], self._typing.pop(key).user_id, key[0]) for key in due]

    def drop_socket(self, sid: str) -> list[tuple[int, int, str]]:
        """Remove and return what a disconnecting socket was typing in."""
        with self._lock:
            keys = [key for key in self._typing if key[0] == sid]
            return [(key[1], self._typing.pop(key).user_id, key[0]) for key in keys]
