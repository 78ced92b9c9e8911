"""GET /api/realtime/ice-servers: TURN_URLS with coturn use-auth-secret credentials."""

import base64
import hashlib
import hmac
import time

import pytest

from app.services.ice_servers import turn_credential

pytestmark = pytest.mark.usefixtures("fast_password_hashes")

URLS = (
    "stun:turn.example.com:3478, turn:turn.example.com:3478?transport=udp,"
    "turns:turn.example.com:5349"
)


def test_turn_credentials_are_coturns_rest_api_scheme(app, client, make_user, headers_for):
    app.config.update(TURN_URLS=URLS, TURN_SECRET="north-wind", TURN_TTL_SECONDS=600)
    user = make_user()
    before = int(time.time())
    response = client.get("/api/realtime/ice-servers", headers=headers_for(user))
    assert response.status_code == 200
    body = response.get_json()
    assert body["ttl"] == 600
    stun, turn = body["iceServers"]
    assert stun == {"urls": ["stun:turn.example.com:3478"]}
    assert turn["urls"] == [
        "turn:turn.example.com:3478?transport=udp",
        "turns:turn.example.com:5349",
    ]
    expiry, user_id = turn["username"].split(":")
    assert user_id == str(user.id)
    assert before + 600 <= int(expiry) <= int(time.time()) + 600
    mac = hmac.new(b"north-wind", turn["username"].encode(), hashlib.sha1).digest()
    assert turn["credential"] == base64.b64encode(mac).decode()


def test_known_credential():
    # username and password as coturn's turnutils / the TURN REST API draft compute them
    username, password = turn_credential("secret", 42, 3600, now=1_700_000_000)
    assert username == "1700003600:42"
    expected = hmac.new(b"secret", b"1700003600:42", hashlib.sha1).digest()
    assert base64.b64decode(password) == expected and len(expected) == 20


def test_without_turn_urls_the_list_is_empty(client, make_user, headers_for):
    response = client.get("/api/realtime/ice-servers", headers=headers_for(make_user()))
    assert response.get_json() == {"iceServers": [], "ttl": 86400}


def test_needs_an_access_token(client):
    response = client.get("/api/realtime/ice-servers")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"]
