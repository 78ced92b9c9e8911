"""Call signalling over a real server, with python-socketio clients: who may call whom, one
answering socket, relaying to that socket only, the ring timeout, hang-ups and disconnects,
and the same across two processes sharing Redis."""

import time
import uuid

import pytest

from tests.clients import PyClient
from tests.live_server import LiveServer

# Calls touch the database only to look users up: one process on SQLite, the two
# processes on PostgreSQL (as several processes are deployed), whatever TEST_DATABASE says.
pytestmark = pytest.mark.database_pinned

RING_SECONDS = 2
SDP = {"description": {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}}


@pytest.fixture(scope="module")
def server():
    live = LiveServer(database="sqlite", env={"CALL_RING_TIMEOUT_SECONDS": str(RING_SECONDS)})
    live.start()
    yield live
    live.close()


@pytest.fixture(scope="module")
def cluster(redis_server):
    """Two server processes on one database and one Redis."""
    env = {"CALL_RING_TIMEOUT_SECONDS": str(RING_SECONDS), "REDIS_URL": redis_server.url()}
    first = LiveServer(database="postgres", env=env).start()
    second = LiveServer(env=env, database_url=first.database_url).start()
    yield first, second
    second.close()
    first.close()


@pytest.fixture
def clients():
    """open(server, account) -> a connected PyClient, closed after the test."""
    opened = []

    def open_client(server, account):
        client = PyClient(server.url, server.login(account["email"])["accessToken"])
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        client.close()


def account(server, role: str = "USER", name: str = "") -> dict:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    return {"email": email, "id": server.create_user(email, role=role, name=name), "name": name}


def refused(client, event: str, data, message: str) -> None:
    """The event is refused with `message`, in the ack and as an `error` event."""
    errors_before = len(client.of("error"))
    assert client.call(event, data) == {"error": message}
    assert client.wait_for("error", errors_before + 1)[-1] == {"message": message}


def ring(caller, callee, callee_id: int, kind: str = "video") -> str:
    """Place a call and wait until the callee's socket rings; the call's id."""
    ack = caller.call("call_invite", {"toUserId": callee_id, "kind": kind})
    assert ack["ok"] is True, ack
    (incoming,) = [e for e in callee.wait_for("call_incoming") if e["callId"] == ack["callId"]]
    assert incoming["kind"] == kind
    return ack["callId"]


