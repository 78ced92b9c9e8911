"""The panel and WhatsApp's 24-hour window: the time left, the template picker, failure reasons."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import requests
from playwright.sync_api import expect

from tests import whatsapp_payloads as meta
from tests.e2e.conftest import customer_phone, log_in, open_conversation, wait_connected, webhook
from tests.live_server import LiveServer

TEMPLATES = [
    {"name": "order_update", "language": "tr", "text": "Siparişiniz {{1}} kargoya verildi."},
    {"name": "hello_world", "language": "en_US", "text": "Hello World"},
]


@pytest.fixture(scope="module")
def server(n8n):
    """A server with templates configured and Meta's app secret (for failed statuses)."""
    env = {
        "N8N_OUTBOUND_URL": n8n.url,
        "WHATSAPP_TEMPLATES": json.dumps(TEMPLATES),
        "WHATSAPP_APP_SECRET": meta.APP_SECRET,
        "OUTBOUND_BACKOFF_SECONDS": "0.2",
    }
    live = LiveServer(env=env).start()
    live.owner_id = live.create_user("pencere@example.com", name="Pencere Agent")
    live.flask("numbers", "add", meta.PHONE_NUMBER_ID, "--user", "pencere@example.com")
    yield live
    live.close()


@pytest.fixture
def agent_page(browser, server):
    """agent_page(locale) -> a signed-in page whose clock the test can move forward."""
    contexts = []

    def open_page(locale: str = "en-US"):
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 800})
        contexts.append(context)
        page = context.new_page()
        page.clock.install()
        log_in(page, server.url, "pencere@example.com")
        return page

    yield open_page
    for context in contexts:
        context.close()


def customer_wrote(server, hours_ago: float) -> int:
    """A new customer whose last message is `hours_ago` old; returns the conversation id."""
    when = datetime.now(UTC) - timedelta(hours=hours_ago)
    stamp = when.isoformat(timespec="seconds").replace("+00:00", "Z")
    data = webhook(server, server.owner_id, customer_phone(), "Merhaba", timestamp=stamp)
    return data["conversationId"]


def test_the_header_counts_down_and_the_composer_turns_into_the_template_picker(server, agent_page):
    conversation = customer_wrote(server, hours_ago=23 + 58 / 60)
    page = agent_page()
    open_conversation(page, conversation)
    label = page.locator("#window-status")
    expect(label).to_have_text(re.compile(r"^[12] min left to reply freely$"))
    expect(label).to_have_attribute("data-state", "open")
    expect(page.locator("#reply-form")).to_be_visible()
    expect(page.locator("#template-form")).to_be_hidden()

    page.clock.fast_forward("03:00")  # the window closes while the conversation is open
    expect(label).to_have_text("24-hour window closed: templates only")
    expect(label).to_have_attribute("data-state", "closed")
    expect(page.locator("#reply-form")).to_be_hidden()
    expect(page.locator("#template-form")).to_be_visible()
    expect(page.locator("#template-select option")).to_have_count(2)


def test_a_template_with_a_parameter_is_sent_when_the_window_is_closed(
    server, agent_page, n8n, screenshot
):
    conversation = customer_wrote(server, hours_ago=30)
    page = agent_page()
    open_conversation(page, conversation)
    wait_connected(page)
    expect(page.locator("#template-form")).to_be_visible()
    page.select_option("#template-select", label="order_update (tr)")
    page.fill(".template-param", "TR-4411")
    expect(page.locator("#template-preview")).to_have_text("Siparişiniz TR-4411 kargoya verildi.")
    screenshot(page, "template-picker.png")
    page.click("#template-send")
    bubble = page.locator(
        ".message-outbound", has=page.get_by_text("Siparişiniz TR-4411 kargoya verildi.")
    )
    expect(bubble).to_have_attribute("data-status", "sent")
    message_id = bubble.get_attribute("data-message-id")
    handed = n8n.wait_for(lambda requests: n8n.accepted(message_id))
    body = next(r.body for r in handed if r.message_id == message_id)
    assert body["message_type"] == "template"
    assert body["template"]["name"] == "order_update"


def test_a_failed_reply_says_why_in_the_agents_language(server, agent_page, n8n, screenshot):
    conversation = customer_wrote(server, hours_ago=1)
    page = agent_page(locale="tr-TR")
    open_conversation(page, conversation)
    wait_connected(page)
    expect(page.locator("#window-status")).to_have_text(
        re.compile(r"^Serbest yanıt için 2[23] sa \d+ dk kaldı$")
    )
    page.fill("#reply-input", "Kargonuz yolda")
    page.press("#reply-input", "Enter")
    bubble = page.locator(".message-outbound", has=page.get_by_text("Kargonuz yolda"))
    expect(bubble).to_have_attribute("data-status", "sent")
    message_id = bubble.get_attribute("data-message-id")
    wamid = n8n.wait_for(lambda requests: n8n.accepted(message_id)) and n8n.accepted(message_id)[0]
    error = meta.meta_error(131047, "Re-engagement message", "More than 24 hours have passed.")
    status = meta.status(wamid.whatsapp_id, "failed", error=error)
    raw, headers = meta.signed(meta.envelope(meta.change(statuses=[status])))
    response = requests.post(server.url + "/api/webhooks/whatsapp", data=raw, headers=headers)
    assert response.status_code == 200, response.text
    expect(bubble).to_have_attribute("data-status", "failed")
    expect(bubble.locator(".status-error")).to_have_text(
        "İletilemedi: müşterinin son mesajının üzerinden 24 saatten fazla geçti. Şablon gönderin."
    )
    page.select_option("#lang-select", "en")
    expect(bubble.locator(".status-error")).to_have_text(
        "Not delivered: more than 24 hours since the customer last wrote. Send a template."
    )
    screenshot(page, "failed-reason.png")
