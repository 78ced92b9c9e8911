"""Domain errors and the one place that turns them into JSON responses."""

import logging

import redis.exceptions
from flask import jsonify
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from app.extensions import db

log = logging.getLogger(__name__)


class AppError(Exception):
    """An error a client caused or must be told about; carries its HTTP status."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationError(AppError):
    status, code = 400, "validation_error"


class Unauthorized(AppError):
    status, code = 401, "unauthorized"


class Forbidden(AppError):
    status, code = 403, "forbidden"


class NotFound(AppError):
    status, code = 404, "not_found"


class Conflict(AppError):
    status, code = 409, "conflict"


class PayloadTooLarge(AppError):
    status, code = 413, "payload_too_large"


class BadGateway(AppError):
    """A dependency we fetch from (a media URL) failed: the caller may retry."""

    status, code = 502, "bad_gateway"


def error_response(status: int, code: str, message: str, field: str | None = None):
    """The contract's error body: {"error": {"code", "message"[, "field"]}}."""
    body = {"code": code, "message": message}
    if field:
        body["field"] = field
    return jsonify({"error": body}), status


def _app_error(exc: AppError):
    return error_response(exc.status, exc.code, exc.message, exc.field)


def _http_error(exc: HTTPException):
    code = (exc.name or "error").lower().replace(" ", "_")
    if exc.code == 413:
        return error_response(413, "payload_too_large", "Request body is larger than 64 KiB")
    response, status = error_response(exc.code or 500, code, exc.description or exc.name)
    # Keep what the exception says besides its HTML body, e.g. a 405's Allow header.
    response.headers.extend(
        (name, value) for name, value in exc.get_headers() if name.lower() != "content-type"
    )
    return response, status


def _database_down(exc: Exception):
    db.session.rollback()
    log.warning("database unavailable: %s", exc)
    return error_response(503, "service_unavailable", "Database unavailable, retry later")


def _redis_down(exc: Exception):
    log.warning("redis unavailable: %s", exc)
    return error_response(503, "service_unavailable", "Redis unavailable, retry later")


def _unstorable_value(exc: DataError):
    """A value the database refuses to store or compare (e.g. NUL in PostgreSQL text)."""
    db.session.rollback()
    log.info("refused a value the database cannot take: %s", exc.orig)
    return error_response(400, "validation_error", "A value in the request cannot be stored")


def _dbapi_error(exc: DBAPIError):
    if exc.connection_invalidated:
        return _database_down(exc)
    raise exc


def register_error_handlers(app) -> None:
    """Map domain errors, HTTP errors and dependency outages to JSON responses."""
    app.register_error_handler(AppError, _app_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _database_down)
    app.register_error_handler(DBAPIError, _dbapi_error)
    app.register_error_handler(DataError, _unstorable_value)
    app.register_error_handler(redis.exceptions.ConnectionError, _redis_down)
    app.register_error_handler(redis.exceptions.TimeoutError, _redis_down)
