"""POST /api/webhooks/n8n/message: storing, idempotency, refusals, and the database down."""

import sqlite3
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app import create_app
from app.extensions import db, socketio
from app.models import Conversation, Event, Message
from app.services import auth as auth_service
from app.services.users import create_user
from tests.conftest import NEW_MESSAGE_KEYS, PASSWORD, WEBHOOK_SECRET, received, webhook_body

pytestmark = pytest.mark.usefixtures("fast_password_hashes")

URL = "/api/webhooks/n8n/message"
PAYLOAD_KEYS = NEW_MESSAGE_KEYS | {"eventId"}


def stored() -> tuple[int, int, int]:
    """How many messages, conversations and events the database holds."""
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Message, Conversation, Event)
    )


def assert_error(response, status, field=None):
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    if field:
        assert error["field"] == field
        assert field in error["message"]
    return error


def assert_only_marker_arrives(post_webhook, owner, sockets):
    """Nothing reached these sockets before a valid marker message, which each gets once."""
    response = post_webhook(
        **webhook_body(owner, message_content="marker", customer_phone="+10000000000")
    )
    assert response.status_code == 201
    for socket in sockets:
        events = received(socket)
        assert list(events) == ["new_message"]
        assert [m["messageContent"] for m in events["new_message"]] == ["marker"]


@pytest.fixture
def owner(make_user):
    return make_user()


@pytest.fixture
def watchers(owner, make_user, socket_for):
    """Connected sockets of the owner, another user and an admin."""
    return {
        "owner": socket_for(owner),
        "other": socket_for(make_user()),
        "admin": socket_for(make_user(role="ADMIN")),
    }


# Success


def test_201_stores_the_message_and_emits_new_message(post_webhook, owner, watchers):
    response = post_webhook(**webhook_body(owner, message_id="wamid.A1"))
    assert response.status_code == 201
    body = response.get_json()
    assert body["success"] is True and set(body) == {"success", "data"}
    assert set(body["data"]) == {"id", "conversationId"}
    assert stored() == (1, 1, 1)

    for name in ("owner", "admin"):
        (payload,) = received(watchers[name])["new_message"]
        assert set(payload) == PAYLOAD_KEYS
        assert payload["id"] == body["data"]["id"]
        assert payload["conversationId"] == body["data"]["conversationId"]
        assert payload["userId"] == owner.id
        assert payload["customerName"] == "Ahmet Yılmaz"
        assert payload["customerPhone"] == "+905551234567"
        assert payload["messageContent"] == "Merhaba, sipariş durumu nedir?"
        assert payload["isRead"] is False
    assert received(watchers["other"]) == {}


def test_the_stored_message_is_what_rest_returns(client, post_webhook, owner, headers_for):
    data = post_webhook(**webhook_body(owner)).get_json()["data"]
    page = client.get(
        f"/api/conversations/{data['conversationId']}/messages", headers=headers_for(owner)
    ).get_json()
    assert [m["id"] for m in page] == [data["id"]]
    assert page[0]["messageContent"] == "Merhaba, sipariş durumu nedir?"


def test_message_type_and_direction_defaults(post_webhook, owner, watchers):
    post_webhook(**webhook_body(owner))
    (payload,) = received(watchers["owner"])["new_message"]
    assert payload["messageType"] == "text"
    assert payload["direction"] == "INBOUND"


def test_message_type_and_direction_given(post_webhook, owner, watchers):
    post_webhook(**webhook_body(owner, message_type="image", direction="OUTBOUND"))
    (payload,) = received(watchers["owner"])["new_message"]
    assert payload["messageType"] == "image"
    assert payload["direction"] == "OUTBOUND"


def test_same_phone_same_user_is_one_conversation(post_webhook, owner, make_user):
    first = post_webhook(**webhook_body(owner, message_content="one")).get_json()["data"]
    second = post_webhook(**webhook_body(owner, message_content="two")).get_json()["data"]
    third = post_webhook(**webhook_body(make_user())).get_json()["data"]
    assert first["conversationId"] == second["conversationId"]
    assert third["conversationId"] != first["conversationId"]
    assert first["id"] != second["id"]


def test_without_message_id_every_post_is_a_new_message(post_webhook, owner):
    assert post_webhook(**webhook_body(owner)).status_code == 201
    assert post_webhook(**webhook_body(owner)).status_code == 201
    assert stored()[0] == 2


# Timestamps


