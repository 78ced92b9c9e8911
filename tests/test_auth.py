"""Login, refresh, me, logout, failed-login limits and the `flask users` commands."""

from datetime import timedelta

import pytest
import time_machine
from flask_jwt_extended import create_access_token

from app import create_app
from app.extensions import db
from app.models import User
from app.services import auth as auth_service
from app.services.users import create_user
from tests.conftest import PASSWORD


def login(client, email, password=PASSWORD, address="127.0.0.1"):
    return client.post(
        "/api/auth/login",
        json={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def assert_error(response, status, field=None):
    """The contract's error body: {"error": {"code", "message"}} with the given status."""
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    if field:
        assert error.get("field") == field
        assert field in error["message"]
    return error


@pytest.fixture
def clock():
    """Frozen wall-clock time for the limits' windows; clock.shift(seconds) lets time pass."""
    with time_machine.travel(1_800_000_000, tick=False) as traveller:
        yield traveller


# Login


def test_login_returns_both_tokens_and_the_user(client, make_user):
    user = make_user(role="ADMIN", name="Zeynep")
    response = login(client, user.email)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"accessToken", "refreshToken", "user"}
    assert body["user"] == {"id": user.id, "email": user.email, "name": "Zeynep", "role": "ADMIN"}
    assert isinstance(body["user"]["id"], int)
    me = client.get("/api/auth/me", headers=bearer(body["accessToken"]))
    assert me.status_code == 200 and me.get_json()["id"] == user.id


def test_login_email_is_case_insensitive(client, make_user):
    user = make_user()
    assert login(client, "  " + user.email.upper()).status_code == 200


@pytest.mark.parametrize("password", ["wrong-password", PASSWORD.upper(), PASSWORD + "x"])
def test_login_with_a_wrong_password_is_401(client, make_user, password):
    user = make_user()
    assert_error(login(client, user.email, password), 401)


def test_login_with_an_unknown_email_is_401(client):
    error = assert_error(login(client, "nobody@example.com"), 401)
    assert error["code"] == "unauthorized"


def test_login_of_an_inactive_user_is_403(client, make_user):
    user = make_user(active=False)
    assert_error(login(client, user.email), 403)


def test_inactive_user_with_a_wrong_password_gets_401_not_403(client, make_user):
    user = make_user(active=False)
    assert_error(login(client, user.email, "wrong-password"), 401)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"password": PASSWORD}, "email"),
        ({"email": "", "password": PASSWORD}, "email"),
        ({"email": 5, "password": PASSWORD}, "email"),
        ({"email": "a@example.com"}, "password"),
        ({"email": "a@example.com", "password": ""}, "password"),
        ({"email": "a@example.com", "password": ["x"]}, "password"),
        ([], "body"),
        ("text", "body"),
    ],
)
def test_login_with_bad_input_is_400_naming_the_field(client, body, field):
    assert_error(client.post("/api/auth/login", json=body), 400, field)


@pytest.mark.parametrize(
    "raw",
    ['{"email": "\\ud800@example.com", "password": "x"}', "[" * 30_000 + "]" * 30_000],
    ids=["lone-surrogate", "nested-too-deep"],
)
def test_login_with_json_python_cannot_take_is_400_not_500(client, raw):
    assert_error(client.post("/api/auth/login", data=raw, content_type="application/json"), 400)


def test_login_with_a_body_that_is_not_json_is_400(client):
    response = client.post("/api/auth/login", data="{oops", content_type="application/json")
    assert_error(response, 400, "body")


# Refresh, me, logout


def test_refresh_token_gets_a_new_working_access_token(client, make_user):
    user = make_user()
    tokens = login(client, user.email).get_json()
    response = client.post("/api/auth/refresh", headers=bearer(tokens["refreshToken"]))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"accessToken"}
    assert client.get("/api/auth/me", headers=bearer(body["accessToken"])).status_code == 200


