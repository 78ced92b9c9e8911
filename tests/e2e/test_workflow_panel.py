"""The team-workflow screens in Chromium, in English and Turkish: search and filters,
status, labels and transfer, internal notes, canned responses, names and presence,
the tab title, sound, toasts, a new conversation; the admin's users and reports.

Screenshots go to docs/screenshots/ with UPDATE_SCREENSHOTS=1.
"""

import re

import requests
from playwright.sync_api import expect

from tests.e2e.conftest import (
    customer_phone,
    open_conversation,
    wait_connected,
    wait_joined,
    webhook,
)
from tests.live_server import PASSWORD


def token(server, email: str) -> str:
    return server.login(email)["accessToken"]


def rest(server, method: str, path: str, email: str, **body) -> requests.Response:
    return requests.request(
        method,
        server.url + path,
        json=body or None,
        headers={"Authorization": f"Bearer {token(server, email)}"},
        timeout=10,
    )


def overlap(a: dict, b: dict) -> bool:
    """Whether two bounding boxes intersect."""
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def item(page, conversation_id: int):
    return page.locator(f'.conversation-item[data-conversation-id="{conversation_id}"]')


def test_search_status_labels_notes_and_canned_responses(server, open_page, n8n, screenshot):
    phone = customer_phone()
    first = webhook(server, server.owner_id, phone, "Siparişim İSTANBUL şubesinde mi?")
    conversation = first["conversationId"]
    other = webhook(server, server.owner_id, customer_phone(), "Fatura adresi", customer_name="Can")
    rest(
        server,
        "POST",
        "/api/canned-responses",
        "admin@example.com",
        shortcut="kargotakip",
        content="Kargo takip numaranız: 123",
        shared=True,
    )
    page = open_page("owner@example.com")
    wait_connected(page)

    # Search: Turkish folding, the match highlighted, a click opens the conversation.
    page.fill("#search-input", "istanbul")
    result = page.locator(".search-result").first
    expect(result.locator("mark")).to_have_text("İSTANBUL")
    expect(page.locator("#conversation-list")).to_be_hidden()
    screenshot(page, "workflow-search.png")
    result.click()
    expect(page.locator("#conversation")).to_have_attribute(
        "data-conversation-id", str(conversation)
    )
    page.fill("#search-input", "")
    expect(page.locator("#conversation-list")).to_be_visible()
    wait_joined(page, conversation)

    # Labels and status, shown in the list and usable as filters.
    page.fill("#labels-input", "vip, iade")
    page.click("#labels-form button[type=submit]")
    expect(item(page, conversation).locator(".label-tag")).to_have_text(["vip", "iade"])
    page.select_option("#status-select", "pending")
    expect(item(page, conversation).locator(".status-tag")).to_have_text("Pending")
    page.select_option("#filter-status", "pending")
    expect(page.locator(".conversation-item")).to_have_count(1)
    page.select_option("#filter-status", "")
    page.select_option("#filter-label", "vip")
    expect(page.locator(".conversation-item")).to_have_count(1)
    page.select_option("#filter-label", "")
    expect(item(page, other["conversationId"])).to_be_visible()

    # An internal note: drawn apart, never handed to n8n.
    handed_before = len(n8n.requests)
    page.check("#note-mode")
    page.fill("#reply-input", "Müşteri VIP, öncelik ver")
    page.press("#reply-input", "Enter")
    note = page.locator(".message-note", has_text="Müşteri VIP, öncelik ver")
    expect(note.locator(".note-label")).to_have_text("Internal note")
    page.uncheck("#note-mode")

    # Canned responses: "/" offers them, Enter puts the text in (and sends nothing).
    page.fill("#reply-input", "/karg")
    expect(page.locator(".canned-item")).to_have_count(1)
    screenshot(page, "workflow-canned.png")
    expect(page.locator("#canned-menu")).to_be_visible()
    page.press("#reply-input", "Enter")
    expect(page.locator("#reply-input")).to_have_value("Kargo takip numaranız: 123")
    assert len(n8n.requests) == handed_before
    screenshot(page, "workflow-panel.png")


def test_names_presence_typing_title_sound_and_toasts(server, open_page):
    conversation = webhook(server, server.owner_id, customer_phone(), "Merhaba")["conversationId"]
    owner = open_page("owner@example.com")
    admin = open_page("admin@example.com")
    for page in (owner, admin):
        page.goto(f"{server.url}/client?conversation={conversation}")
        wait_connected(page)
        wait_joined(page, conversation)
    # Names instead of "Agent #id"; the admin is listed among the owner's colleagues online.
    expect(admin.locator("#conversation-owner")).to_have_text("Agent: Owner Agent")
    expect(owner.locator("#colleague-list")).to_contain_text("Admin")
    admin.fill("#reply-input", "Bakıyorum")
    expect(owner.locator("#typing-indicator")).to_have_text("Admin is typing…")
    # The unread count in the tab title, and the optional sound.
    owner.check("#sound-toggle")
    played = owner.evaluate("window.soundsPlayed || 0")
    webhook(server, server.owner_id, customer_phone(), "Yeni müşteri")
    expect(owner).to_have_title(re.compile(r"^\(\d+\) WhatsApp Inbox$"))
    owner.wait_for_function("n => (window.soundsPlayed || 0) > n", arg=played)
    # A toast covers neither the page's header nor the conversation's controls.
    toast = owner.locator(".toast").first
    expect(toast).to_be_visible()
    for covered in ("header.topbar", ".conversation-header", "#reply-send"):
        assert not overlap(toast.bounding_box(), owner.locator(covered).bounding_box()), covered


