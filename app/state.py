"""Shared runtime state (presence, counters): in memory, or in Redis with REDIS_URL.

The app factory picks the backing once; everything else asks these accessors,
so no caller knows whether it runs in one process or many.
"""

import redis
from flask import current_app

from app.realtime.connections import ConnectionRegistry
from app.realtime.presence import LocalPresence, RedisPresence
from app.realtime.typing import TypingTracker
from app.services.limits import LocalWindowCounter, RedisWindowCounter


class SharedState:
    """The backing objects of one app."""

    def __init__(self, redis_url: str | None, typing_timeout: float):
        self.connections = ConnectionRegistry()
        self.typing = TypingTracker(typing_timeout)
        self.housekeeping_started = False
        self.redis = redis.Redis.from_url(redis_url, socket_timeout=5) if redis_url else None
        if self.redis is None:
            self.login_failures = LocalWindowCounter()
            self.presence = LocalPresence()
        else:
            self.login_failures = RedisWindowCounter(self.redis)
            self.presence = RedisPresence(self.redis)


def init_state(app) -> None:
    app.extensions["inbox_state"] = SharedState(
        app.config["REDIS_URL"], app.config["TYPING_TIMEOUT_SECONDS"]
    )


def state() -> SharedState:
    return current_app.extensions["inbox_state"]


def login_failures():
    return state().login_failures


def presence():
    return state().presence


def redis_client() -> redis.Redis | None:
    return state().redis
