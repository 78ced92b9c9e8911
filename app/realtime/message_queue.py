"""The Socket.IO message queue over Redis, made to survive Redis outages.

python-socketio's RedisManager drops an emit it cannot publish and re-subscribes
without telling anyone, so events sent during an outage silently never reach
the sockets of other processes. This manager keeps Flask-SocketIO's wire format
(external emitters and other processes interoperate) and adds:

- publishing that fails fast: a webhook is never held up by Redis. A durable
  event that could not be published is held and published once Redis answers;
- a listener that notices every break (no silent reconnect, a ping to catch a
  dead connection) and, once subscribed again, has recovery.py re-send from
  the event log what this process's sockets missed;
- one delivery per durable event per process (the DeliveryLedger), whether it
  comes live, held back, or from the log.
"""

import logging
import threading
import time
from collections import deque

import socketio
from flask import Flask

from app.metrics import RECOVERED_EVENTS
from app.realtime import recovery
from app.realtime.broadcast import rooms_for
from app.realtime.publish_order import PublishOrder
from app.redis_support import ERRORS, Outage, command_client, logical_db, subscriber_client

log = logging.getLogger(__name__)


def channel_for(url: str) -> str:
    """The pub/sub channel: Flask-SocketIO's default on db 0, one per logical db otherwise.

    Pub/sub channels are shared by every logical database of a Redis server, so
    two deployments on db 1 and db 2 of one server would see each other's
    emits on a common channel.
    """
    db_number = logical_db(url)
    return "flask-socketio" if db_number == 0 else f"flask-socketio-db{db_number}"


def durable_event_id(message: dict) -> int | None:
    """The eventId of a durable broadcast (broadcast.publish), None for anything else.

    A durable broadcast is one payload carrying an eventId, sent to a list of
    rooms; replays and refusals go to a single sid and are never deduplicated.
    """
    data = message.get("data")
    if message.get("method") != "emit" or not isinstance(message.get("room"), list):
        return None
    if not isinstance(data, list) or len(data) != 1 or not isinstance(data[0], dict):
        return None
    event_id = data[0].get("eventId")
    return event_id if isinstance(event_id, int) and not isinstance(event_id, bool) else None


