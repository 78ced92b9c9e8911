"""GET /health: is the database (and Redis, when configured) reachable."""

from flask import Blueprint
from sqlalchemy import text

from app.extensions import db
from app.schemas.http import operation
from app.schemas.rest import Health, HealthError
from app.state import redis_client

bp = Blueprint("health", __name__)


def _database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:
        db.session.rollback()
        return False


def _message_queue() -> str:
    client = redis_client()
    if client is None:
        return "local"
    try:
        client.ping()
        return "redis"
    except Exception:
        return "unavailable"


@bp.get("/health")
@operation(responses={200: Health, 503: Health}, common_errors=False)
def health():
    """Is the database (and Redis, when configured) reachable; 503 names the failing part."""
    found = Health(
        status="ok",
        database="ok" if _database_ok() else "unavailable",
        message_queue=_message_queue(),
    )
    failing = [
        name
        for name, value in (("database", found.database), ("messageQueue", found.message_queue))
        if value == "unavailable"
    ]
    if not failing:
        return found
    found.status = "unavailable"
    found.error = HealthError(
        code="service_unavailable", message=f"unreachable: {', '.join(failing)}"
    )
    return found, 503
