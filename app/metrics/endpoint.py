"""GET /metrics in Prometheus' text format (the webhooks are timed in app/observability.py).

The counters and histograms of app/metrics/__init__.py are joined at scrape
time by gauges read from the serving app: sockets and users connected, the
reply outbox's backlog, the message queue's held-back events. With METRICS_TOKEN
set, a scrape must send `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise).
"""

import hmac
import logging

from flask import Blueprint, Flask, Response, current_app, has_app_context, request
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from sqlalchemy import func, select

from app.errors import Unauthorized
from app.extensions import db
from app.models import OutboundDelivery
from app.schemas.http import METRICS, operation
from app.state import presence, state
from app.timeutil import utcnow

log = logging.getLogger(__name__)

bp = Blueprint("metrics", __name__)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


class ServingAppCollector:
    """Gauges read from the app that serves the scrape (none outside a request)."""

    def collect(self):
        if not has_app_context():
            return
        connections = state().connections.all()
        yield _gauge(
            "inbox_sockets_connected", "Sockets connected to this process", len(connections)
        )
        yield _gauge(
            "inbox_users_connected",
            "Distinct users with a socket on this process",
            len({connection.user_id for connection in connections}),
        )
        yield from self._cluster_wide()

    def _cluster_wide(self):
        """What every process answers alike (presence, the outbox): query it with max()."""
        try:
            online = len(presence().online_user_ids())
        except Exception as exc:  # Redis down: the rest of the scrape still answers
            log.info("metrics: presence unavailable: %s", exc)
        else:
            yield _gauge("inbox_users_online", "Distinct users online on any process", online)
        manager = current_app.extensions["socketio"].server.manager
        if hasattr(manager, "held_count"):
            yield _gauge(
                "inbox_message_queue_held_events",
                "Durable events waiting for Redis to be published",
                manager.held_count(),
            )
        try:
            yield from _outbox_gauges()
        except Exception as exc:  # the database is down
            db.session.rollback()
            log.info("metrics: outbox unavailable: %s", exc)


def _outbox_gauges():
    counts = dict(
        db.session.execute(
            select(OutboundDelivery.state, func.count())
            .where(OutboundDelivery.state.in_(("queued", "failed")))
            .group_by(OutboundDelivery.state)
        ).all()
    )
    oldest_due = db.session.scalar(
        select(func.min(OutboundDelivery.next_attempt_at)).where(OutboundDelivery.state == "queued")
    )
    overdue = max(0.0, (utcnow() - oldest_due).total_seconds()) if oldest_due else 0.0
    yield _gauge(
        "inbox_outbox_queued", "Replies waiting to be handed to n8n", counts.get("queued", 0)
    )
    yield _gauge(
        "inbox_outbox_failed",
        "Replies n8n never accepted (failed for good)",
        counts.get("failed", 0),
    )
    yield _gauge(
        "inbox_outbox_overdue_seconds",
        "How long the most overdue queued reply has been due (0: none waiting)",
        overdue,
    )


REGISTRY.register(ServingAppCollector())


def _authorize() -> None:
    token = current_app.config["METRICS_TOKEN"]
    if not token:
        return
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(sent.encode(), token.encode()):
        raise Unauthorized("A valid metrics token is required")


@bp.get("/metrics")
@operation(responses={200: CONTENT_TYPE_PLAIN_0_0_4}, errors=(401,), security=METRICS)
def metrics():
    """Every metric of this process, in Prometheus' text format (0.0.4)."""
    _authorize()
    return Response(generate_latest(REGISTRY), content_type=CONTENT_TYPE_PLAIN_0_0_4)


def init_metrics(app: Flask) -> None:
    """Serve /metrics."""
    app.register_blueprint(bp)
