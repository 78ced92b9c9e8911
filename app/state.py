"""Shared runtime state (presence, typing, calls): in memory, or in Redis with REDIS_URL.

The app factory picks the backing once; everything else asks these accessors,
so no caller knows whether it runs in one process or many. The Redis-backed
pieces keep working through a Redis outage (on this process's own view) and
catch up when Redis is back; see docs/deploy.md.
"""

import redis
from flask import current_app

from app.realtime.call_store import LocalCallStore, RedisCallStore
from app.realtime.connections import ConnectionRegistry
from app.realtime.presence import LocalPresence, RedisPresence
from app.realtime.shared_typing import SharedTypingTracker
from app.realtime.typing_tracker import TypingTracker
from app.redis_support import command_client
from app.signature_ledger import MemoryLedger, RedisLedger


class SharedState:
    """The backing objects of one app."""

    def __init__(self, config):
        self.connections = ConnectionRegistry(config["SOCKET_EVENTS_PER_SECOND"])
        self.housekeeping_started = False
        url, typing_timeout = config["REDIS_URL"], config["TYPING_TIMEOUT_SECONDS"]
        self.redis = command_client(url, config["REDIS_TLS_VERIFY"]) if url else None
        if self.redis is None:
            self.typing = TypingTracker(typing_timeout)
            self.presence = LocalPresence()
            self.webhook_signatures = MemoryLedger()
            self.calls = LocalCallStore()
        else:
            self.typing = SharedTypingTracker(typing_timeout, self.redis)
            self.presence = RedisPresence(self.redis, config["PRESENCE_TTL_SECONDS"])
            self.webhook_signatures = RedisLedger(self.redis)
            self.calls = RedisCallStore(self.redis)


def init_state(app) -> None:
    shared = SharedState(app.config)
    app.extensions["inbox_state"] = shared
    manager = app.extensions["socketio"].server.manager
    if hasattr(manager, "on_reconnect"):
        # A Redis that restarted lost this process's presence entries.
        manager.on_reconnect.append(shared.presence.request_sync)


def state() -> SharedState:
    return current_app.extensions["inbox_state"]


def presence():
    return state().presence


def redis_client() -> redis.Redis | None:
    return state().redis
