"""HTTP rate limits (app/rate_limits.py): the REST limit per user, what it never counts,
429s in the contract's shape with Retry-After, and the login limits shared through
Redis by several processes, held per process while Redis is away.

The failed-login rules themselves are in tests/test_auth.py.
"""

import time

import pytest
import time_machine

from app import rate_limits
from app.services import auth as auth_service
from app.services.users import create_user
from tests.conftest import PASSWORD, WEBHOOK_SECRET, webhook_body
from tests.module_app import fresh_app

REST_LIMIT = 3


@pytest.fixture
def limited_app():
    with fresh_app(REST_RATE_LIMIT=f"{REST_LIMIT} per minute") as app:
        yield app


@pytest.fixture
def users(limited_app):
    """Two users of limited_app and their bearer headers."""
    found = []
    for n in range(2):
        user = create_user(f"limited{n}@example.com", PASSWORD, "USER")
        token = auth_service.issue_tokens(user)["accessToken"]
        found.append((user, {"Authorization": f"Bearer {token}"}))
    return found


def me(client, headers, address="127.0.0.1") -> int:
    return client.get(
        "/api/auth/me", headers=headers, environ_base={"REMOTE_ADDR": address}
    ).status_code


def assert_rate_limited(response) -> None:
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_each_user_has_a_budget_of_bearer_requests(limited_app, users):
    client = limited_app.test_client()
    (_, first), (_, second) = users
    assert [me(client, first) for _ in range(REST_LIMIT)] == [200] * REST_LIMIT
    assert_rate_limited(client.get("/api/auth/me", headers=first))
    assert_rate_limited(client.get("/api/conversations", headers=first))  # one budget for all
    assert me(client, second) == 200  # another user, same address


def test_the_budget_comes_back_after_its_window(limited_app, users):
    client = limited_app.test_client()
    (user, _), _ = users
    with time_machine.travel(1_800_000_000, tick=False) as clock:
        token = auth_service.issue_tokens(user)["accessToken"]  # valid at the travelled time
        headers = {"Authorization": f"Bearer {token}"}
        assert [me(client, headers) for _ in range(REST_LIMIT + 1)] == [200] * REST_LIMIT + [429]
        clock.shift(61)
        assert me(client, headers) == 200


def test_webhooks_logins_and_token_less_requests_are_not_counted(limited_app, users):
    client = limited_app.test_client()
    (user, headers), _ = users
    for n in range(REST_LIMIT * 3):
        response = client.post(
            "/api/webhooks/n8n/message",
            json=webhook_body(user, message_id=f"wamid.limit.{n}"),
            headers={"X-Webhook-Secret": WEBHOOK_SECRET},
        )
        assert response.status_code == 201
        login = {"email": user.email, "password": PASSWORD}
        assert client.post("/api/auth/login", json=login).status_code == 200
        assert client.get("/api/openapi.json").status_code == 200
        assert client.get("/health").status_code == 200
    assert [me(client, headers) for _ in range(REST_LIMIT)] == [200] * REST_LIMIT


def test_every_rest_route_is_in_the_blueprint_the_limits_watch(app):
    """Flask-Limiter's hooks run for the API blueprint only (app/rate_limits.py)."""
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and not rule.rule.startswith("/api/webhooks/"):
            assert rule.endpoint.split(".")[0] == rate_limits.API_BLUEPRINT, rule.rule


def test_invalid_tokens_count_against_their_address(limited_app, users):
    client = limited_app.test_client()
    garbage = {"Authorization": "Bearer not-a-token"}
    assert [me(client, garbage, "10.9.9.9") for _ in range(REST_LIMIT)] == [401] * REST_LIMIT
    assert me(client, garbage, "10.9.9.9") == 429
    assert me(client, garbage, "10.9.9.8") == 401
    (_, headers), _ = users
    assert me(client, headers, "10.9.9.9") == 200  # a valid token counts for its user


# Several processes through Redis.


@pytest.fixture
def processes(redis_server):
    """Two apps on one Redis, standing for two server processes."""
    if redis_server.process is None:
        redis_server.start()
    url = redis_server.url()
    with fresh_app(REDIS_URL=url) as first, fresh_app(REDIS_URL=url) as second:
        yield first.test_client(), second.test_client()


def failed_login(client, email: str) -> int:
    """A login with a wrong password (every account here is unknown: 401, or 429)."""
    body = {"email": email, "password": "wrong-password"}
    return client.post("/api/auth/login", json=body).status_code


def eventually(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


def test_processes_count_failed_logins_together(processes):
    first, second = processes
    codes = [failed_login((first, second)[n % 2], "shared@example.com") for n in range(10)]
    assert codes == [401] * 10
    assert failed_login(first, "shared@example.com") == 429
    assert failed_login(second, "SHARED@example.com") == 429


def test_each_process_limits_on_its_own_while_redis_is_down(processes, redis_server):
    first, second = processes
    redis_server.stop()
    try:
        assert [failed_login(first, "outage@example.com") for _ in range(11)] == [401] * 10 + [429]
        assert failed_login(second, "outage@example.com") == 401  # its own count
    finally:
        redis_server.start()
    client = redis_server.client()
    # Back on Redis (restarted empty) once Flask-Limiter looks at it again.
    attempts = iter(range(1000))
    eventually(
        lambda: (
            failed_login(first, f"back{next(attempts)}@example.com") == 401
            and client.keys("LIMITS:*")
        ),
        timeout=40,
    )
