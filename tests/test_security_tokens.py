"""Bad tokens are refused at REST and at the handshake; the sweep cuts sockets whose token died."""

import base64
import json
import time
import warnings
from datetime import timedelta
from types import SimpleNamespace

import jwt
import pytest
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from jwt.warnings import InsecureKeyLengthWarning

from app.extensions import db
from app.realtime import token_sweep
from app.services.auth import AuthenticationFailed, user_from_access_token
from app.services.users import set_active
from app.state import presence, state
from tests.conftest import received, webhook_body
from tests.reliability_figures import record

OTHER_KEY = "an-attacker-key-that-is-also-long-enough-for-hs256"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _access(app, user, **kwargs) -> str:
    return create_access_token(
        identity=str(user.id), additional_claims={"role": user.role}, **kwargs
    )


def expired(app, user, client) -> str:
    return _access(app, user, expires_delta=timedelta(seconds=-5))


def wrong_signature(app, user, client) -> str:
    return jwt.encode(_claims_of(_access(app, user)), OTHER_KEY, algorithm="HS256")


def alg_none(app, user, client) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims_of(_access(app, user)))}."


def alg_hs512(app, user, client) -> str:
    key = app.config["JWT_SECRET_KEY"]
    # A real key of HS256 length: the point is the algorithm switch, not the key.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(_claims_of(_access(app, user)), key, algorithm="HS512")


def tampered_subject(app, user, client) -> str:
    header, _payload, signature = _access(app, user).split(".")
    claims = {**_claims_of(_access(app, user)), "sub": "1", "role": "ADMIN"}
    return f"{header}.{_b64(claims)}.{signature}"


def refresh_token(app, user, client) -> str:
    return create_refresh_token(identity=str(user.id))


