"""The login page never sends the browser to another site, whatever `next` says.

Requests that would leave the test server are aborted (and recorded), so a
failure shows up as the page's address, without any traffic leaving the machine.
"""

from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import PASSWORD

# The ways out the issue names (the server's check is unit-tested on more).
HOSTILE_NEXT = [
    "/%5Cevil.example/",
    "/%09/evil.example/",
    "/%0A/evil.example/",
    "//evil.example",
    "https://evil.example/client",
]


@pytest.fixture
def guarded_page(browser, server):
    """A fresh page whose requests to anything but the test server are aborted."""
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.left_for = []

    def only_the_server(route):
        if route.request.url.startswith(server.url):
            return route.continue_()
        page.left_for.append(route.request.url)
        return route.abort()

    context.route("**/*", only_the_server)
    yield page
    context.close()


def log_in_with_next(page, server, query: str) -> None:
    page.goto(server.url + "/login?next=" + query)
    page.fill("#login-email", "owner@example.com")
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(lambda address: "/login" not in address)


@pytest.mark.parametrize("value", HOSTILE_NEXT)
def test_a_hostile_next_lands_on_the_users_own_page(guarded_page, server, value):
    log_in_with_next(guarded_page, server, value)
    address = urlsplit(guarded_page.url)
    assert (f"{address.scheme}://{address.netloc}", address.path) == (server.url, "/client")
    assert guarded_page.left_for == []


def test_a_panel_page_in_next_is_where_the_login_goes(guarded_page, server):
    log_in_with_next(guarded_page, server, "%2Fclient%3Fcheck%3D1")
    assert guarded_page.url == server.url + "/client?check=1"
