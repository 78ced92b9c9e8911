"""The server restarts under an open page: it reconnects and misses nothing, shows nothing twice."""

from playwright.sync_api import expect

from tests.e2e.conftest import (
    customer_phone,
    messages_reading,
    open_conversation,
    wait_connected,
    webhook,
)


def test_messages_posted_across_a_restart_appear_once_each_without_a_reload(server, open_page):
    phone = customer_phone()
    conversation = webhook(server, server.owner_id, phone, "before the restart")["conversationId"]
    page = open_page("owner@example.com")
    open_conversation(page, conversation)
    wait_connected(page)
    page.evaluate("window.sameDocument = true")
    webhook(server, server.owner_id, phone, "live before the restart")
    expect(page.locator(".message-text", has_text="live before the restart")).to_be_visible()

    server.stop()
    badge = page.locator("#connection-badge")
    expect(badge).to_have_attribute("data-state", "reconnecting")
    page.wait_for_function("() => window.socketClient.getStatus().reconnectAttempts >= 1")
    server.start()
    missed = [f"posted during the restart {n}" for n in range(1, 4)]
    for text in missed:
        webhook(server, server.owner_id, phone, text)

    expect(badge).to_have_attribute("data-state", "connected", timeout=20000)
    webhook(server, server.owner_id, phone, "after the reconnect")
    expect(page.locator(".message-text", has_text="after the reconnect")).to_be_visible()
    for text in ["before the restart", "live before the restart", *missed]:
        expect(messages_reading(page, text)).to_have_count(1)
    expect(page.locator(".message-text")).to_have_count(6)
    assert page.evaluate("window.sameDocument") is True


def test_other_conversations_missed_during_a_restart_update_the_list(server, open_page):
    page = open_page("owner@example.com")
    wait_connected(page)
    server.restart()
    created = webhook(server, server.owner_id, customer_phone(), "new customer while down")
    item = page.locator(".conversation-item").first
    expect(item).to_have_attribute(
        "data-conversation-id", str(created["conversationId"]), timeout=20000
    )
    expect(item.locator(".unread-badge")).to_have_text("1")
