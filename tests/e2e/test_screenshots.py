"""Screenshots of the agent panel and the admin view for the README (docs/screenshots/).

Refresh the committed pictures with:
UPDATE_SCREENSHOTS=1 scripts/test.sh tests/e2e/test_screenshots.py
"""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    open_conversation,
    report_status,
    send,
    wait_connected,
    wait_joined,
    webhook,
)
from tests.live_server import LiveServer

CUSTOMERS = [
    (
        "Mehmet Demir",
        "+905321112233",
        ["Merhaba, siparişim ne zaman gelir?", "Sipariş numaram 48213."],
    ),
    ("Zeynep Kaya", "+905449876543", ["İade sürecini başlatmak istiyorum."]),
    ("Can Öztürk", "+905051234567", ["Fatura adresimi değiştirebilir miyim?"]),
]


@pytest.fixture(scope="module")
def server(n8n):
    """A server of its own, with a small realistic inbox."""
    live = LiveServer(env={"N8N_OUTBOUND_URL": n8n.url}).start()
    live.owner_id = live.create_user("ayse@example.com", name="Ayşe Yılmaz")
    live.other_id = live.create_user("burak@example.com", name="Burak Şahin")
    live.admin_id = live.create_user("admin@example.com", role="ADMIN", name="Admin")
    live.conversations = {}
    for owner, (name, phone, texts) in zip(
        [live.other_id, live.owner_id, live.owner_id], CUSTOMERS, strict=True
    ):
        for text in texts:
            created = webhook(live, owner, phone, text, customer_name=name)
        live.conversations[name] = created["conversationId"]
    yield live
    live.close()


def test_agent_panel(server, open_page, screenshot):
    agent = open_page("ayse@example.com")
    admin = open_page("admin@example.com", path="/client")
    conversation = server.conversations["Zeynep Kaya"]
    for page in (agent, admin):
        open_conversation(page, conversation)
        wait_connected(page)
        wait_joined(page, conversation)
    first = send(agent, "Merhaba Zeynep Hanım, iade talebinizi aldık.")
    expect(first).to_have_attribute("data-status", "sent")
    report_status(server, first.get_attribute("data-message-id"), "read")
    webhook(
        server,
        server.owner_id,
        "+905449876543",
        "Ürün kutusu açılmadı, etiketi duruyor.",
        customer_name="Zeynep Kaya",
    )
    second = send(agent, "Teşekkürler, kargo kodunu birazdan iletiyorum.")
    expect(second).to_have_attribute("data-status", "sent")
    report_status(server, second.get_attribute("data-message-id"), "delivered")
    admin.fill("#reply-input", "Kargo kodu")
    expect(agent.locator("#typing-indicator")).to_be_visible()
    expect(first).to_have_attribute("data-status", "read")
    expect(second).to_have_attribute("data-status", "delivered")
    expect(agent.locator(".unread-badge")).to_have_count(1)  # Can's conversation only
    expect(agent.locator(".conversation-preview").first).to_have_text(
        "Teşekkürler, kargo kodunu birazdan iletiyorum."
    )
    screenshot(agent, "agent-panel.png")


def test_admin_view(server, open_page, screenshot):
    agent = open_page("ayse@example.com")
    wait_connected(agent)
    admin = open_page("admin@example.com", path="/admin")
    wait_connected(admin)
    rows = admin.locator("#admin-conversation-table tbody tr")
    expect(rows).to_have_count(len(CUSTOMERS))
    expect(admin.locator(f'#agent-table tr[data-user-id="{server.owner_id}"]')).to_contain_text(
        "Online", timeout=8000
    )
    expect(admin.locator("#connected-users")).to_have_text("2", timeout=8000)
    screenshot(admin, "admin-view.png")
