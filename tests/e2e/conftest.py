"""Browser fixtures: headless Chromium (the Debian package) driving the panel of a live server.

Playwright never downloads a browser here: it launches /usr/bin/chromium.
"""

import itertools
import os
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from tests import services
from tests.live_server import PASSWORD, WEBHOOK_SECRET, LiveServer
from tests.n8n_server import N8nServer

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
_phones = itertools.count(1)


@pytest.fixture(scope="session")
def playwright():
    """Playwright, started once per test process: its sync API refuses a second
    instance while one runs, so every browser of the run is launched from this one."""
    if not Path(CHROMIUM).exists():
        services.unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as started:
        yield started


@pytest.fixture(scope="session")
def browser(playwright):
    """One headless Chromium for the whole run (skipped, or failed in CI, without one)."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def n8n():
    """A stand-in for n8n's outbound webhook, taking the panel's replies."""
    with N8nServer() as fake:
        yield fake


@pytest.fixture(scope="session")
def server(n8n):
    """One live server for the browser tests: an agent (owner), a second agent, an admin.

    Tests stay apart by using their own customers (customer_phone()). Replies go to
    the fake n8n with a single try, so a refused reply turns `failed` at once.
    """
    env = {
        "N8N_OUTBOUND_URL": n8n.url,
        "OUTBOUND_MAX_ATTEMPTS": "1",
        "OUTBOUND_BACKOFF_SECONDS": "0.2",
    }
    live = LiveServer(env=env).start()
    live.owner_id = live.create_user("owner@example.com", name="Owner Agent")
    live.other_id = live.create_user("other@example.com", name="Other Agent")
    live.admin_id = live.create_user("admin@example.com", role="ADMIN", name="Admin")
    yield live
    live.close()


@pytest.fixture
def open_page(browser, server):
    """open_page(email, path="/client", locale="en-US") -> a signed-in page on path.

    Each page has its own browser context, so two pages are two separate agents.
    """
    contexts = []

    def open_page(email: str, path: str = "/client", locale: str = "en-US"):
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 800})
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: page.dialogs.append(dialog.message) or dialog.dismiss())
        page.dialogs = []
        log_in(page, server.url, email)
        if not page.url.endswith(path):
            page.goto(server.url + path)
        return page

    yield open_page
    for context in contexts:
        context.close()


def log_in(page, url: str, email: str, password: str = PASSWORD) -> None:
    """Fill in the login form and wait for the page it leads to."""
    page.goto(url + "/login")
    page.fill("#login-email", email)
    page.fill("#login-password", password)
    page.click("#login-submit")
    page.wait_for_url(lambda address: "/login" not in address)


def customer_phone() -> str:
    """A phone number no other test uses, so each test has its own conversation."""
    return f"+90555{next(_phones):07d}"


def webhook(server, user_id: int, phone: str, content: str, **extra) -> dict:
    """Post an inbound message as n8n would; returns {id, conversationId}."""
    body = {
        "user_id": user_id,
        "customer_name": extra.pop("customer_name", "Ayşe Yılmaz"),
        "customer_phone": phone,
        "message_content": content,
        **extra,
    }
    response = server.post_webhook(body)
    assert response.status_code in (200, 201), response.text
    return response.json()["data"]


def report_status(server, message_id: str, status: str) -> None:
    """n8n tells the server what WhatsApp said about a reply."""
    response = requests.post(
        server.url + "/api/webhooks/n8n/status",
        json={"message_id": message_id, "status": status},
        headers={"X-Webhook-Secret": WEBHOOK_SECRET},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def send(page, text: str):
    """Type a reply and press Enter; returns the locator of its bubble."""
    page.fill("#reply-input", text)
    page.press("#reply-input", "Enter")
    return page.locator(".message-outbound", has=page.locator(".message-text", has_text=text))


def phone_of(server, conversation_id: int) -> str:
    """The customer phone of a conversation, read as its owner."""
    token = server.login("owner@example.com")["accessToken"]
    conversations = server.get("/api/conversations", token).json()
    return next(c["customerPhone"] for c in conversations if c["id"] == conversation_id)


def messages_reading(page, text: str):
    """The open conversation's messages whose text is exactly `text`."""
    return page.locator("#message-list").get_by_text(text, exact=True)


def open_conversation(page, conversation_id: int) -> None:
    """Click a conversation in the list and wait until it is the open one."""
    page.click(f'.conversation-item[data-conversation-id="{conversation_id}"] button')
    expect(page.locator("#conversation")).to_have_attribute(
        "data-conversation-id", str(conversation_id)
    )


def wait_connected(page) -> None:
    """Wait until the page's SocketClient reports a live socket."""
    page.wait_for_function(
        "() => window.socketClient && window.socketClient.getStatus().isConnected"
    )


def wait_joined(page, conversation_id: int) -> None:
    """Wait until the server has confirmed the page's join of a conversation room
    (typing indicators go to that room only)."""
    page.wait_for_function(
        "id => window.socketClient && window.socketClient.getStatus().joinedRooms.includes(id)",
        arg=conversation_id,
    )


@pytest.fixture
def screenshot(tmp_path):
    """screenshot(page, name): save a screenshot of the page.

    With UPDATE_SCREENSHOTS=1 it goes to docs/screenshots/ (shown in the README);
    otherwise to the test's temporary directory, so a test run leaves the
    committed pictures alone.
    """
    folder = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path

    def take(page, name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / name))

    return take