def test_refresh_with_an_access_token_is_refused(client, make_user):
    tokens = login(client, make_user().email).get_json()
    assert_error(client.post("/api/auth/refresh", headers=bearer(tokens["accessToken"])), 401)


def test_refresh_token_is_not_an_access_token(client, make_user):
    tokens = login(client, make_user().email).get_json()
    assert_error(client.get("/api/auth/me", headers=bearer(tokens["refreshToken"])), 401)


def test_me_returns_the_user(client, make_user):
    user = make_user(name="Mehmet")
    tokens = login(client, user.email).get_json()
    response = client.get("/api/auth/me", headers=bearer(tokens["accessToken"]))
    assert response.get_json() == {
        "id": user.id,
        "email": user.email,
        "name": "Mehmet",
        "role": "USER",
    }


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not.a.jwt"},
        {"Authorization": "x"},
    ],
)
def test_me_without_a_valid_token_is_401(client, headers):
    assert_error(client.get("/api/auth/me", headers=headers), 401)


def test_me_with_an_expired_token_is_401(client, make_user):
    user = make_user()
    expired = create_access_token(identity=str(user.id), expires_delta=timedelta(seconds=-5))
    assert_error(client.get("/api/auth/me", headers=bearer(expired)), 401)


def test_logout_revokes_the_token_at_rest_and_at_the_socket(client, make_user, handshake_refusal):
    user = make_user()
    tokens = login(client, user.email).get_json()
    access = tokens["accessToken"]
    assert handshake_refusal(token=access) is None

    response = client.post("/api/auth/logout", headers=bearer(access))
    assert response.status_code == 200

    assert_error(client.get("/api/auth/me", headers=bearer(access)), 401)
    assert_error(client.post("/api/auth/logout", headers=bearer(access)), 401)
    assert handshake_refusal(token=access) == "Authentication failed"
    # Other tokens of the same user are untouched.
    fresh = login(client, user.email).get_json()["accessToken"]
    assert client.get("/api/auth/me", headers=bearer(fresh)).status_code == 200


def test_logout_with_the_refresh_token_ends_its_login_session(client, make_user):
    user = make_user()
    tokens = login(client, user.email).get_json()
    refresh = tokens["refreshToken"]
    minted = client.post("/api/auth/refresh", headers=bearer(refresh)).get_json()["accessToken"]
    other_session = login(client, user.email).get_json()["accessToken"]
    assert client.post("/api/auth/logout", headers=bearer(refresh)).status_code == 200
    assert_error(client.post("/api/auth/refresh", headers=bearer(refresh)), 401)
    # The access tokens of that login (its own and the refreshed one) end with it.
    assert_error(client.get("/api/auth/me", headers=bearer(tokens["accessToken"])), 401)
    assert_error(client.get("/api/auth/me", headers=bearer(minted)), 401)
    assert client.get("/api/auth/me", headers=bearer(other_session)).status_code == 200


def test_logout_with_the_access_token_revokes_its_refresh_token(client, make_user):
    """Before, a logout left the 30-day refresh token minting access tokens."""
    user = make_user()
    tokens = login(client, user.email).get_json()
    minted = client.post("/api/auth/refresh", headers=bearer(tokens["refreshToken"])).get_json()[
        "accessToken"
    ]
    assert client.post("/api/auth/logout", headers=bearer(minted)).status_code == 200
    assert_error(client.post("/api/auth/refresh", headers=bearer(tokens["refreshToken"])), 401)
    assert_error(client.get("/api/auth/me", headers=bearer(tokens["accessToken"])), 401)


def refresh_cookies(client) -> dict:
    return {
        name: client.get_cookie(name, path=path)
        for name, path in (
            ("refresh_token_cookie", "/api/auth/refresh"),
            ("csrf_refresh_token", "/"),
        )
    }


