"""Password guessing against a real server: 429 after 10 failures per account, 50 per address.

The unit tests (tests/test_auth.py) cover the window's expiry with a fake
clock; this proves the limits hold over real HTTP through gunicorn.
"""

import pytest
import requests

from tests.live_server import PASSWORD, LiveServer
from tests.reliability_figures import record


@pytest.fixture(scope="module")
def server():
    live = LiveServer().start()  # its own: the address limit blocks 127.0.0.1 for a minute
    for name in ("target", "bystander", *(f"decoy{n}" for n in range(5))):
        live.create_user(f"{name}@example.com")
    yield live
    live.close()


class Attempts:
    """Login attempts against the server, every status kept for the figures."""

    def __init__(self, server):
        self.server = server
        self.codes: list[int] = []

    def __call__(self, email: str, password: str) -> int:
        response = requests.post(
            self.server.url + "/api/auth/login",
            json={"email": email, "password": password},
            timeout=30,
        )
        if response.status_code == 429:
            assert response.json()["error"]["code"] == "rate_limited"
        self.codes.append(response.status_code)
        return response.status_code


def test_guessing_blocks_the_account_then_the_whole_address(server):
    attempt = Attempts(server)
    assert [attempt("target@example.com", f"guess-{n}") for n in range(10)] == [401] * 10
    assert attempt("target@example.com", PASSWORD) == 429  # even the right password
    assert attempt("TARGET@example.com", PASSWORD) == 429  # the same account
    assert attempt("bystander@example.com", PASSWORD) == 200

    # 40 more failures spread over accounts (9 each at most): the address reaches 50.
    spread = [attempt(f"decoy{n % 5}@example.com", f"guess-{n}") for n in range(40)]
    assert spread == [401] * 40
    assert attempt("nobody@example.com", "guess") == 429
    assert attempt("bystander@example.com", PASSWORD) == 429
    record(
        "hostile: password guessing over HTTP (10 per account, 50 per address)",
        inputs=len(attempt.codes),
        refused=sum(code in (401, 429) for code in attempt.codes),
        rate_limited=attempt.codes.count(429),
        server_errors=sum(code >= 500 for code in attempt.codes),
    )
