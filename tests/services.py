"""Reaching the real PostgreSQL and Redis of the test machine, or skipping loudly.

Outside CI a missing service skips its tests with the reason printed;
REQUIRE_SERVICES=1 (set by .ci/run) turns that skip into a failure.
"""

import os
import uuid

import pytest

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")


def unavailable(reason: str):
    """Skip, or fail when services are required."""
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


def postgres_admin_url() -> str:
    return POSTGRES_URL


def create_postgres_database() -> str:
    """A new empty PostgreSQL database; returns its URL."""
    import psycopg

    name = f"inbox_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL at {POSTGRES_URL} unreachable: {exc}")
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + name


def drop_postgres_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_url(db: int = 0) -> str:
    """The test Redis, checked reachable; db picks a logical database."""
    import redis

    url = f"{REDIS_URL}/{db}"
    try:
        redis.Redis.from_url(url, socket_timeout=2).ping()
    except redis.exceptions.RedisError as exc:
        unavailable(f"Redis at {REDIS_URL} unreachable: {exc}")
    return url
