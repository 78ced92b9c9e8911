"""When the socket cannot come back, the page polls GET /api/events, then returns to the socket.

The page's clock is Playwright's fake clock, so the reconnection back-off (1 s to
5 s, without end; polling from the sixth attempt), the 20 s connect timeout and
the 30 s polling period pass in fast-forward instead of real time. Websockets go
through a route the test can cut, so REST keeps working while the socket cannot
connect. With the clock standing still, a reconnection that happens anyway was
brought on by a poll's answer or the browser's `online` event, not the back-off.
"""

import re
import time

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


def comes_true(page, condition: str, seconds: float = 20) -> bool:
    """Whether the JS condition holds within `seconds` of real time, asked from here
    (wait_for_function polls on animation frames, which a paused clock stops)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if page.evaluate(f"() => {condition}"):
            return True
        time.sleep(0.1)
    return False


def blockable_page(server, browser):
    """(context, page, block): a signed-in page whose clock is paused (timers fire only
    when the test advances it), and websockets that block(True) refuses."""
    context = browser.new_context(locale="en-US")
    context.clock.install()
    blocked = [False]

    def route_socket(ws):
        if blocked[0]:
            ws.close()
        else:
            ws.connect_to_server()

    context.route_web_socket(re.compile(r"/socket\.io/"), route_socket)
    page = context.new_page()
    log_in(page, server.url, "owner@example.com")
    wait_connected(page)
    page.clock.pause_at(page.evaluate("Date.now()") + 1000)
    return context, page, lambda value: blocked.__setitem__(0, value)


def test_a_poll_that_gets_through_reconnects_the_socket_at_once(server, browser):
    context, page, block = blockable_page(server, browser)
    try:
        block(True)
        page.evaluate("window.socketClient.socket.io.engine.close()")
        advance_until(page, "window.socketClient.state === 'polling'", step_ms=26000, real_ms=200)
        block(False)
        # The clock stands still: no back-off timer fires; the poll's answer alone
        # brings the socket back (the interval would call poll() every 30 s).
        page.evaluate("window.socketClient.poll()")
        assert comes_true(page, "window.socketClient.getStatus().isConnected")
        expect(page.locator("#connection-badge")).to_have_attribute("data-state", "connected")
    finally:
        context.close()


def test_the_browser_coming_back_online_reconnects_the_socket_at_once(server, browser):
    context, page, block = blockable_page(server, browser)
    try:
        block(True)
        page.evaluate("window.socketClient.socket.io.engine.close()")
        advance_until(page, "window.socketClient.getStatus().reconnectAttempts >= 2", step_ms=5000)
        context.set_offline(True)
        block(False)
        context.set_offline(False)  # the page gets its `online` event; the clock stands still
        assert comes_true(page, "window.socketClient.getStatus().isConnected")
        expect(page.locator("#connection-badge")).to_have_attribute("data-state", "connected")
    finally:
        context.close()