def test_transfer_from_the_panel_in_turkish(server, open_page):
    conversation = webhook(server, server.owner_id, customer_phone(), "Devret beni")[
        "conversationId"
    ]
    owner = open_page("owner@example.com", locale="tr-TR")
    other = open_page("other@example.com", locale="tr-TR")
    admin = open_page("admin@example.com", locale="tr-TR")
    for page in (owner, other, admin):
        wait_connected(page)
    expect(item(owner, conversation)).to_be_visible()
    open_conversation(admin, conversation)
    expect(admin.locator("#transfer-select")).to_be_visible()
    admin.select_option("#transfer-select", str(server.other_id))
    expect(admin.locator("#conversation-owner")).to_have_text("Temsilci: Other Agent")
    expect(item(owner, conversation)).to_have_count(0)  # live, through conversation_updated
    expect(item(other, conversation)).to_be_visible()
    expect(admin.locator(".toast").first).to_have_text("Kaydedildi")


def test_new_conversation_goes_out_through_the_reply_path(server, open_page, n8n):
    page = open_page("owner@example.com")
    wait_connected(page)
    phone = customer_phone()
    page.click("#new-conversation-open")
    page.fill("#new-phone", phone)
    page.fill("#new-name", "Yeni Müşteri")
    page.fill("#new-content", "Merhaba, siparişiniz hakkında yazıyoruz.")
    page.click("#new-conversation-form button[type=submit]")
    expect(page.locator("#conversation-title")).to_have_text("Yeni Müşteri")
    bubble = page.locator(".message-outbound", has_text="siparişiniz hakkında")
    expect(bubble).to_have_attribute("data-status", "sent")
    handed = n8n.for_message(bubble.get_attribute("data-message-id"))
    assert handed and handed[0].body["customer_phone"] == phone


def test_admin_manages_users_and_reads_reports_in_turkish(server, open_page, screenshot):
    conversation = webhook(server, server.owner_id, customer_phone(), "Rapor için")[
        "conversationId"
    ]
    rest(
        server,
        "POST",
        f"/api/conversations/{conversation}/messages",
        "owner@example.com",
        content="Yanıt",
    )
    rest(
        server,
        "PATCH",
        f"/api/conversations/{conversation}",
        "owner@example.com",
        status="resolved",
    )
    admin = open_page("admin@example.com", path="/admin", locale="tr-TR")
    wait_connected(admin)
    admin.fill("#new-user-name", "Deniz Çelik")
    admin.fill("#new-user-email", "deniz@example.com")
    admin.fill("#new-user-password", PASSWORD)
    admin.click("#user-form button[type=submit]")
    row = admin.locator("#users-table tr", has=admin.locator("td", has_text="deniz@example.com"))
    expect(row).to_be_visible()
    deniz = server.login("deniz@example.com")
    row.locator("button.deactivate").click()
    expect(row.locator("button.activate")).to_have_text("Yeniden etkinleştir")
    me = requests.get(
        server.url + "/api/auth/me",
        headers={"Authorization": f"Bearer {deniz['accessToken']}"},
        timeout=10,
    )
    assert me.status_code == 401  # the deactivated user's token stops working
    name = row.locator("input.name-input")
    name.fill("Deniz Ç.")
    name.press("Tab")
    expect(admin.locator(".toast").first).to_have_text("Kaydedildi")
    # Reports: figures, charts drawn by Chart.js, a row per agent.
    expect(admin.locator("#report-opened")).not_to_have_text("–")
    assert int(admin.locator("#report-resolved").inner_text()) >= 1
    admin.wait_for_function(
        "() => window.Chart && Chart.getChart('chart-volume') && Chart.getChart('chart-times')"
    )
    expect(admin.locator("#report-agents tr[data-user-id]").first).to_be_visible()
    admin.set_viewport_size({"width": 1280, "height": 1500})
    admin.locator("#users-section").scroll_into_view_if_needed()
    screenshot(admin, "admin-users-reports-tr.png")


def test_canned_response_dialog_in_turkish(server, open_page):
    conversation = webhook(server, server.other_id, customer_phone(), "Teşekkürler")[
        "conversationId"
    ]
    page = open_page("other@example.com", locale="tr-TR")
    open_conversation(page, conversation)
    page.click("#canned-open")
    expect(page.locator("#canned-dialog h2")).to_have_text("Hazır yanıtlar")
    expect(page.locator("#canned-shared-row")).to_be_hidden()  # sharing is for admins
    page.fill("#canned-shortcut", "/teşekkür")
    page.fill("#canned-content", "Biz teşekkür ederiz, iyi günler!")
    page.click("#canned-form button[type=submit]")
    row = page.locator(".canned-row", has_text="/teşekkür")
    expect(row).to_be_visible()
    page.click("#canned-close")
    page.fill("#reply-input", "/teş")
    page.press("#reply-input", "Tab")
    expect(page.locator("#reply-input")).to_have_value("Biz teşekkür ederiz, iyi günler!")
    page.fill("#reply-input", "")
    page.click("#canned-open")
    row.locator("button").click()
    expect(row).to_have_count(0)
