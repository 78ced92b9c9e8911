"""Two agents' pages on one conversation: the owner and an admin see each other live."""

from playwright.sync_api import expect

from tests.e2e.conftest import (
    customer_phone,
    open_conversation,
    wait_connected,
    wait_joined,
    webhook,
)


def badge(page, conversation_id):
    item = page.locator(f'.conversation-item[data-conversation-id="{conversation_id}"]')
    return item.locator(".unread-badge")


def test_each_sees_the_other_typing_and_stopping(server, open_page):
    conversation = webhook(server, server.owner_id, customer_phone(), "Merhaba")["conversationId"]
    owner = open_page("owner@example.com")
    admin = open_page("admin@example.com")
    for page in (owner, admin):
        page.goto(f"{server.url}/client?conversation={conversation}")
        expect(page.locator(".message-text", has_text="Merhaba")).to_be_visible()
        wait_connected(page)
        wait_joined(page, conversation)

    for typist, watcher, name in ((owner, admin, "Owner Agent"), (admin, owner, "Admin")):
        indicator = watcher.locator("#typing-indicator")
        expect(indicator).to_be_hidden()
        typist.fill("#reply-input", "Bir saniye, kontrol ediyorum")
        expect(indicator).to_be_visible()
        expect(indicator).to_have_text(f"{name} is typing…")  # the typer named
        typist.fill("#reply-input", "")
        expect(indicator).to_be_hidden()
    # Neither page shows its own typing.
    owner.fill("#reply-input", "x")
    expect(admin.locator("#typing-indicator")).to_be_visible()
    expect(owner.locator("#typing-indicator")).to_be_hidden()
    owner.fill("#reply-input", "")
    expect(admin.locator("#typing-indicator")).to_be_hidden()


def test_typing_clears_when_the_typist_goes_quiet(server, open_page):
    conversation = webhook(server, server.owner_id, customer_phone(), "Merhaba")["conversationId"]
    owner = open_page("owner@example.com")
    admin = open_page("admin@example.com")
    for page in (owner, admin):
        page.goto(f"{server.url}/client?conversation={conversation}")
        wait_connected(page)
        wait_joined(page, conversation)
    owner.locator("#reply-input").press_sequentially("Tamam")
    expect(admin.locator("#typing-indicator")).to_be_visible()
    # No more keys: the owner's page sends isTyping:false after its idle time.
    expect(admin.locator("#typing-indicator")).to_be_hidden(timeout=7000)


def test_a_mark_read_in_one_page_updates_the_other(server, open_page):
    phone = customer_phone()
    conversation = webhook(server, server.owner_id, phone, "ilk mesaj")["conversationId"]
    owner = open_page("owner@example.com")
    admin = open_page("admin@example.com")
    for page in (owner, admin):
        wait_connected(page)
        expect(badge(page, conversation)).to_have_text("1")

    webhook(server, server.owner_id, phone, "ikinci mesaj")
    for page in (owner, admin):
        expect(badge(page, conversation)).to_have_text("2")

    open_conversation(admin, conversation)
    expect(admin.locator('.message-inbound[data-read="true"]')).to_have_count(2)
    expect(badge(owner, conversation)).to_have_count(0)
    expect(badge(admin, conversation)).to_have_count(0)


def test_read_receipt_reaches_an_agent_with_the_conversation_open(server, open_page):
    phone = customer_phone()
    conversation = webhook(server, server.owner_id, phone, "first")["conversationId"]
    owner = open_page("owner@example.com")
    admin = open_page("admin@example.com")
    owner.goto(f"{server.url}/client?conversation={conversation}")
    wait_connected(owner)
    # The owner's page is in the background, so it does not mark anything read.
    owner.evaluate(
        """() => {
          Object.defineProperty(document, 'visibilityState', { get: () => 'hidden' });
          Object.defineProperty(document, 'hidden', { get: () => true });
        }"""
    )
    message = webhook(server, server.owner_id, phone, "while away")
    unread = owner.locator(f'.message-inbound[data-message-id="{message["id"]}"]')
    expect(unread).to_have_attribute("data-read", "false")

    wait_connected(admin)
    open_conversation(admin, conversation)
    expect(unread).to_have_attribute("data-read", "true")
