"""Replies from the panel: ✓ sent, ✓✓ delivered, blue ✓✓ read, and failed with a retry."""

from playwright.sync_api import expect

from tests.e2e.conftest import (
    customer_phone,
    open_conversation,
    report_status,
    send,
    wait_connected,
    webhook,
)

FAILS = "this reply will fail"


def test_a_reply_goes_out_and_its_ticks_follow_the_delivery_status(server, open_page):
    conversation = webhook(server, server.owner_id, customer_phone(), "Kargom nerede?")
    agent = open_page("owner@example.com")
    admin = open_page("admin@example.com", path="/client")
    for page in (agent, admin):
        open_conversation(page, conversation["conversationId"])
        wait_connected(page)

    bubble = send(agent, "Bugün kargoya verildi.")
    expect(bubble).to_have_count(1)
    expect(agent.locator("#reply-input")).to_have_value("")
    expect(bubble).to_have_attribute("data-status", "sent")
    expect(bubble.locator(".status-mark")).to_have_text("✓")
    message_id = bubble.get_attribute("data-message-id")
    seen_by_admin = admin.locator(f'.message-outbound[data-message-id="{message_id}"]')
    expect(seen_by_admin).to_have_attribute("data-status", "sent")

    report_status(server, message_id, "delivered")
    for page_bubble in (bubble, seen_by_admin):
        expect(page_bubble).to_have_attribute("data-status", "delivered")
        expect(page_bubble.locator(".status-mark")).to_have_text("✓✓")

    report_status(server, message_id, "read")
    report_status(server, message_id, "delivered")  # late: ignored
    for page_bubble in (bubble, seen_by_admin):
        expect(page_bubble).to_have_attribute("data-status", "read")
        mark = page_bubble.locator(".status-mark")
        expect(mark).to_have_class("status-mark status-read")
        assert mark.evaluate("el => getComputedStyle(el).color") == "rgb(52, 183, 241)"
    expect(bubble).to_have_count(1)


def test_a_failed_reply_is_marked_and_can_be_retried(server, n8n, open_page):
    n8n.plan[FAILS] = [500]  # the first try is refused, a retry goes through
    conversation = webhook(server, server.owner_id, customer_phone(), "Merhaba")
    agent = open_page("owner@example.com")
    open_conversation(agent, conversation["conversationId"])
    wait_connected(agent)

    bubbles = send(agent, FAILS)
    expect(bubbles).to_have_attribute("data-status", "failed")
    expect(bubbles.locator(".status-error")).to_have_text("Not delivered")
    failed_id = bubbles.get_attribute("data-message-id")
    bubbles.locator(".retry-button").click()
    # The same message is queued again (POST /api/messages/<id>/retry), not a copy.
    expect(bubbles.and_(agent.locator('[data-status="sent"]'))).to_have_count(1)
    assert bubbles.get_attribute("data-message-id") == failed_id


def test_reply_text_is_shown_as_text(server, open_page):
    conversation = webhook(server, server.owner_id, customer_phone(), "Merhaba")
    agent = open_page("owner@example.com")
    open_conversation(agent, conversation["conversationId"])
    wait_connected(agent)
    attack = "<img src=x onerror=alert(1)>"
    expect(send(agent, attack)).to_have_attribute("data-status", "sent")
    assert agent.locator("#message-list img").count() == 0
    assert agent.dialogs == []
