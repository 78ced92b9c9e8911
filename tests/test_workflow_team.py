"""Internal notes, canned responses, user management and reports."""

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Conversation, Message, OutboundDelivery
from app.outbound import sender
from app.realtime import token_sweep
from app.state import state
from app.timeutil import utcnow
from tests.conftest import NEW_MESSAGE_KEYS, PASSWORD, received, webhook_body
from tests.n8n_server import N8nServer


@pytest.fixture
def conversation_id(people, post_webhook):
    response = post_webhook(**webhook_body(people["owner"], message_id="wamid.T-1"))
    return response.get_json()["data"]["conversationId"]


@pytest.fixture
def api(client, headers_for, people):
    """api(method, path, as_="owner", **json) -> the response."""

    def call(method, path, as_="owner", **body):
        return client.open(path, method=method, json=body or None, headers=headers_for(people[as_]))

    return call


# Internal notes


def test_note_is_stored_emitted_and_never_handed_to_n8n(
    app, api, conversation_id, people, socket_for
):
    sockets = {name: socket_for(people[name]) for name in ("owner", "admin", "other")}
    for test_client in sockets.values():
        received(test_client)
    with N8nServer() as n8n:
        app.config.update(N8N_OUTBOUND_URL=n8n.url)
        response = api("POST", f"/api/conversations/{conversation_id}/notes", content="İade et")
        assert response.status_code == 201
        note = response.get_json()
        assert note["messageType"] == "note" and note["status"] is None
        assert sender.send_due() == 0  # nothing queued for n8n
        assert n8n.requests == []
    assert db.session.scalar(select(func.count()).select_from(OutboundDelivery)) == 0
    for name in ("owner", "admin"):
        emitted = received(sockets[name])["new_message"]
        assert [m["messageType"] for m in emitted] == ["note"]
        assert NEW_MESSAGE_KEYS <= set(emitted[0])
    assert "new_message" not in received(sockets["other"])
    thread = api("GET", f"/api/conversations/{conversation_id}/messages").get_json()
    assert [m["messageType"] for m in thread] == ["text", "note"]


def test_note_cannot_be_retried_into_a_send(api, conversation_id):
    note = api("POST", f"/api/conversations/{conversation_id}/notes", content="Not").get_json()
    assert api("POST", f"/api/messages/{note['id']}/retry").status_code == 409


def test_note_refusals(api, conversation_id):
    path = f"/api/conversations/{conversation_id}/notes"
    assert api("POST", path, as_="other", content="x").status_code == 403
    assert api("POST", path, content="  ").get_json()["error"]["field"] == "content"
    assert api("POST", "/api/conversations/99999/notes", content="x").status_code == 404


def test_note_does_not_reopen_a_resolved_conversation(api, conversation_id):
    api("PATCH", f"/api/conversations/{conversation_id}", status="resolved")
    api("POST", f"/api/conversations/{conversation_id}/notes", content="Kapatıldı")
    assert db.session.scalar(select(Conversation.status)) == "resolved"


# Canned responses


def test_personal_and_shared_canned_responses(api):
    mine = api("POST", "/api/canned-responses", shortcut="selam", content="Merhaba!")
    assert mine.status_code == 201
    assert mine.get_json()["shared"] is False
    shared = api(
        "POST",
        "/api/canned-responses",
        as_="admin",
        shortcut="kargo",
        content="Yolda.",
        shared=True,
    )
    assert shared.status_code == 201 and shared.get_json()["ownerId"] is None
    listed = api("GET", "/api/canned-responses").get_json()
    assert [(c["shortcut"], c["shared"]) for c in listed] == [("kargo", True), ("selam", False)]
    others = api("GET", "/api/canned-responses", as_="other").get_json()
    assert [c["shortcut"] for c in others] == ["kargo"]


def test_canned_response_rules(api):
    assert (
        api("POST", "/api/canned-responses", shortcut="x", content="y", shared=True).status_code
        == 403
    )
    assert api("POST", "/api/canned-responses", shortcut="a b", content="y").status_code == 400
    assert api("POST", "/api/canned-responses", shortcut="dup", content="1").status_code == 201
    taken = api("POST", "/api/canned-responses", shortcut="dup", content="2")
    assert taken.status_code == 409 and taken.get_json()["error"]["field"] == "shortcut"
    # Another agent may have their own /dup.
    assert (
        api("POST", "/api/canned-responses", as_="other", shortcut="dup", content="3").status_code
        == 201
    )


def test_deleting_canned_responses(api):
    mine = api("POST", "/api/canned-responses", shortcut="sil", content="x").get_json()
    shared = api(
        "POST", "/api/canned-responses", as_="admin", shortcut="ortak", content="y", shared=True
    ).get_json()
    assert api("DELETE", f"/api/canned-responses/{mine['id']}", as_="other").status_code == 404
    assert api("DELETE", f"/api/canned-responses/{shared['id']}").status_code == 403
    assert api("DELETE", f"/api/canned-responses/{mine['id']}").status_code == 200
    assert api("DELETE", f"/api/canned-responses/{shared['id']}", as_="admin").status_code == 200
    assert api("GET", "/api/canned-responses").get_json() == []


