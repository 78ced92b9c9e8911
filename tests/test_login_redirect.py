"""The login page's `next`: only a page of the panel, whatever a link puts there.

What the browser then does with it is tested in tests/e2e/test_login_redirect.py.
"""

import re

import pytest

HOSTILE_NEXT = [
    "/%5Cevil.example/",  # /\evil.example/: browsers read a backslash as a slash
    "/%09/evil.example/",  # a tab, dropped by the URL parser: //evil.example/
    "/%0A/evil.example/",  # a newline, likewise
    "/%0D/evil.example/",
    "//evil.example",
    "///evil.example",
    "https://evil.example/client",
    "http:evil.example",
    "javascript:alert(1)",
    "/client%5C..%5C..%5Cevil",
    "%2F%2Fevil.example",
    "/login",
    "/api/auth/me",
    "/client/../api",
    "client",
    "",
]


def next_page_of(client, query: str) -> str:
    html = client.get("/login" + query).get_data(as_text=True)
    return re.search(r'id="login-form" data-next="([^"]*)"', html).group(1)


@pytest.mark.parametrize("value", HOSTILE_NEXT)
def test_anything_but_a_panel_page_is_dropped(client, value):
    assert next_page_of(client, "?next=" + value) == ""


@pytest.mark.parametrize(
    "value, kept",
    [
        ("%2Fclient", "/client"),
        ("/admin", "/admin"),
        ("%2Fclient%3Fconversation%3D12", "/client?conversation=12"),
    ],
)
def test_a_panel_page_is_kept_with_its_query(client, value, kept):
    assert next_page_of(client, "?next=" + value) == kept


def test_no_next_at_all(client):
    assert next_page_of(client, "") == ""