def test_a_cookie_login_keeps_the_refresh_token_out_of_the_body(client, make_user):
    user = make_user()
    response = client.post(
        "/api/auth/login",
        json={"email": user.email, "password": PASSWORD, "refreshCookie": True},
    )
    assert response.status_code == 200
    assert response.get_json()["refreshToken"] is None
    cookies = refresh_cookies(client)
    refresh_cookie = cookies["refresh_token_cookie"]
    assert refresh_cookie.http_only and refresh_cookie.same_site == "Strict"
    assert refresh_cookie.secure
    assert not cookies["csrf_refresh_token"].http_only

    csrf = {"X-CSRF-TOKEN": cookies["csrf_refresh_token"].value}
    refreshed = client.post("/api/auth/refresh", headers=csrf)
    assert refreshed.status_code == 200, refreshed.get_json()
    assert client.get("/api/auth/me", headers=bearer(refreshed.get_json()["accessToken"])).is_json
    # Without the double-submit value the cookie alone does nothing.
    assert_error(client.post("/api/auth/refresh"), 401)
    assert_error(client.post("/api/auth/refresh", headers={"X-CSRF-TOKEN": "forged"}), 401)


def test_logout_deletes_the_refresh_cookie_and_revokes_it(client, make_user):
    user = make_user()
    body = {"email": user.email, "password": PASSWORD, "refreshCookie": True}
    access = client.post("/api/auth/login", json=body).get_json()["accessToken"]
    cookies = refresh_cookies(client)
    assert client.post("/api/auth/logout", headers=bearer(access)).status_code == 200
    assert refresh_cookies(client) == {"refresh_token_cookie": None, "csrf_refresh_token": None}
    stolen = cookies["refresh_token_cookie"].value
    assert_error(client.post("/api/auth/refresh", headers=bearer(stolen)), 401)


def test_refresh_cookie_must_be_a_boolean(client, make_user):
    body = {"email": make_user().email, "password": PASSWORD, "refreshCookie": "yes"}
    assert_error(client.post("/api/auth/login", json=body), 400, "refreshCookie")


def test_revocation_survives_an_app_restart(tmp_path):
    """The revoked token is in the database, so a new process still refuses it."""
    config = {"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/inbox.db"}
    first = create_app(dict(config))
    with first.app_context():
        db.create_all()
        create_user("restart@example.com", PASSWORD)
        client = first.test_client()
        access = login(client, "restart@example.com").get_json()["accessToken"]
        assert client.post("/api/auth/logout", headers=bearer(access)).status_code == 200
        db.session.remove()
        db.engine.dispose()

    second = create_app(dict(config))
    with second.app_context():
        client = second.test_client()
        assert_error(client.get("/api/auth/me", headers=bearer(access)), 401)
        fresh = login(client, "restart@example.com").get_json()["accessToken"]
        assert client.get("/api/auth/me", headers=bearer(fresh)).status_code == 200
        db.session.remove()
        db.engine.dispose()


# Failed-login limits


def test_ten_failures_for_one_account_block_it_even_with_the_right_password(
    client, make_user, clock, fast_password_hashes
):
    user, bystander = make_user(), make_user()
    for n in range(10):
        assert_error(login(client, user.email, "wrong", address=f"10.0.0.{n}"), 401)

    error = assert_error(login(client, user.email), 429)
    assert error["code"] == "rate_limited"
    assert_error(login(client, user.email.upper()), 429)  # same account, other spelling
    assert login(client, bystander.email).status_code == 200

    clock.shift(59)
    assert_error(login(client, user.email), 429)
    clock.shift(1.5)
    assert login(client, user.email).status_code == 200


def test_fifty_failures_from_one_address_block_it(client, make_user, clock, fast_password_hashes):
    user = make_user()
    # At most nine failures per account, so only the address limit can trip.
    targets = [make_user() for _ in range(6)]
    for n in range(50):
        target = targets[n % len(targets)]
        assert_error(login(client, target.email, "wrong", address="10.1.1.1"), 401)

    assert_error(login(client, user.email, address="10.1.1.1"), 429)
    assert login(client, user.email, address="10.1.1.2").status_code == 200

    clock.shift(61)
    assert login(client, user.email, address="10.1.1.1").status_code == 200


