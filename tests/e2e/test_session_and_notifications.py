"""Token refresh, logout, toasts and browser notifications."""

import requests
from playwright.sync_api import expect

from tests.e2e.conftest import (
    customer_phone,
    log_in,
    open_conversation,
    phone_of,
    wait_connected,
    webhook,
)

# A stand-in for the browser's Notification that records what the page shows.
RECORD_NOTIFICATIONS = """
window.shownNotifications = [];
window.Notification = class {
  static permission = 'granted';
  static requestPermission() { return Promise.resolve('granted'); }
  constructor(title, options) {
    this.title = title;
    this.options = options;
    window.shownNotifications.push(this);
  }
  close() {}
};
"""


def test_a_stale_access_token_is_refreshed_before_the_socket_connects(server, open_page):
    page = open_page("owner@example.com")
    wait_connected(page)
    page.evaluate("localStorage.setItem('accessToken', 'not-a-valid-token')")
    page.reload()
    wait_connected(page)
    assert page.evaluate("localStorage.getItem('accessToken')") != "not-a-valid-token"
    webhook(server, server.owner_id, customer_phone(), "still works")
    expect(page.locator(".conversation-preview", has_text="still works")).to_be_visible()


def refresh_cookie(page) -> dict | None:
    """The page's refresh cookie as the browser holds it (scripts cannot read it)."""
    cookies = page.context.cookies(page.url.split("/client")[0] + "/api/auth/refresh")
    return next((c for c in cookies if c["name"] == "refresh_token_cookie"), None)


def test_the_refresh_token_is_an_httponly_cookie_out_of_reach_of_page_scripts(open_page):
    page = open_page("owner@example.com")
    wait_connected(page)
    cookie = refresh_cookie(page)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/api/auth/refresh"
    assert "refresh_token_cookie" not in page.evaluate("document.cookie")
    assert cookie["value"] not in page.evaluate("JSON.stringify(localStorage)")
    assert page.evaluate("localStorage.getItem('refreshToken')") is None


def test_logout_forgets_the_tokens_and_leaves_no_working_refresh_token(server, open_page):
    page = open_page("owner@example.com")
    wait_connected(page)
    stolen = refresh_cookie(page)["value"]
    page.click("#logout-button")
    page.wait_for_url("**/login")
    assert page.evaluate("localStorage.getItem('accessToken')") is None
    assert refresh_cookie(page) is None
    # Copied before the logout, the refresh token mints nothing afterwards.
    refused = requests.post(
        server.url + "/api/auth/refresh", headers={"Authorization": f"Bearer {stolen}"}, timeout=10
    )
    assert refused.status_code == 401
    page.goto(server.url + "/client")
    page.wait_for_url("**/login?next=%2Fclient")


def test_a_toast_announces_a_message_elsewhere_and_opens_it_when_clicked(server, open_page):
    opened = webhook(server, server.owner_id, customer_phone(), "open one")["conversationId"]
    elsewhere = webhook(server, server.owner_id, customer_phone(), "hi", customer_name="Zeynep")
    page = open_page("owner@example.com")
    open_conversation(page, opened)
    wait_connected(page)

    phone = phone_of(server, elsewhere["conversationId"])
    webhook(server, server.owner_id, phone, "yeni mesaj", customer_name="Zeynep")
    toast = page.locator(".toast", has_text="New message: Zeynep")
    expect(toast).to_be_visible()
    toast.click()
    expect(page.locator("#conversation")).to_have_attribute(
        "data-conversation-id", str(elsewhere["conversationId"])
    )
    expect(page.locator(".message-text", has_text="yeni mesaj")).to_be_visible()


def test_toasts_leave_after_four_seconds_even_without_a_socket(open_page):
    page = open_page("owner@example.com")
    page.evaluate("window.socketClient.disconnect()")
    page.evaluate("window.socketClient.showNotification('Bağlantı hatası', 'error')")
    toast = page.locator(".toast", has_text="Bağlantı hatası")
    expect(toast).to_be_visible()
    expect(toast).to_be_hidden(timeout=6000)


def test_a_background_page_shows_a_browser_notification_tagged_with_the_message_id(server, browser):
    context = browser.new_context(locale="en-US")
    context.add_init_script(RECORD_NOTIFICATIONS)
    page = context.new_page()
    try:
        log_in(page, server.url, "owner@example.com")
        wait_connected(page)
        page.evaluate("Object.defineProperty(document, 'hidden', { get: () => true })")
        created = webhook(
            server, server.owner_id, customer_phone(), "are you there?", customer_name="Emre"
        )
        page.wait_for_function("() => window.shownNotifications.length === 1")
        shown = page.evaluate(
            "(({ title, options }) => ({ title, ...options }))(window.shownNotifications[0])"
        )
        assert shown["tag"] == created["id"]
        assert shown["body"] == "New message: Emre"

        page.evaluate("window.shownNotifications[0].onclick()")
        expect(page.locator("#conversation")).to_have_attribute(
            "data-conversation-id", str(created["conversationId"])
        )
    finally:
        context.close()