def test_a_user_calls_support_and_one_of_the_admins_sockets_answers(server, clients):
    user, admin = account(server, name="Ayşe"), account(server, "ADMIN", name="Destek")
    caller = clients(server, user)
    desk, phone = clients(server, admin), clients(server, admin)

    ack = caller.call("call_invite", {"toUserId": admin["id"], "kind": "screen"})
    assert set(ack) == {"ok", "callId"} and ack["ok"] is True
    call_id = ack["callId"]
    expected = {"callId": call_id, "fromUserId": user["id"], "fromName": "Ayşe", "kind": "screen"}
    assert desk.wait_for("call_incoming") == [expected]
    assert phone.wait_for("call_incoming") == [expected]

    assert desk.call("call_accept", {"callId": call_id}) == {"ok": True}
    assert phone.wait_for("call_ended") == [{"callId": call_id, "reason": "answered_elsewhere"}]
    assert caller.wait_for("call_accepted") == [{"callId": call_id, "byUserId": admin["id"]}]
    refused(phone, "call_accept", {"callId": call_id}, "Call already answered")

    assert caller.call("call_signal", {"callId": call_id, "data": SDP}) == {"ok": True}
    relayed = {"callId": call_id, "fromUserId": user["id"], "data": SDP}
    assert desk.wait_for("call_signal") == [relayed]
    candidate = {"candidate": {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host"}}
    assert desk.call("call_signal", {"callId": call_id, "data": candidate}) == {"ok": True}
    assert caller.wait_for("call_signal")[0]["data"] == candidate
    refused(phone, "call_signal", {"callId": call_id, "data": SDP}, "Unauthorized")
    refused(phone, "call_end", {"callId": call_id}, "Unauthorized")

    assert caller.call("call_end", {"callId": call_id}) == {"ok": True}
    ended = {"callId": call_id, "reason": "ended"}
    assert caller.wait_for("call_ended") == [ended]
    assert desk.wait_for("call_ended") == [ended]
    assert phone.of("call_signal") == [] and phone.of("call_accepted") == []
    assert len(phone.of("call_ended")) == 1  # answered_elsewhere only
    refused(caller, "call_signal", {"callId": call_id, "data": SDP}, "Call not found")


def test_a_user_may_call_admins_only_and_an_admin_anyone(server, clients):
    user, other, admin = account(server), account(server), account(server, "ADMIN")
    caller, callee, admin_socket = (
        clients(server, user),
        clients(server, other),
        clients(server, admin),
    )
    refused(caller, "call_invite", {"toUserId": other["id"], "kind": "audio"}, "Unauthorized")
    refused(caller, "call_invite", {"toUserId": 2**31 - 1, "kind": "audio"}, "Unauthorized")
    assert callee.of("call_incoming") == []
    call_id = ring(admin_socket, callee, other["id"], "audio")
    assert callee.call("call_reject", {"callId": call_id}) == {"ok": True}
    refused(admin_socket, "call_invite", {"toUserId": 2**31 - 1, "kind": "audio"}, "User not found")
    refused(
        admin_socket, "call_invite", {"toUserId": admin["id"], "kind": "audio"}, "Invalid toUserId"
    )


def test_bad_payloads_are_refused_by_field(server, clients):
    admin, user = account(server, "ADMIN"), account(server)
    caller, callee = clients(server, admin), clients(server, user)
    refused(caller, "call_invite", {"toUserId": user["id"], "kind": "fax"}, "Invalid kind")
    refused(caller, "call_invite", {"toUserId": "7", "kind": "audio"}, "Invalid toUserId")
    refused(caller, "call_accept", {"callId": "call_1"}, "Invalid callId")
    refused(caller, "call_signal", {"callId": "call_" + "0" * 32}, "Invalid data")
    refused(caller, "call_end", {"callId": "call_" + "0" * 32}, "Call not found")
    call_id = ring(caller, callee, user["id"])
    # Before the answer there is no socket to relay to.
    refused(caller, "call_signal", {"callId": call_id, "data": SDP}, "Call not answered")
    assert caller.call("call_end", {"callId": call_id}) == {"ok": True}
    assert callee.wait_for("call_ended") == [{"callId": call_id, "reason": "ended"}]


def test_a_callee_without_a_socket_is_offline(server, clients):
    admin, user = account(server, "ADMIN"), account(server)
    refused(
        clients(server, admin),
        "call_invite",
        {"toUserId": user["id"], "kind": "video"},
        "User offline",
    )


def test_a_rejected_call_ends_for_both(server, clients):
    admin, user = account(server, "ADMIN"), account(server)
    caller, callee = clients(server, admin), clients(server, user)
    call_id = ring(caller, callee, user["id"])
    refused(caller, "call_reject", {"callId": call_id}, "Unauthorized")  # the callee only
    assert callee.call("call_reject", {"callId": call_id}) == {"ok": True}
    rejected = [{"callId": call_id, "reason": "rejected"}]
    assert caller.wait_for("call_ended") == rejected
    assert callee.wait_for("call_ended") == rejected
    refused(callee, "call_accept", {"callId": call_id}, "Call not found")


def test_an_unanswered_call_times_out(server, clients):
    admin, user = account(server, "ADMIN"), account(server)
    caller, callee = clients(server, admin), clients(server, user)
    call_id = ring(caller, callee, user["id"])
    started = time.monotonic()
    timeout = [{"callId": call_id, "reason": "timeout"}]
    assert caller.wait_for("call_ended", timeout=RING_SECONDS + 10) == timeout
    assert time.monotonic() - started >= RING_SECONDS - 0.5
    assert callee.wait_for("call_ended") == timeout
    refused(callee, "call_accept", {"callId": call_id}, "Call not found")


def test_a_party_disconnecting_ends_the_call(server, clients):
    admin, user = account(server, "ADMIN"), account(server)
    caller, callee = clients(server, admin), clients(server, user)
    call_id = ring(caller, callee, user["id"])
    assert callee.call("call_accept", {"callId": call_id}) == {"ok": True}
    callee.close()
    assert caller.wait_for("call_ended") == [{"callId": call_id, "reason": "disconnected"}]

    # While it rings: the caller leaving, or the callee's last socket closing.
    callee = clients(server, user)
    call_id = ring(caller, callee, user["id"])
    caller.close()
    assert callee.wait_for("call_ended")[-1] == {"callId": call_id, "reason": "disconnected"}
    caller = clients(server, admin)
    call_id = ring(caller, callee, user["id"])
    callee.close()
    assert caller.wait_for("call_ended") == [{"callId": call_id, "reason": "disconnected"}]


def test_invites_are_rate_limited(server, clients):
    admin, user = account(server, "ADMIN"), account(server)
    caller, callee = clients(server, admin), clients(server, user)
    for _ in range(10):
        assert caller.call("call_invite", {"toUserId": user["id"], "kind": "audio"})["ok"] is True
    refused(caller, "call_invite", {"toUserId": user["id"], "kind": "audio"}, "Rate limit exceeded")
    assert len(callee.wait_for("call_incoming", 10)) == 10


def test_a_call_across_two_processes(cluster, clients):
    first, second = cluster
    user, admin = account(first), account(first, "ADMIN")
    caller = clients(first, user)
    desk, phone = clients(second, admin), clients(first, admin)
    call_id = ring(caller, desk, admin["id"])
    phone.wait_for("call_incoming")
    # Both processes race to answer: one socket wins, the other is told.
    assert desk.call("call_accept", {"callId": call_id}) == {"ok": True}
    refused(phone, "call_accept", {"callId": call_id}, "Call already answered")
    assert phone.wait_for("call_ended") == [{"callId": call_id, "reason": "answered_elsewhere"}]
    caller.wait_for("call_accepted")
    assert caller.call("call_signal", {"callId": call_id, "data": SDP}) == {"ok": True}
    assert desk.wait_for("call_signal")[0]["data"] == SDP
    assert desk.call("call_signal", {"callId": call_id, "data": {"answer": 1}}) == {"ok": True}
    assert caller.wait_for("call_signal")[0]["data"] == {"answer": 1}
    desk.close()  # the answering socket on the second process goes away
    assert caller.wait_for("call_ended") == [{"callId": call_id, "reason": "disconnected"}]

    # A ring placed on the first process times out, swept by whichever process comes first.
    desk = clients(second, admin)
    call_id = ring(caller, desk, admin["id"])
    timeout = {"callId": call_id, "reason": "timeout"}
    assert desk.wait_for("call_ended", timeout=RING_SECONDS + 10) == [timeout]
    assert caller.wait_for("call_ended", 2, timeout=RING_SECONDS + 10)[-1] == timeout


def test_redis_down_refuses_a_call_and_it_works_again_after(cluster, clients, redis_server):
    """Last in the module: it takes the cluster's Redis away and brings it back."""
    first, second = cluster
    user, admin = account(first), account(first, "ADMIN")
    caller, desk = clients(first, user), clients(second, admin)
    redis_server.stop()
    try:
        refused(
            caller, "call_invite", {"toUserId": admin["id"], "kind": "audio"}, "Service unavailable"
        )
        assert desk.of("call_incoming") == []
    finally:
        redis_server.start()
    # Once both processes have re-listed their sockets in the new Redis (each does it
    # right after its subscription is back, and holds its emits until then), calls go
    # through: the admin's socket is on the second process, the caller's on the first.
    admin_token = first.login(admin["email"])["accessToken"]
    deadline = time.monotonic() + 30
    for someone in (admin, user):
        while not first.get(f"/api/users/{someone['id']}/online", admin_token).json()["online"]:
            assert time.monotonic() < deadline, "presence not restored after Redis came back"
            time.sleep(0.25)
    ack = caller.call("call_invite", {"toUserId": admin["id"], "kind": "audio"})
    assert ack["ok"] is True, ack
    assert desk.wait_for("call_incoming")[0]["callId"] == ack["callId"]
