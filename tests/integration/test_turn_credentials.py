"""The TURN credentials of GET /api/realtime/ice-servers against a real coturn: they
allocate and relay; an expired one, or one signed with another secret, is refused."""

import shutil
import subprocess
import time

import pytest

from app.services.ice_servers import turn_credential
from tests import services
from tests.turn_server import TurnServer

pytestmark = pytest.mark.usefixtures("fast_password_hashes")


@pytest.fixture(scope="module")
def turn():
    server = TurnServer().start()
    yield server
    server.stop()


def relays(turn, username: str, password: str) -> bool:
    """Whether coturn's own test client allocates with these credentials and relays
    three messages between two allocations (client to client, through the relay)."""
    client = shutil.which("turnutils_uclient")
    if client is None:
        services.unavailable("turnutils_uclient is missing (apt-get install coturn)")
    command = [client, "-p", str(turn.port), "-u", username, "-w", password]
    command += ["-y", "-c", "-n", "3", "-m", "1", "127.0.0.1"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    return result.returncode == 0 and "tot_recv_msgs=6" in result.stdout


def test_the_handed_out_credential_relays(app, client, make_user, headers_for, turn):
    app.config.update(TURN_URLS=turn.url, TURN_SECRET=turn.secret, TURN_TTL_SECONDS=600)
    user = make_user()
    (server,) = client.get("/api/realtime/ice-servers", headers=headers_for(user)).json[
        "iceServers"
    ]
    assert server["urls"] == [turn.url]
    assert relays(turn, server["username"], server["credential"])
    assert f"user <{server['username']}>: incoming packet ALLOCATE processed, success" in turn.log()


def test_an_expired_or_foreign_credential_is_refused(turn):
    expired = turn_credential(turn.secret, 7, 600, now=time.time() - 3600)
    assert not relays(turn, *expired)
    assert not relays(turn, *turn_credential("another-secret", 7, 600))
    assert relays(turn, *turn_credential(turn.secret, 7, 600))
