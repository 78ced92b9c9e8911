"""The admin view: every conversation, the agents' online state, the connected-users count."""

from playwright.sync_api import expect

from tests.e2e.conftest import customer_phone, wait_connected, webhook


def agent_row(page, user_id):
    return page.locator(f'#agent-table tr[data-user-id="{user_id}"]')


def test_admin_lands_on_the_admin_view_with_everyones_conversations(server, open_page):
    mine = webhook(server, server.owner_id, customer_phone(), "owner's customer")
    theirs = webhook(server, server.other_id, customer_phone(), "other's customer")
    page = open_page("admin@example.com", path="/admin")
    assert page.url.endswith("/admin")
    expect(page.locator("#admin-link")).to_be_visible()
    rows = page.locator("#admin-conversation-table tbody tr")
    for created in (mine, theirs):
        expect(
            rows.filter(has=page.locator(f'a[href$="={created["conversationId"]}"]'))
        ).to_have_count(1)

    wait_connected(page)
    live = webhook(server, server.other_id, customer_phone(), "arrived while watching")
    first = rows.first
    expect(first).to_have_attribute("data-conversation-id", str(live["conversationId"]))
    expect(first.locator(".preview-cell")).to_have_text("arrived while watching")
    expect(first.locator(".unread-badge")).to_have_text("1")


def test_agents_online_state_and_connected_users_follow_their_pages(server, open_page, browser):
    webhook(server, server.owner_id, customer_phone(), "hello")
    webhook(server, server.other_id, customer_phone(), "hello")
    admin = open_page("admin@example.com", path="/admin")
    wait_connected(admin)
    expect(agent_row(admin, server.admin_id)).to_contain_text("Online")
    expect(agent_row(admin, server.other_id)).to_contain_text("Offline")
    expect(admin.locator("#connected-users")).to_have_text("1")

    other = open_page("other@example.com")
    wait_connected(other)
    # The admin view reads presence every 5 s (the contract pushes no presence events).
    expect(agent_row(admin, server.other_id)).to_contain_text("Online", timeout=8000)
    expect(admin.locator("#connected-users")).to_have_text("2", timeout=8000)

    other.context.close()
    expect(agent_row(admin, server.other_id)).to_contain_text("Offline", timeout=10000)
    expect(admin.locator("#connected-users")).to_have_text("1", timeout=10000)


def test_an_agent_is_sent_from_the_admin_view_to_the_panel(server, open_page):
    page = open_page("owner@example.com", path="/admin")
    page.wait_for_url("**/client")
