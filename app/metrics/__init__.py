"""The Prometheus instruments the code counts with (prometheus-client's default registry).

Only the instruments live here, so any module can count without importing the
app; app/metrics/endpoint.py serves them at GET /metrics with the gauges read
at scrape time (sockets, users, outbox). docs/metrics.md lists every metric.
They belong to the process: each gunicorn process serves its own.
"""

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

# No `_created` sample beside each counter: Prometheus has no use for it here.
disable_created_metrics()

EVENTS_EMITTED = Counter(
    "inbox_events_emitted",
    "Server-to-client events emitted by this process (one per emit, whatever the audience)",
    ["event"],
)
WEBHOOK_SECONDS = Histogram(
    "inbox_webhook_duration_seconds",
    "Time to answer a webhook, from the request's arrival in the app to its response",
    ["path", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OUTBOX_ATTEMPTS = Counter(
    "inbox_outbox_attempts",
    "Hand-offs of replies to n8n by this process: sent, retry (failed, tried again later), "
    "given_up (failed for good)",
    ["outcome"],
)
DEPENDENCY_OUTAGES = Counter(
    "inbox_dependency_outages",
    "Outages of a dependency as one user of it saw them (the message queue's: "
    'dependency="redis", user="Socket.IO message queue")',
    ["dependency", "user"],
)
DEPENDENCY_DOWN = Gauge(
    "inbox_dependency_down",
    "1 while a dependency is failing for this user of it, else 0",
    ["dependency", "user"],
)
REPLAYS = Counter(
    "inbox_replays",
    "Reconnect replays served at the handshake: replayed (missed events sent) or resync "
    "(resync_required sent)",
    ["result"],
)
REPLAYED_EVENTS = Counter("inbox_replayed_events", "Durable events sent by reconnect replays")
RECOVERED_EVENTS = Counter(
    "inbox_recovered_events",
    "Durable events re-sent from the event log to this process's sockets after a "
    "message-queue break",
)
RATE_LIMITED = Counter(
    "inbox_rate_limited",
    "Requests and socket events refused by a rate limit",
    ["limit"],
)

_children: dict = {}


def labelled(metric, *values: str):
    """metric.labels(*values), remembered: labels() locks and validates on every call."""
    key = (metric, values)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*values)
    return child
