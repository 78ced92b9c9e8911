"""Token lifecycle on a real server: bad tokens refused, live sockets cut, refresh and resume.

A socket is disconnected within a few seconds of its token being revoked
(logout), its user deactivated (the CLI, another process), or its token
expiring; the client then refreshes and reconnects with its lastEventId and
receives exactly what it missed.
"""

import threading
import time
import uuid

import jwt
import pytest
import requests
import socketio

from tests.clients import JsClient, PyClient
from tests.live_server import LiveServer
from tests.private_redis import PrivateRedis
from tests.reliability_figures import record

CUT_WITHIN_SECONDS = 5  # the contract's "a few seconds"; the sweep runs every second
SHORT_TOKEN_MINUTES = 0.05  # 3 s access tokens on the expiry server


@pytest.fixture(scope="module")
def server():
    live = LiveServer().start()
    yield live
    live.close()


@pytest.fixture(scope="module")
def short_server():
    live = LiveServer(env={"JWT_ACCESS_TOKEN_MINUTES": str(SHORT_TOKEN_MINUTES)}).start()
    yield live
    live.close()


def new_user(server, role: str = "USER") -> tuple[str, int]:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    return email, server.create_user(email, role=role)


def post(server, user_id: int, text: str) -> str:
    body = {
        "user_id": user_id,
        "customer_name": "Zeynep",
        "customer_phone": "+905550001111",
        "message_content": text,
    }
    response = server.post_webhook(body)
    assert response.status_code == 201, response.text
    return response.json()["data"]["id"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def watch_disconnect(client: PyClient) -> threading.Event:
    gone = threading.Event()
    client.sio.on("disconnect", lambda *reason: gone.set())
    return gone


def refresh(server, refresh_token: str) -> requests.Response:
    return requests.post(
        server.url + "/api/auth/refresh", headers=bearer(refresh_token), timeout=10
    )


def resume_and_check(server, token: str, last_seen: int, missed: list[str]) -> None:
    """Reconnect with lastEventId and receive exactly the missed messages, in order."""
    again = PyClient(server.url, token, last_event_id=last_seen)
    try:
        replayed = again.wait_for("new_message", len(missed))
        assert [m["id"] for m in replayed] == missed
    finally:
        again.close()


def connected_with_one_message(server, user_id: int, token: str) -> tuple[PyClient, int]:
    client = PyClient(server.url, token)
    post(server, user_id, "seen before the cut")
    return client, client.wait_for("new_message")[0]["eventId"]


def test_logout_cuts_the_socket_and_a_new_login_resumes_without_loss(server):
    email, user_id = new_user(server)
    tokens = server.login(email)
    client, last_seen = connected_with_one_message(server, user_id, tokens["accessToken"])
    gone = watch_disconnect(client)

    started = time.monotonic()
    logout = requests.post(
        server.url + "/api/auth/logout", headers=bearer(tokens["accessToken"]), timeout=10
    )
    assert logout.status_code == 200
    assert gone.wait(CUT_WITHIN_SECONDS), "socket still connected after logout"
    record("token: logout cuts the live socket", seconds=time.monotonic() - started, disconnected=1)

    missed = [post(server, user_id, f"missed after logout {n}") for n in range(3)]
    with pytest.raises(socketio.exceptions.ConnectionError):
        PyClient(server.url, tokens["accessToken"])  # the revoked token no longer connects
    # The logout ended the login: its refresh token mints nothing more.
    assert refresh(server, tokens["refreshToken"]).status_code == 401
    resume_and_check(server, server.login(email)["accessToken"], last_seen, missed)


def test_cli_deactivation_cuts_the_socket_until_reactivated(server):
    email, user_id = new_user(server)
    tokens = server.login(email)
    client, last_seen = connected_with_one_message(server, user_id, tokens["accessToken"])
    gone = watch_disconnect(client)
    neighbour_email, neighbour_id = new_user(server)
    neighbour = PyClient(server.url, server.login(neighbour_email)["accessToken"])
    try:
        cli_started = time.monotonic()
        server.flask("users", "deactivate", email)
        started = time.monotonic()  # the CLI has committed the deactivation
        assert gone.wait(CUT_WITHIN_SECONDS), "socket still connected after deactivation"
        record(
            "token: CLI deactivation cuts the live socket",
            seconds_after_cli_returned=time.monotonic() - started,
            seconds_from_cli_start=time.monotonic() - cli_started,
        )

        missed = [post(server, user_id, f"missed while inactive {n}") for n in range(2)]
        assert refresh(server, tokens["refreshToken"]).status_code == 401
        js = JsClient(server.url, tokens["accessToken"])
        try:
            refused = js.wait_for(lambda line: line["type"] == "connect_error")
            assert refused["message"] == "User not found"
        finally:
            js.close()

        post(server, neighbour_id, "the neighbour is unaffected")
        assert (
            neighbour.wait_for("new_message")[0]["messageContent"] == "the neighbour is unaffected"
        )
        assert neighbour.sio.connected

        server.flask("users", "activate", email)
        resume_and_check(server, server.login(email)["accessToken"], last_seen, missed)
    finally:
        neighbour.close()


def test_expired_token_cuts_python_socket_and_refresh_resumes(short_server):
    server = short_server
    email, user_id = new_user(server)
    tokens = server.login(email)
    expires_at = jwt.decode(tokens["accessToken"], options={"verify_signature": False})["exp"]
    client, last_seen = connected_with_one_message(server, user_id, tokens["accessToken"])
    gone = watch_disconnect(client)

    assert gone.wait(SHORT_TOKEN_MINUTES * 60 + CUT_WITHIN_SECONDS), "not cut after expiry"
    late = time.time() - expires_at
    assert late < CUT_WITHIN_SECONDS
    record("token: expiry cuts the live socket (python-socketio)", seconds_after_exp=late)

    missed = [post(server, user_id, f"missed after expiry {n}") for n in range(3)]
    fresh = refresh(server, tokens["refreshToken"])
    assert fresh.status_code == 200
    resume_and_check(server, fresh.json()["accessToken"], last_seen, missed)


def test_expired_token_cuts_js_socket_and_refresh_resumes(short_server):
    server = short_server
    email, user_id = new_user(server)
    tokens = server.login(email)
    js = JsClient(server.url, tokens["accessToken"])
    try:
        js.wait_for(lambda line: line["type"] == "connect")
        post(server, user_id, "seen by js")
        last_seen = js.wait_event("new_message")["eventId"]
        cut = js.wait_for(
            lambda line: line["type"] == "disconnect",
            timeout=SHORT_TOKEN_MINUTES * 60 + CUT_WITHIN_SECONDS,
        )
        # The server's own disconnect: socket.io-client does not reconnect by itself.
        assert cut["reason"] == "io server disconnect"
    finally:
        js.close()
    missed = [post(server, user_id, f"js missed {n}") for n in range(3)]
    fresh = refresh(server, tokens["refreshToken"]).json()["accessToken"]
    again = JsClient(server.url, fresh, last_event_id=last_seen)
    try:
        assert [again.wait_event("new_message")["id"] for _ in missed] == missed
    finally:
        again.close()


@pytest.fixture(scope="module")
def pair():
    """Two servers sharing a private Redis (message queue) and one PostgreSQL database."""
    redis_server = PrivateRedis().start()
    env = {"REDIS_URL": redis_server.url()}
    first = LiveServer(database="postgres", env=env).start()
    second = LiveServer(database_url=first.database_url, env=env).start()
    yield first, second
    second.close()
    first.close()
    redis_server.stop()


def test_logout_and_deactivation_cut_sockets_held_by_another_process(pair):
    first, second = pair
    email, user_id = new_user(first)
    held = {}
    for how in ("logout on the other server", "CLI deactivation"):
        tokens = first.login(email)
        client = PyClient(second.url, tokens["accessToken"])  # the socket lives on `second`
        gone = watch_disconnect(client)
        if how == "CLI deactivation":
            first.flask("users", "deactivate", email)
        else:
            requests.post(
                first.url + "/api/auth/logout", headers=bearer(tokens["accessToken"]), timeout=10
            ).raise_for_status()
        started = time.monotonic()  # the change is committed: the contract's clock starts
        assert gone.wait(CUT_WITHIN_SECONDS), f"socket on the other server survived {how}"
        held[how] = time.monotonic() - started
    record(
        "token: cut across processes (Redis + PostgreSQL)",
        disconnected=2,
        **{f"seconds_{key.split()[0].lower()}": value for key, value in held.items()},
    )


def _forged(server, claims: dict, key: str, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def bad_tokens(server) -> dict[str, str]:
    """One token of each kind the server must refuse, built against the real server."""
    email, _user_id = new_user(server)
    tokens = server.login(email)
    claims = jwt.decode(tokens["accessToken"], options={"verify_signature": False})
    revoked = server.login(email)["accessToken"]
    requests.post(server.url + "/api/auth/logout", headers=bearer(revoked), timeout=10)
    key = server.env["JWT_SECRET_KEY"]
    unsigned = jwt.encode(claims, None, algorithm="none")
    return {
        "expired": _forged(server, {**claims, "exp": int(time.time()) - 10}, key),
        "wrong signature": _forged(server, claims, "some-other-key-of-a-decent-length-32b"),
        "alg none": unsigned,
        "refresh token": tokens["refreshToken"],
        "revoked": revoked,
        "garbage": "abc.def.ghi",
    }


def test_bad_tokens_are_refused_by_rest_and_by_the_real_handshake(server):
    refused = 0
    for kind, token in bad_tokens(server).items():
        me = requests.get(server.url + "/api/auth/me", headers=bearer(token), timeout=10)
        assert me.status_code == 401, kind
        js = JsClient(server.url, token)
        try:
            line = js.wait_for(lambda item: item["type"] in ("connect", "connect_error"))
            assert line == {"type": "connect_error", "message": "Authentication failed"}, kind
            refused += 2
        finally:
            js.close()
    record("token: bad tokens at REST and handshake (live)", inputs=refused, refused=refused)
