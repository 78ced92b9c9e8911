"""Reaching the real PostgreSQL and Redis of the test machine, or skipping loudly.

Outside CI a missing service skips its tests with the reason printed;
REQUIRE_SERVICES=1 (set by .ci/run) turns that skip into a failure.
"""

import atexit
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


_reused_url: str | None = None


def reused_postgres_database() -> str:
    """One PostgreSQL database for this test process, emptied by empty_postgres_database().

    Creating a database per test costs a quarter to two seconds on a busy
    machine; emptying one costs milliseconds. Dropped when the process exits.
    """
    global _reused_url
    if _reused_url is None:
        _reused_url = create_postgres_database()
        atexit.register(drop_postgres_database, _reused_url)
    return _reused_url


def empty_postgres_database(url: str, tables: list[str]) -> None:
    """Delete every row and restart every id sequence, as if the database were new.

    `tables` come dependents first (foreign keys). DELETE beats TRUNCATE on
    tables this small. A connection a test left open can hold a lock the
    DELETE needs: after a short wait it is cut, as dropping the database would.
    """
    import psycopg

    conn = _emptying_connection(url)
    try:
        _delete_all(conn, tables)
    except psycopg.errors.LockNotAvailable:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        _delete_all(conn, tables)


def _delete_all(conn, tables: list[str]) -> None:
    with conn.transaction():
        for table in tables:
            conn.execute(f'DELETE FROM "{table}"')
        for (sequence,) in conn.execute(_SEQUENCES).fetchall():
            conn.execute("SELECT setval(%s, 1, false)", (sequence,))


_SEQUENCES = (
    "SELECT 'public.' || quote_ident(sequencename) FROM pg_sequences WHERE schemaname = 'public'"
)
_emptying: dict = {}


def _emptying_connection(url: str):
    """One kept connection per database: connecting costs more than the TRUNCATE."""
    import psycopg

    conn = _emptying.get(url)
    if conn is None or conn.closed:
        conn = _emptying[url] = psycopg.connect(url, autocommit=True, connect_timeout=3)
        conn.execute("SET lock_timeout = '3s'")
    return conn


def drop_postgres_database(url: str) -> None:
    import psycopg

    if url in _emptying:
        _emptying.pop(url).close()
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