@pytest.mark.parametrize(
    "given, expected",
    [
        ("2024-05-01T10:20:30Z", "2024-05-01T10:20:30.000Z"),
        ("2024-05-01T10:20:30.123456Z", "2024-05-01T10:20:30.123Z"),
        ("2024-05-01T13:20:30+03:00", "2024-05-01T10:20:30.000Z"),
        ("2024-05-01T10:20:30", "2024-05-01T10:20:30.000Z"),
        (1714558830, "2024-05-01T10:20:30.000Z"),
        (1714558830.5, "2024-05-01T10:20:30.500Z"),
        ("1714558830", "2024-05-01T10:20:30.000Z"),
        (1714558830123, "2024-05-01T10:20:30.123Z"),
    ],
)
def test_timestamp_iso_or_epoch_becomes_utc_with_z(post_webhook, owner, watchers, given, expected):
    assert post_webhook(**webhook_body(owner, timestamp=given)).status_code == 201
    (payload,) = received(watchers["owner"])["new_message"]
    assert payload["timestamp"] == expected


def test_timestamp_defaults_to_now(post_webhook, owner, watchers):
    before = datetime.now(UTC)
    post_webhook(**webhook_body(owner))
    after = datetime.now(UTC)
    (payload,) = received(watchers["owner"])["new_message"]
    assert payload["timestamp"].endswith("Z")
    moment = datetime.fromisoformat(payload["timestamp"].replace("Z", "+00:00"))
    assert before.replace(microsecond=0) <= moment <= after


# Idempotency


def test_repeated_message_id_is_200_duplicate_and_nothing_twice(post_webhook, owner, watchers):
    body = webhook_body(owner, message_id="wamid.DUP")
    first = post_webhook(**body).get_json()
    for name in watchers:
        received(watchers[name])

    again = post_webhook(**{**body, "message_content": "changed"})
    assert again.status_code == 200
    assert again.get_json() == {"success": True, "duplicate": True, "data": first["data"]}
    assert stored() == (1, 1, 1)
    assert_only_marker_arrives(post_webhook, owner, [watchers["owner"], watchers["admin"]])


# Refusals: nothing stored, nothing emitted

BAD_FIELDS = [
    ("user_id", None),
    ("user_id", "abc"),
    ("user_id", 0),
    ("user_id", -3),
    ("user_id", True),
    ("user_id", 1.5),
    ("user_id", 2**31),
    ("user_id", [1]),
    ("customer_name", None),
    ("customer_name", ""),
    ("customer_name", "   "),
    ("customer_name", 42),
    ("customer_name", "n" * 256),
    ("customer_phone", None),
    ("customer_phone", ""),
    ("customer_phone", 905551234567),
    ("customer_phone", "9" * 65),
    ("message_content", None),
    ("message_content", ""),
    ("message_content", {"text": "hi"}),
    ("message_content", "x" * 60_001),
    ("message_type", 7),
    ("message_type", ""),
    ("message_type", "two words"),
    ("message_type", "t" * 33),
    ("direction", "SIDEWAYS"),
    ("direction", 1),
    ("direction", ""),
    ("timestamp", "yesterday"),
    ("timestamp", ""),
    ("timestamp", True),
    ("timestamp", {}),
    ("timestamp", 10**30),
    ("timestamp", "2024-13-45T99:00:00Z"),
    ("message_id", ""),
    ("message_id", 12345),
    ("message_id", "w" * 256),
]


@pytest.mark.parametrize("field, value", BAD_FIELDS)
def test_bad_field_is_400_naming_it_and_nothing_is_stored(
    post_webhook, owner, watchers, field, value
):
    body = webhook_body(owner, message_id="wamid.BAD")
    if value is None:
        del body[field]
    else:
        body[field] = value
    assert_error(post_webhook(**body), 400, field)
    assert stored() == (0, 0, 0)
    assert_only_marker_arrives(post_webhook, owner, [watchers["owner"], watchers["admin"]])


@pytest.mark.parametrize("raw", ["[1, 2]", '"text"', "{not json", "", "null"])
def test_body_that_is_not_a_json_object_is_400(client, raw):
    response = client.post(
        URL,
        data=raw,
        content_type="application/json",
        headers={"X-Webhook-Secret": WEBHOOK_SECRET},
    )
    assert_error(response, 400, "body")
    assert stored() == (0, 0, 0)


@pytest.mark.parametrize(
    "field", ["customer_name", "customer_phone", "message_content", "message_id"]
)
def test_a_lone_surrogate_is_refused_and_nothing_is_stored(post_webhook, owner, field):
    """A "\\ud800" escape parses in Python but no database can encode it: a 400, not a 500."""
    assert_error(post_webhook(**webhook_body(owner, **{field: "a\ud800b"})), 400)
    assert stored() == (0, 0, 0)