class RecoveringRedisManager(socketio.PubSubManager):
    """A Redis pub/sub client manager that makes up for what an outage lost."""

    name = "redis"
    RESUBSCRIBE_SECONDS = 0.5
    PING_SECONDS = 5.0  # the listener pings Redis when idle this long...
    DEAD_AFTER_SECONDS = 12.0  # ...and reconnects when nothing came back for this long
    SAFETY_MARGIN_SECONDS = 30.0  # a recovery re-reads the log from this long before a break
    MAX_HELD = 10_000

    def __init__(self, url: str, app: Flask, channel: str | None = None):
        super().__init__(channel=channel or channel_for(url))
        self.url = url
        self.app = app
        self.verify_tls = app.config["REDIS_TLS_VERIFY"]
        self.ledger = recovery.DeliveryLedger()
        self.publish_order = PublishOrder(app.config["EVENT_REPLAY_MARGIN_SECONDS"])
        self.on_reconnect: list = []  # callables run after each re-subscription
        self._publisher = command_client(url, self.verify_tls)
        self._publish_lock = threading.Lock()
        self._held: deque = deque(maxlen=self.MAX_HELD)
        self._outage = Outage("the Socket.IO message queue")
        self._database_outage = Outage("the message queue's recovery", "the database")
        self._pubsub = None
        self._baseline = 0
        self._pending_floor: int | None = None  # set from a break until its recovery is done

    # Delivery to this process's sockets.

    def _handle_emit(self, message):
        """Deliver locally, once per durable event id."""
        event_id = durable_event_id(message)
        if event_id is not None:
            if not self.ledger.claim(event_id):
                return
            self.publish_order.delivered(event_id)
        super()._handle_emit(message)

    # Publishing.

    def _publish(self, data):
        """Publish now, or hold a durable event until Redis answers again."""
        if self._outage.paused():
            self._hold(data)
            return
        try:
            self._publisher.publish(self.channel, self.json.dumps(data))
        except ERRORS as exc:
            self._outage.failed(exc)
            self._hold(data)
            return
        self._outage.succeeded()
        if self._held:
            self.publish_held()

    def _hold(self, data: dict) -> None:
        """Keep durable events for later; ephemeral ones (typing) are stale by then."""
        if durable_event_id(data) is not None:
            with self._publish_lock:
                self._held.append(data)

    def publish_held(self) -> int:
        """Publish what was held back, oldest first; returns how many are still held."""
        with self._publish_lock:
            while self._held:
                try:
                    self._publisher.publish(self.channel, self.json.dumps(self._held[0]))
                except ERRORS as exc:
                    self._outage.failed(exc)
                    break
                self._held.popleft()
            return len(self._held)

    def held_count(self) -> int:
        return len(self._held)

    # Listening.

    def _listen(self):
        """Yield every message of the channel, forever, recovering after each break.

        Start-up counts as a break: what was published before the first
        subscription (Redis down at start) is recovered like any other gap.
        """
        self._baseline = self._retry_db(recovery.latest_event_id, self.app)
        self._note_break()
        while True:
            try:
                pubsub = self._subscribe()
                self._resubscribed()
                yield from self._messages(pubsub)
            except ERRORS as exc:
                self._outage.failed(exc)
                self._note_break()
                time.sleep(self.RESUBSCRIBE_SECONDS)

    def _subscribe(self):
        """A new subscription, confirmed by Redis before anything is read from the log."""
        if self._pubsub is not None:
            self._pubsub.close()
        self._pubsub = pubsub = subscriber_client(self.url, self.verify_tls).pubsub()
        pubsub.subscribe(self.channel)
        deadline = time.monotonic() + self.DEAD_AFTER_SECONDS
        while time.monotonic() < deadline:
            reply = pubsub.get_message(timeout=1.0)
            if reply and reply["type"] == "subscribe":
                return pubsub
        raise ConnectionError("no subscription confirmation from Redis")

    def _note_break(self) -> None:
        """Fix where the recovery will read the log from, and keep the ledger until then."""
        if self._pending_floor is not None:
            return  # the earlier, lower floor of this outage stands
        cutoff = time.monotonic() - self.SAFETY_MARGIN_SECONDS
        self.ledger.hold()
        self._pending_floor = self.ledger.floor(cutoff, self._baseline)

    def _resubscribed(self) -> None:
        """Subscribed again: let state re-sync, publish what was held, recover the gap."""
        if self._outage.down:
            log.warning("message queue subscription restored; recovering missed events")
        self._outage.succeeded()
        for hook in self.on_reconnect:
            hook()
        self.publish_held()
        self._recover()

    def _messages(self, pubsub):
        """The channel's messages; pings when idle and fails when Redis stops answering."""
        heard_at = pinged_at = time.monotonic()
        while True:
            reply = pubsub.get_message(timeout=1.0)
            now = time.monotonic()
            if reply is not None:
                heard_at = now
                if reply["type"] == "message":
                    yield reply["data"]
            elif now - heard_at > self.DEAD_AFTER_SECONDS:
                raise ConnectionError("Redis stopped answering the subscription's pings")
            elif now - max(heard_at, pinged_at) > self.PING_SECONDS:
                pinged_at = now
                pubsub.ping()
            if self._pending_floor is not None:
                self._recover()
            if self._held and not self._outage.paused():
                self.publish_held()  # Redis came back without this subscription breaking

    # Recovery.

    def _recover(self) -> None:
        """Re-send from the log what this process's sockets missed; retried until it succeeds."""
        floor = self._pending_floor
        if floor is None:
            return
        limit = self.app.config["EVENT_REPLAY_LIMIT"]
        try:
            missed = recovery.missed_events(self.app, floor, self.ledger, limit)
        except Exception as exc:  # the database is down: retried on the next message or second
            self._database_outage.failed(exc)
            return
        self._database_outage.succeeded()
        self._pending_floor = None
        self.ledger.release()
        self._emit_locally(missed, limit)

    def _emit_locally(self, missed: list, limit: int) -> None:
        """Emit to this process's sockets only; past the limit, ask them to reload."""
        if len(missed) > limit:
            log.warning("more than %d events missed; asking local clients to resync", limit)
            super().emit("resync_required", {}, namespace="/", room=None, ignore_queue=True)
            return
        RECOVERED_EVENTS.inc(len(missed))
        for event in missed:
            super().emit(
                event.name, event.data, namespace="/", room=rooms_for(event), ignore_queue=True
            )
        if missed:
            log.warning("re-sent %d missed event(s) to local sockets", len(missed))

    def _retry_db(self, query, *args):
        """Run a database read, waiting out a database outage."""
        while True:
            try:
                result = query(*args)
            except Exception as exc:
                self._database_outage.failed(exc)
                time.sleep(self.RESUBSCRIBE_SECONDS * 4)
                continue
            self._database_outage.succeeded()
            return result


def manager_for(app: Flask) -> RecoveringRedisManager | None:
    """The client manager for REDIS_URL, or None for a single process without Redis."""
    url = app.config["REDIS_URL"]
    return RecoveringRedisManager(url, app) if url else None
