"""UTC time helpers: the database keeps naive UTC, clients get ISO-8601 with Z."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time as a naive UTC datetime, as stored in the database."""
    return datetime.now(UTC).replace(tzinfo=None)


def isoformat(moment: datetime | None) -> str | None:
    """ISO-8601 UTC with millisecond precision and a Z suffix."""
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds") + "Z"


def parse_timestamp(value) -> datetime:
    """Parse an ISO-8601 string or Unix epoch (seconds or milliseconds) into naive UTC.

    Raises ValueError for anything else.
    """
    if isinstance(value, bool):
        raise ValueError("not a timestamp")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
    if not isinstance(value, str) or not value.strip():
        raise ValueError("not a timestamp")
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed
