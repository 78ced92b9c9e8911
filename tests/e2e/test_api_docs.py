"""GET /api/docs in headless Chromium: Swagger UI (from npm) renders the REST reference
under the page's strict Content-Security-Policy, and the socket events are listed."""

import re

import requests
from playwright.sync_api import expect

SOCKET_EVENTS = [
    "join_conversation",
    "leave_conversation",
    "typing",
    "mark_read",
    "new_message",
    "message_read",
    "message_status",
    "user_typing",
    "resync_required",
    "error",
]


def test_reference_page_renders_both_interfaces_under_its_csp(browser, server, screenshot):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    response = page.goto(server.url + "/api/docs")
    assert "script-src 'self'" in response.headers["content-security-policy"]

    spec = requests.get(server.url + "/api/openapi.json", timeout=10).json()
    expected = sum(len(item) for item in spec["paths"].values())
    blocks = page.locator(".opblock")
    expect(blocks.first).to_be_visible()
    page.wait_for_function(f"document.querySelectorAll('.opblock').length >= {expected}")
    webhook = page.locator(".opblock-post", has_text="/api/webhooks/n8n/message")
    webhook.locator(".opblock-summary").click()
    expect(webhook.get_by_text("customer_phone").first).to_be_visible()
    for name in SOCKET_EVENTS:
        expect(page.locator(f"#event-{name}")).to_be_visible()
    expect(page.locator("#event-typing")).to_contain_text("Invalid isTyping")
    screenshot(page, "api-docs.png")
    page.locator("#socket").scroll_into_view_if_needed()
    screenshot(page, "api-docs-socket.png")
    assert not [p for p in problems if re.search("Content Security Policy|Refused", p)], problems
    assert problems == []
    context.close()