def test_successful_logins_do_not_count(client, make_user, clock, fast_password_hashes):
    user = make_user()
    for _ in range(9):
        assert_error(login(client, user.email, "wrong"), 401)
    for _ in range(5):
        assert login(client, user.email).status_code == 200
    # The tenth failure is still judged on the password, the eleventh attempt is blocked.
    assert_error(login(client, user.email, "wrong"), 401)
    assert_error(login(client, user.email), 429)


def test_many_successful_logins_from_one_address_are_never_limited(
    client, make_user, fast_password_hashes
):
    user = make_user()
    for _ in range(55):
        assert login(client, user.email, address="10.2.2.2").status_code == 200


# `flask users ...`


def test_cli_create_prints_the_id_of_a_user_who_can_log_in(runner, client):
    result = runner.invoke(
        args=["users", "create", "Cli@Example.com", "--password", "cli-password-1"]
        + ["--role", "ADMIN", "--name", "Operator"]
    )
    assert result.exit_code == 0, result.output
    user_id = int(result.output.strip())
    body = login(client, "cli@example.com", "cli-password-1").get_json()
    assert body["user"] == {
        "id": user_id,
        "email": "cli@example.com",
        "name": "Operator",
        "role": "ADMIN",
    }


def test_cli_create_defaults_to_a_user_named_after_the_email(runner, client):
    result = runner.invoke(args=["users", "create", "ayse@example.com", "--password", "pw-123456"])
    assert result.exit_code == 0, result.output
    user = login(client, "ayse@example.com", "pw-123456").get_json()["user"]
    assert user["role"] == "USER" and user["name"] == "ayse"


@pytest.mark.parametrize(
    "args, complaint",
    [
        (["taken@example.com", "--password", "long-enough"], "already exists"),
        (["fresh@example.com", "--password", "short"], "password"),
        (["not-an-email", "--password", "long-enough"], "email"),
        (["fresh@example.com", "--password", "long-enough", "--role", "ROOT"], "ROOT"),
        (["fresh@example.com"], "--password"),
    ],
)
def test_cli_create_refuses_bad_input_and_adds_nobody(runner, args, complaint):
    create_user("taken@example.com", PASSWORD)
    result = runner.invoke(args=["users", "create", *args])
    assert result.exit_code != 0
    assert complaint in result.output
    assert db.session.query(User).count() == 1


def test_cli_deactivate_stops_existing_tokens_at_once(
    runner, client, make_user, token_for, handshake_refusal
):
    user = make_user()
    access = token_for(user)
    assert client.get("/api/auth/me", headers=bearer(access)).status_code == 200

    result = runner.invoke(args=["users", "deactivate", user.email])
    assert result.exit_code == 0, result.output

    assert_error(client.get("/api/auth/me", headers=bearer(access)), 401)
    assert_error(client.get("/api/conversations", headers=bearer(access)), 401)
    assert handshake_refusal(token=access) == "User not found"
    assert_error(login(client, user.email), 403)


def test_cli_activate_restores_access(runner, client, make_user):
    user = make_user(active=False)
    result = runner.invoke(args=["users", "activate", user.email])
    assert result.exit_code == 0, result.output
    assert login(client, user.email).status_code == 200


def test_cli_deactivate_of_an_unknown_email_fails(runner):
    result = runner.invoke(args=["users", "deactivate", "ghost@example.com"])
    assert result.exit_code != 0
    assert "ghost@example.com" in result.output


def test_deleted_user_tokens_stop_working(client, make_user, token_for, handshake_refusal):
    user = make_user()
    access = token_for(user)
    refresh = auth_service.issue_tokens(user)["refreshToken"]
    db.session.delete(user)
    db.session.commit()
    assert_error(client.get("/api/auth/me", headers=bearer(access)), 401)
    assert_error(client.post("/api/auth/refresh", headers=bearer(refresh)), 401)
    assert handshake_refusal(token=access) == "User not found"
