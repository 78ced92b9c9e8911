"""Signatures already used: a signed webhook is accepted once within its window.

A signature is valid for SIGNATURE_TOLERANCE_SECONDS either side of its
timestamp; a captured request could be sent again inside that window. With a
`message_id` a repeat is a harmless duplicate (answered 200, nothing stored
twice); without one it would be stored again. So each signature is claimed when
it is first accepted and remembered until its window closes, in Redis with
REDIS_URL (shared by every process) or in this process's memory otherwise.

A request that fails (4xx/5xx: nothing stored, e.g. the database was down)
releases its claim, so n8n's retry of that very request goes through.

While Redis is down, claims go to this process's memory instead (like presence
and typing, webhooks keep flowing through an outage): a replay to the same
process is still refused; one to another process in that time is not.
"""

import threading
import time
from collections import OrderedDict

import redis

from app.redis_support import ERRORS, Outage

_KEY_PREFIX = "inbox:webhook-signature:"


class MemoryLedger:
    """Claims in this process's memory (one process: no REDIS_URL)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._expiries: OrderedDict[str, float] = OrderedDict()  # in order of expiry

    def claim(self, signature: str, until: float) -> bool:
        """Remember `signature` until the Unix time `until`; False if it is already held."""
        with self._lock:
            self._forget_expired(time.time())
            if signature in self._expiries:
                return False
            self._expiries[signature] = until
            self._expiries.move_to_end(signature)
            return True

    def release(self, signature: str) -> None:
        with self._lock:
            self._expiries.pop(signature, None)

    def _forget_expired(self, now: float) -> None:
        # Windows are all the same length, so claims expire roughly in the order
        # they were made; a late one only lingers until those before it expire.
        while self._expiries and next(iter(self._expiries.values())) <= now:
            self._expiries.popitem(last=False)


class RedisLedger:
    """Claims in Redis, shared by every process (SET NX with the window as expiry),
    in this process's memory while Redis is down."""

    def __init__(self, client: redis.Redis):
        self._redis = client
        self._outage = Outage("the webhook signature ledger")
        self._fallback = MemoryLedger()

    def claim(self, signature: str, until: float) -> bool:
        if not self._fallback.claim(signature, until):
            return False  # used on this process, whatever Redis says
        if self._outage.paused():
            return True
        seconds = max(1, int(until - time.time()) + 1)
        try:
            claimed = self._redis.set(_KEY_PREFIX + signature, 1, nx=True, ex=seconds)
        except ERRORS as exc:
            self._outage.failed(exc)
            return True
        self._outage.succeeded()
        if not claimed:
            self._fallback.release(signature)
        return bool(claimed)

    def release(self, signature: str) -> None:
        self._fallback.release(signature)
        try:
            self._redis.delete(_KEY_PREFIX + signature)
        except ERRORS as exc:
            self._outage.failed(exc)
