"""Reading request input, with errors that name the bad field."""

from flask import request

from app.errors import ValidationError


def json_object() -> dict:
    """The request body as a JSON object."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError("request body must be a JSON object", field="body")
    return body


def required_string(body: dict, field: str, max_length: int = 255) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field} is required and must be a non-empty string", field=field)
    if len(value) > max_length:
        raise ValidationError(f"{field} must be at most {max_length} characters", field=field)
    return value.strip()


# The largest integer a database column holds; beyond it a query fails instead of matching.
BIGINT_MAX = 2**63 - 1


def int_arg(name: str, default: int | None, minimum: int = 0, maximum: int = BIGINT_MAX):
    """An integer query parameter within bounds, or the default when absent."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(f"{name} must be an integer", field=name) from None
    if not minimum <= value <= maximum:
        raise ValidationError(f"{name} must be between {minimum} and {maximum}", field=name)
    return value
