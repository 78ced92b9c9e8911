"""GET /health: is the database (and Redis, when configured) reachable."""

from flask import Blueprint, jsonify
from sqlalchemy import text

from app.extensions import db
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
def health():
    database = "ok" if _database_ok() else "unavailable"
    queue = _message_queue()
    body = {"status": "ok", "database": database, "messageQueue": queue}
    if database != "ok" or queue == "unavailable":
        failing = [
            n for n, v in (("database", database), ("messageQueue", queue)) if v == "unavailable"
        ]
        body["status"] = "unavailable"
        body["error"] = {
            "code": "service_unavailable",
            "message": f"unreachable: {', '.join(failing)}",
        }
        return jsonify(body), 503
    return jsonify(body)