# Users


def test_admin_lists_every_user_agents_see_admins_names_only(api, people):
    everyone = api("GET", "/api/users", as_="admin").get_json()
    assert {u["id"] for u in everyone} == {u.id for u in people.values()}
    assert set(everyone[0]) == {"id", "email", "name", "role", "isActive", "createdAt"}
    colleagues = api("GET", "/api/users").get_json()
    assert colleagues == [{"id": people["admin"].id, "name": people["admin"].name}]


def test_admin_creates_a_user_who_can_log_in(api, client):
    created = api(
        "POST",
        "/api/users",
        as_="admin",
        email="Yeni@Example.com",
        password=PASSWORD,
        name="Yeni Kişi",
        role="USER",
    )
    assert created.status_code == 201
    assert created.get_json()["email"] == "yeni@example.com"
    login = client.post("/api/auth/login", json={"email": "yeni@example.com", "password": PASSWORD})
    assert login.get_json()["user"]["name"] == "Yeni Kişi"
    again = api(
        "POST", "/api/users", as_="admin", email="yeni@example.com", password=PASSWORD, name="x"
    )
    assert again.status_code == 409


def test_agents_may_not_manage_users(api, people):
    assert api("POST", "/api/users", email="a@b.c", password=PASSWORD, name="x").status_code == 403
    assert api("PATCH", f"/api/users/{people['other'].id}", name="x").status_code == 403


def test_rename_and_change_role(api, people):
    target = people["other"].id
    changed = api("PATCH", f"/api/users/{target}", as_="admin", name="Zeynep", role="ADMIN")
    assert changed.status_code == 200
    assert (changed.get_json()["name"], changed.get_json()["role"]) == ("Zeynep", "ADMIN")
    assert api("PATCH", "/api/users/99999", as_="admin", name="x").status_code == 404
    assert api("PATCH", f"/api/users/{target}", as_="admin", role="ROOT").status_code == 400


def test_admin_cannot_lock_themself_out(api, people):
    me = people["admin"].id
    assert api("PATCH", f"/api/users/{me}", as_="admin", isActive=False).status_code == 409
    assert api("PATCH", f"/api/users/{me}", as_="admin", role="USER").status_code == 409


def test_deactivating_cuts_sockets_and_tokens_reactivating_restores(
    app, api, people, socket_for, headers_for, client
):
    target = people["other"]
    socket = socket_for(target)
    old_headers = headers_for(target)
    assert api("PATCH", f"/api/users/{target.id}", as_="admin", isActive=False).status_code == 200
    assert client.get("/api/auth/me", headers=old_headers).status_code == 401
    assert token_sweep.sweep(app, state()) == 1  # what the housekeeping loop runs each second
    assert not socket.is_connected()
    refused = client.post("/api/auth/login", json={"email": target.email, "password": PASSWORD})
    assert refused.status_code == 403
    assert api("PATCH", f"/api/users/{target.id}", as_="admin", isActive=True).status_code == 200
    login = client.post("/api/auth/login", json={"email": target.email, "password": PASSWORD})
    assert login.status_code == 200


def test_presence_agents_see_admins_only(api, people, socket_for):
    socket_for(people["admin"])
    socket_for(people["other"])
    assert set(api("GET", "/api/users/presence").get_json()["onlineUserIds"]) == {
        people["admin"].id
    }
    assert set(api("GET", "/api/users/presence", as_="admin").get_json()["onlineUserIds"]) == {
        people["admin"].id,
        people["other"].id,
    }


# Reports


def test_report_counts_and_times(api, client, people, post_webhook, headers_for):
    owner = people["owner"]
    first = post_webhook(**webhook_body(owner, message_id="wamid.R-1")).get_json()["data"]
    post_webhook(**webhook_body(owner, customer_phone="+905550000002", message_id="wamid.R-2"))
    conversation = first["conversationId"]
    api("POST", f"/api/conversations/{conversation}/notes", content="not: yanıt sayılmaz")
    api("POST", f"/api/conversations/{conversation}/messages", content="Yanıt")
    api("PATCH", f"/api/conversations/{conversation}", status="resolved")
    today = utcnow().date()
    response = api(
        "GET", f"/api/reports?since={today - dt.timedelta(days=2)}&until={today}", as_="admin"
    )
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    totals = report["totals"]
    assert (totals["opened"], totals["resolved"], totals["responded"]) == (2, 1, 1)
    assert totals["avgFirstResponseSeconds"] >= 0
    assert totals["avgResolutionSeconds"] >= 0
    assert [d["date"] for d in report["byDay"]] == [
        str(today - dt.timedelta(days=n)) for n in (2, 1, 0)
    ]
    assert report["byDay"][-1]["opened"] == 2
    assert [(a["userId"], a["opened"], a["resolved"]) for a in report["byAgent"]] == [
        (owner.id, 2, 1)
    ]


