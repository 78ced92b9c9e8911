"""When the socket cannot come back, the page polls GET /api/events, then returns to the socket.

The page's clock is Playwright's fake clock, so the reconnection back-off (1 s to
5 s, 5 attempts), the 20 s connect timeout and the 30 s polling period pass in
fast-forward instead of real time. Websockets go through a route the test can
cut, so REST keeps working while the socket cannot connect.
"""

import re

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from tests.e2e.conftest import (
    customer_phone,
    log_in,
    messages_reading,
    open_conversation,
    wait_connected,
    webhook,
)


def advance_until(page, condition: str, step_ms: int, real_ms: int = 1000, steps: int = 20):
    """Fast-forward the page's clock step by step until the JS condition holds.

    Before each step the page gets real_ms of real time, for the network.
    """
    for _ in range(steps):
        try:
            page.wait_for_function(f"() => {condition}", timeout=real_ms)
            return
        except PlaywrightTimeoutError:
            page.clock.fast_forward(step_ms)
    raise AssertionError(f"never true: {condition}")


def test_polls_events_after_five_failed_reconnects_and_retries_the_socket(server, browser):
    context = browser.new_context(locale="en-US")
    context.clock.install()
    sockets_blocked = False

    def route_socket(ws):
        if sockets_blocked:
            ws.close()  # the attempt never opens; it fails by its connect timeout
        else:
            ws.connect_to_server()

    context.route_web_socket(re.compile(r"/socket\.io/"), route_socket)
    page = context.new_page()
    polls = []
    page.on("request", lambda request: "/api/events" in request.url and polls.append(request.url))
    try:
        phone = customer_phone()
        conversation = webhook(server, server.owner_id, phone, "first")["conversationId"]
        log_in(page, server.url, "owner@example.com")
        open_conversation(page, conversation)
        wait_connected(page)
        webhook(server, server.owner_id, phone, "live")
        expect(page.locator(".message-text", has_text="live")).to_be_visible()

        sockets_blocked = True
        page.evaluate("window.socketClient.socket.io.engine.close()")
        advance_until(page, "window.socketClient.state === 'polling'", step_ms=26000, real_ms=200)
        badge = page.locator("#connection-badge")
        expect(badge).to_have_attribute("data-state", "polling")
        assert page.evaluate("window.socketClient.getStatus().isConnected") is False

        webhook(server, server.owner_id, phone, "while polling")
        polls.clear()
        page.clock.fast_forward(30000)
        expect(page.locator(".message-text", has_text="while polling")).to_be_visible()
        assert polls and "after=" in polls[0]
        expect(badge).to_have_attribute("data-state", "polling")

        sockets_blocked = False
        advance_until(page, "window.socketClient.getStatus().isConnected", step_ms=6000)
        expect(badge).to_have_attribute("data-state", "connected")
        webhook(server, server.owner_id, phone, "socket again")
        expect(page.locator(".message-text", has_text="socket again")).to_be_visible()
        for text in ("first", "live", "while polling", "socket again"):
            expect(messages_reading(page, text)).to_have_count(1)
    finally:
        context.close()
