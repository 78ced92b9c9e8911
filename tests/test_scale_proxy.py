"""Behind a proxy (nginx, Heroku's router): TRUSTED_PROXY_HOPS makes the per-address
login limit count clients, not the proxy, and only then trusts X-Forwarded-For."""

import pytest

from app import create_app
from app.extensions import db

ADDRESS_LIMIT = 3  # failed logins per address per minute (50 in production)


@pytest.fixture
def proxied_client(request):
    """A test client of an app trusting `request.param` proxy hops."""
    config = {"CONFIG": "testing", "TRUSTED_PROXY_HOPS": request.param}
    app = create_app({**config, "LOGIN_FAILURES_PER_ADDRESS": ADDRESS_LIMIT})
    with app.app_context():
        db.create_all()
        yield app.test_client()
        db.session.remove()
        db.engine.dispose()


def failed_login(client, n: int, forwarded_for: str) -> int:
    """A failed login for a new unknown account each time (no per-account limit)."""
    response = client.post(
        "/api/auth/login",
        json={"email": f"nobody{n}@example.com", "password": "wrong-password"},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return response.status_code


def exhaust_address(client, forwarded_for: str) -> list[int]:
    return [failed_login(client, n, forwarded_for) for n in range(ADDRESS_LIMIT + 1)]


@pytest.mark.parametrize("proxied_client", [1], indirect=True)
def test_behind_a_proxy_one_address_is_limited_not_everyone(proxied_client):
    assert exhaust_address(proxied_client, "203.0.113.1") == [401] * ADDRESS_LIMIT + [429]
    assert failed_login(proxied_client, 99, "203.0.113.2") == 401


@pytest.mark.parametrize("proxied_client", [0], indirect=True)
def test_without_trusted_proxies_x_forwarded_for_is_ignored(proxied_client):
    assert exhaust_address(proxied_client, "203.0.113.1") == [401] * ADDRESS_LIMIT + [429]
    assert (
        failed_login(proxied_client, 99, "203.0.113.2") == 429
    )  # a spoofed header changes nothing