@pytest.mark.parametrize(
    "query",
    [
        "since=2026-12-10&until=2026-12-01",
        "since=2020-01-01&until=2026-01-01",
        "until=0",
        "since=2026-02-30",
    ],
)
def test_report_bad_ranges(api, query):
    response = api("GET", f"/api/reports?{query}", as_="admin")
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] in ("since", "until")


def test_reports_are_for_admins(api):
    assert api("GET", "/api/reports").status_code == 403


# Starting a conversation with a new number: a reply under the same window rule

ORDER_UPDATE = {
    "name": "order_update",
    "language": "tr",
    "text": "Siparişiniz {{1}} kargoya verildi.",
}
ORDER_TEMPLATE = {
    "name": "order_update",
    "language": "tr",
    "components": [{"type": "body", "parameters": [{"type": "text", "text": "TR-7"}]}],
}


def stored_counts() -> tuple[int, int, int]:
    """(conversations, messages, queued deliveries)."""
    return tuple(
        db.session.scalar(select(func.count()).select_from(table))
        for table in (Conversation, Message, OutboundDelivery)
    )


def test_start_conversation_with_a_template_queues_the_first_message(app, api, people, socket_for):
    app.config["WHATSAPP_TEMPLATES"] = json.dumps([ORDER_UPDATE])
    watcher = socket_for(people["owner"])
    received(watcher)
    body = {"customerPhone": "905550001122", "customerName": "Yeni", "template": ORDER_TEMPLATE}
    response = api("POST", "/api/conversations", **body, clientMessageId="first-1")
    assert response.status_code == 201, response.get_json()
    message = response.get_json()
    assert (message["direction"], message["status"]) == ("OUTBOUND", "pending")
    assert message["messageType"] == "template"
    assert message["messageContent"] == "Siparişiniz TR-7 kargoya verildi."
    stored = db.session.scalar(select(Message).where(Message.id == message["id"]))
    assert json.loads(stored.template) == {
        "name": "order_update",
        "language": {"code": "tr"},
        "components": ORDER_TEMPLATE["components"],
    }
    assert stored_counts() == (1, 1, 1)
    listed = api("GET", "/api/conversations").get_json()
    assert [(c["customerPhone"], c["customerName"]) for c in listed] == [("+905550001122", "Yeni")]
    assert listed[0]["windowExpiresAt"] is None  # the customer has not written
    assert received(watcher)["new_message"][0]["id"] == message["id"]
    again = api("POST", "/api/conversations", **body, clientMessageId="first-1")
    assert again.status_code == 200 and again.get_json()["id"] == message["id"]
    assert stored_counts() == (1, 1, 1)


def test_free_form_to_a_number_that_never_wrote_is_409_window_closed(api):
    body = {"customerPhone": "+905550001122", "content": "Merhaba", "clientMessageId": "f-1"}
    response = api("POST", "/api/conversations", **body)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "window_closed"
    assert stored_counts() == (0, 0, 0)  # not even the conversation


def test_a_number_that_wrote_gets_free_form_inside_its_window_only(api, people, post_webhook):
    def wrote(phone: str, hours_ago: int) -> None:
        when = utcnow() - dt.timedelta(hours=hours_ago)
        stamp = when.isoformat(timespec="seconds") + "Z"
        post_webhook(**webhook_body(people["owner"], customer_phone=phone, timestamp=stamp))

    wrote("+905551234567", hours_ago=1)
    wrote("+905557654321", hours_ago=25)
    # The same number spelled without the +: the existing conversation, its open window.
    inside = api("POST", "/api/conversations", customerPhone="905551234567", content="Buyrun")
    assert inside.status_code == 201, inside.get_json()
    assert stored_counts() == (2, 3, 1)
    late = api("POST", "/api/conversations", customerPhone="+905557654321", content="Geç")
    assert late.status_code == 409
    assert late.get_json()["error"]["code"] == "window_closed"
    assert stored_counts() == (2, 3, 1)


def test_free_form_to_a_new_number_when_the_window_is_left_to_another_channel(app, api):
    app.config["REPLY_WINDOW_ENFORCED"] = False
    response = api("POST", "/api/conversations", customerPhone="+905550001122", content="SMS")
    assert response.status_code == 201
    assert stored_counts() == (1, 1, 1)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"customerPhone": "abc", "template": ORDER_TEMPLATE}, "customerPhone"),
        ({"customerPhone": "+905550001122", "content": " "}, "content"),
        ({"customerPhone": "+905550001122"}, "content"),
        ({"customerPhone": "+905550001122", "content": "x", "template": ORDER_TEMPLATE}, "content"),
        ({"customerPhone": "+905550001122", "template": {"name": "order_update"}}, "template"),
        ({"template": ORDER_TEMPLATE}, "customerPhone"),
    ],
)
def test_start_conversation_refusals(api, body, field):
    response = api("POST", "/api/conversations", **body)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"].split(".")[0] == field
    assert api("GET", "/api/conversations").get_json() == []
    assert stored_counts() == (0, 0, 0)