def revoked(app, user, client) -> str:
    token = _access(app, user)
    assert (
        client.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    return token


def garbage(app, user, client) -> str:
    return "not.a.jwt"


BAD_TOKENS = [
    expired,
    wrong_signature,
    alg_none,
    alg_hs512,
    tampered_subject,
    refresh_token,
    revoked,
    garbage,
]


@pytest.mark.parametrize("make_token", BAD_TOKENS, ids=lambda f: f.__name__)
def test_bad_token_is_refused_at_rest_and_at_the_handshake(
    app, client, make_user, socket_for, make_token
):
    make_user(role="ADMIN")  # user 1: the identity a tampered token claims
    user = make_user()
    token = make_token(app, user, client)

    response = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"

    assert not socket_for(token=token).is_connected()
    with pytest.raises(AuthenticationFailed) as refused:
        user_from_access_token(token)
    assert refused.value.message == "Authentication failed"
    assert not presence().is_online(user.id)
    record("token: bad tokens at REST and handshake (in-process)", inputs=2, refused=2)


@pytest.mark.parametrize("token", [None, "", 42, ["a"], {"token": "x"}, "x" * 10_000])
def test_malformed_handshake_token_is_refused(socket_for, token):
    assert not socket_for(token=token).is_connected()
    record("token: bad tokens at REST and handshake (in-process)", inputs=1, refused=1)


def test_handshake_auth_that_is_not_an_object_is_refused(app):
    from app.extensions import socketio

    socket = socketio.test_client(app, auth="just-a-string")  # type: ignore[arg-type]
    assert not socket.is_connected()


@pytest.mark.parametrize("how", ["deactivated", "deleted"])
def test_token_of_a_deactivated_or_deleted_user_is_refused(client, make_user, token_for, how):
    user = make_user()
    token = token_for(user)
    if how == "deactivated":
        set_active(user.email, False)
    else:
        db.session.delete(user)
        db.session.commit()
    assert (
        client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )
    with pytest.raises(AuthenticationFailed) as refused:
        user_from_access_token(token)
    assert refused.value.message == "User not found"


def test_access_token_is_not_a_refresh_token_and_revoked_refresh_fails(
    client, make_user, token_for
):
    user = make_user()
    access = token_for(user)
    refresh = create_refresh_token(identity=str(user.id))
    assert (
        client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {access}"}).status_code
        == 401
    )
    bearer = {"Authorization": f"Bearer {refresh}"}
    assert client.post("/api/auth/refresh", headers=bearer).status_code == 200
    assert client.post("/api/auth/logout", headers=bearer).status_code == 200
    assert client.post("/api/auth/refresh", headers=bearer).status_code == 401


def test_logout_revokes_only_the_token_it_was_called_with(client, make_user, token_for):
    user = make_user()
    first, second = token_for(user), token_for(user)
    assert (
        client.post("/api/auth/logout", headers={"Authorization": f"Bearer {first}"}).status_code
        == 200
    )
    assert (
        client.get("/api/auth/me", headers={"Authorization": f"Bearer {first}"}).status_code == 401
    )
    assert (
        client.get("/api/auth/me", headers={"Authorization": f"Bearer {second}"}).status_code == 200
    )


def test_sweep_cuts_revoked_deactivated_and_expired_sockets_only(
    app, client, make_user, socket_for, post_webhook, monkeypatch
):
    revoked_user, deactivated, expiring, neighbour = (make_user() for _ in range(4))
    revoked_token = _access(app, revoked_user)
    sockets = {
        "revoked": socket_for(token=revoked_token),
        "deactivated": socket_for(deactivated),
        "expiring": socket_for(token=_access(app, expiring, expires_delta=timedelta(seconds=60))),
        "neighbour": socket_for(neighbour),
    }
    assert all(socket.is_connected() for socket in sockets.values())
    assert (
        client.post(
            "/api/auth/logout", headers={"Authorization": f"Bearer {revoked_token}"}
        ).status_code
        == 200
    )
    set_active(deactivated.email, False)

    assert token_sweep.sweep(app, state()) == 2  # the token of `expiring` is still valid
    later = time.time() + 120
    monkeypatch.setattr(token_sweep, "time", SimpleNamespace(time=lambda: later))
    assert token_sweep.sweep(app, state()) == 1

    assert [name for name, s in sockets.items() if s.is_connected()] == ["neighbour"]
    assert [c.user_id for c in state().connections.all()] == [neighbour.id]
    for user in (revoked_user, deactivated, expiring):
        assert not presence().is_online(user.id)
    received(sockets["neighbour"])
    assert post_webhook(**webhook_body(neighbour)).status_code == 201
    assert len(received(sockets["neighbour"])["new_message"]) == 1


def test_stale_batches_large_connection_sets(app, make_user, token_for):
    user = make_user()
    claims = decode_token(token_for(user))
    from app.realtime.connections import Connection

    connections = [
        Connection(f"sid{n}", user.id, False, claims["jti"], float(claims["exp"]))
        for n in range(1200)
    ]
    connections.append(Connection("gone", 10_000, False, "jti-x", float(claims["exp"])))
    assert [c.sid for c in token_sweep.stale(connections, time.time())] == ["gone"]


def test_the_sweep_cuts_a_socket_whose_login_session_was_logged_out(app, client, make_user):
    """A logout with the refresh token ends the sockets of every access token it made."""
    from flask_socketio import SocketIOTestClient

    from app.extensions import socketio
    from app.services.auth import issue_tokens

    user, neighbour = make_user(), make_user()
    tokens, other = issue_tokens(user), issue_tokens(neighbour)
    refreshed = client.post(
        "/api/auth/refresh", headers={"Authorization": f"Bearer {tokens['refreshToken']}"}
    ).get_json()["accessToken"]
    sockets: list[SocketIOTestClient] = [
        socketio.test_client(app, auth={"token": token})
        for token in (tokens["accessToken"], refreshed, other["accessToken"])
    ]
    assert all(s.is_connected() for s in sockets)
    logout = client.post(
        "/api/auth/logout", headers={"Authorization": f"Bearer {tokens['refreshToken']}"}
    )
    assert logout.status_code == 200
    assert token_sweep.sweep(app, state()) == 2
    assert [s.is_connected() for s in sockets] == [False, False, True]
    sockets[2].disconnect()