def test_an_emoji_written_as_a_surrogate_pair_is_stored(client, owner, watchers):
    raw = (
        f'{{"user_id": {owner.id}, "customer_name": "Ay\\u015fe", "customer_phone": "+1",'
        ' "message_content": "\\ud83d\\ude00"}'
    )
    response = client.post(
        URL, data=raw, content_type="application/json", headers={"X-Webhook-Secret": WEBHOOK_SECRET}
    )
    assert response.status_code == 201
    (payload,) = received(watchers["owner"])["new_message"]
    assert (payload["messageContent"], payload["customerName"]) == ("\U0001f600", "Ayşe")


def test_json_nested_past_the_recursion_limit_is_400(client):
    response = client.post(
        URL,
        data="[" * 30_000 + "]" * 30_000,
        content_type="application/json",
        headers={"X-Webhook-Secret": WEBHOOK_SECRET},
    )
    assert_error(response, 400, "body")


def test_user_id_as_a_numeric_string_is_accepted(post_webhook, owner):
    assert post_webhook(**webhook_body(owner, user_id=str(owner.id))).status_code == 201


def test_unknown_user_is_404_and_nothing_is_stored(post_webhook, owner, watchers):
    error = assert_error(post_webhook(**webhook_body(owner, user_id=owner.id + 1000)), 404)
    assert "user_id" in error["message"]
    assert stored() == (0, 0, 0)
    assert_only_marker_arrives(post_webhook, owner, [watchers["owner"], watchers["admin"]])


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Webhook-Secret": ""},
        {"X-Webhook-Secret": "wrong"},
        {"X-Webhook-Secret": WEBHOOK_SECRET[:-1]},
        {"X-Webhook-Secret": WEBHOOK_SECRET + "x"},
        {"X-Webhook-Secret": WEBHOOK_SECRET.upper()},
        {"X-Webhook-Secret": WEBHOOK_SECRET[:-1] + "é"},
        {"Authorization": f"Bearer {WEBHOOK_SECRET}"},
    ],
)
def test_missing_or_wrong_secret_is_401_and_nothing_is_stored(
    client, owner, watchers, post_webhook, headers
):
    response = client.post(URL, json=webhook_body(owner), headers=headers)
    assert_error(response, 401)
    assert stored() == (0, 0, 0)
    assert_only_marker_arrives(post_webhook, owner, [watchers["owner"], watchers["admin"]])


def test_secret_is_checked_before_the_body(client):
    response = client.post(URL, data="{not json", headers={"X-Webhook-Secret": "wrong"})
    assert_error(response, 401)


def test_no_secret_configured_refuses_everything(app, client, owner):
    app.config["N8N_WEBHOOK_SECRET"] = ""
    for secret in ("", WEBHOOK_SECRET):
        response = client.post(URL, json=webhook_body(owner), headers={"X-Webhook-Secret": secret})
        assert_error(response, 401)
    assert stored() == (0, 0, 0)


def test_body_over_64_kib_is_413_and_nothing_is_stored(post_webhook, owner, watchers):
    response = post_webhook(**webhook_body(owner, message_content="ş" * 40_000))
    error = assert_error(response, 413)
    assert error["code"] == "payload_too_large"
    assert stored() == (0, 0, 0)
    assert_only_marker_arrives(post_webhook, owner, [watchers["owner"], watchers["admin"]])


def test_body_just_under_64_kib_is_accepted(post_webhook, owner):
    response = post_webhook(**webhook_body(owner, message_content="x" * 60_000))
    assert response.status_code == 201


def test_wrong_method_is_a_json_405(client):
    error = assert_error(client.get(URL), 405)
    assert error["code"] == "method_not_allowed"


# The database down


def test_database_locked_is_503_with_nothing_half_written(file_app):
    app, path = file_app
    user = create_user("locked@example.com", PASSWORD)
    token = auth_service.issue_tokens(user)["accessToken"]
    owner_socket = socketio.test_client(app, auth={"token": token})
    client = app.test_client()
    body = webhook_body(user, message_id="wamid.LOCKED")
    headers = {"X-Webhook-Secret": WEBHOOK_SECRET}

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        response = client.post(URL, json=body, headers=headers)
        error = assert_error(response, 503)
        assert error["code"] == "service_unavailable"
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert stored() == (0, 0, 0)
    assert received(owner_socket) == {}
    # n8n's retry then goes through, once.
    retry = client.post(URL, json=body, headers=headers)
    assert retry.status_code == 201
    assert len(received(owner_socket)["new_message"]) == 1
    assert stored() == (1, 1, 1)
    owner_socket.disconnect()


def test_database_unreachable_is_503(tmp_path):
    app = create_app(
        {"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/x.db"}
    )
    with app.app_context():
        response = app.test_client().post(
            URL,
            json=webhook_body(SimpleNamespace(id=1)),
            headers={"X-Webhook-Secret": WEBHOOK_SECRET},
        )
        assert_error(response, 503)
        db.session.remove()
        db.engine.dispose()
