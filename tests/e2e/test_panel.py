"""The agent panel in a real browser: login, live messages, unread badges, text only, languages."""

import time

from playwright.sync_api import expect

from tests.e2e.conftest import (
    customer_phone,
    open_conversation,
    phone_of,
    wait_connected,
    webhook,
)


def test_agent_logs_in_to_the_panel_and_sees_the_connection(open_page):
    page = open_page("owner@example.com")
    assert page.url.endswith("/client")
    expect(page.locator("#current-user")).to_have_text("Owner Agent")
    expect(page.locator("#admin-link")).to_be_hidden()
    expect(page.locator("#connection-badge")).to_have_attribute("data-state", "connected")
    status = page.evaluate("window.socketClient.getStatus()")
    assert status["isConnected"] is True
    assert status["socketId"]
    assert status["reconnectAttempts"] == 0


def test_wrong_password_is_refused_on_the_login_page(browser, server):
    page = browser.new_page()
    try:
        page.goto(server.url + "/")
        page.wait_for_url("**/login")
        page.fill("#login-email", "owner@example.com")
        page.fill("#login-password", "wrong-password")
        page.click("#login-submit")
        expect(page.locator("#login-error")).to_have_text("Wrong email or password.")
        assert page.url.endswith("/login")
    finally:
        page.close()


def test_webhook_message_appears_in_the_open_conversation_within_a_second(server, open_page):
    phone = customer_phone()
    first = webhook(server, server.owner_id, phone, "Merhaba")
    page = open_page("owner@example.com")
    open_conversation(page, first["conversationId"])
    wait_connected(page)
    page.evaluate("window.sameDocument = true")

    started = time.monotonic()
    webhook(server, server.owner_id, phone, "Siparişim nerede?")
    expect(page.locator(".message-text", has_text="Siparişim nerede?")).to_be_visible(timeout=1000)
    assert time.monotonic() - started < 1.0
    assert page.evaluate("window.sameDocument") is True
    item = page.locator(f'.conversation-item[data-conversation-id="{first["conversationId"]}"]')
    expect(item.locator(".conversation-preview")).to_have_text("Siparişim nerede?")


def test_list_reorders_live_with_unread_badges_and_opening_marks_read(server, open_page):
    older = webhook(server, server.owner_id, customer_phone(), "older conversation")
    newer = webhook(server, server.owner_id, customer_phone(), "newer conversation")
    page = open_page("owner@example.com")
    wait_connected(page)
    first_item = page.locator(".conversation-item").first
    expect(first_item).to_have_attribute("data-conversation-id", str(newer["conversationId"]))

    webhook(server, server.owner_id, phone_of(server, older["conversationId"]), "older again")
    expect(first_item).to_have_attribute("data-conversation-id", str(older["conversationId"]))
    expect(first_item.locator(".unread-badge")).to_have_text("2")
    expect(first_item.locator(".conversation-preview")).to_have_text("older again")

    open_conversation(page, older["conversationId"])
    expect(first_item.locator(".unread-badge")).to_have_count(0)
    expect(page.locator('.message-inbound[data-read="false"]')).to_have_count(0)
    token = server.login("owner@example.com")["accessToken"]
    listed = server.get("/api/conversations", token).json()
    assert next(c for c in listed if c["id"] == older["conversationId"])["unreadCount"] == 0


def test_message_content_is_shown_as_text_and_runs_nothing(server, open_page):
    attack = "<img src=x onerror=alert(1)>"
    phone = customer_phone()
    first = webhook(server, server.owner_id, phone, "hello")
    page = open_page("owner@example.com")
    open_conversation(page, first["conversationId"])
    wait_connected(page)

    webhook(server, server.owner_id, phone, attack, customer_name="<b onmouseover=alert(2)>Eve</b>")
    expect(page.locator(".message-text", has_text=attack)).to_be_visible()
    item = page.locator(f'.conversation-item[data-conversation-id="{first["conversationId"]}"]')
    expect(item.locator(".conversation-preview")).to_have_text(attack)
    assert (
        page.locator("#message-list img, #conversation-list img, #conversation-list b").count() == 0
    )
    page.reload()
    expect(page.locator(".message-text", has_text=attack)).to_be_visible()
    assert page.locator("img").count() == 0
    assert page.dialogs == []


def test_turkish_browser_gets_turkish_text_and_can_switch(server, open_page):
    page = open_page("owner@example.com", locale="tr-TR")
    expect(page.locator("#conversation-placeholder")).to_have_text("Bir konuşma seçin.")
    expect(page.locator("#connection-badge")).to_have_text("Bağlı")
    assert page.evaluate("document.documentElement.lang") == "tr"

    page.select_option("#lang-select", "en")
    expect(page.locator("#conversation-placeholder")).to_have_text("Select a conversation.")
    expect(page.locator("#connection-badge")).to_have_text("Connected")
    page.reload()
    expect(page.locator("#conversation-placeholder")).to_have_text("Select a conversation.")


def test_resync_required_reloads_the_conversation_and_the_list_through_rest(server, open_page):
    phone = customer_phone()
    first = webhook(server, server.owner_id, phone, "seen live")
    page = open_page("owner@example.com")
    open_conversation(page, first["conversationId"])
    wait_connected(page)
    page.evaluate("window.socketClient.disconnect()")
    webhook(server, server.owner_id, phone, "missed while away")
    expect(page.locator(".message-text", has_text="missed while away")).to_have_count(0)

    # What the page does when the server answers a resume with resync_required.
    page.evaluate("window.socketClient.trigger('resync_required', {})")
    expect(page.locator(".message-text", has_text="missed while away")).to_have_count(1)
    item = page.locator(f'.conversation-item[data-conversation-id="{first["conversationId"]}"]')
    expect(item.locator(".conversation-preview")).to_have_text("missed while away")
    # Without a socket, opening marks read through PATCH /api/messages/<id>/read.
    expect(page.locator('.message-inbound[data-read="false"]')).to_have_count(0)
    expect(item.locator(".unread-badge")).to_have_count(0)
