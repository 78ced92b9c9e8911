"""The sockets' origin rule: FRONTEND_URL's origins and our own; forwarded headers
count only behind TRUSTED_PROXY_HOPS proxies."""

import pytest

from app import allowed_origin, create_app

FOREIGN = "http://evil.example.com"
FORWARDED = {"HTTP_X_FORWARDED_HOST": "evil.example.com", "HTTP_X_FORWARDED_PROTO": "http"}


def environ(**extra) -> dict:
    return {"wsgi.url_scheme": "http", "HTTP_HOST": "inbox.example.org", **extra}


@pytest.fixture
def check():
    return allowed_origin(
        create_app({"CONFIG": "testing", "FRONTEND_URL": "https://panel.example"})
    )


def test_own_and_listed_origins_pass(check):
    assert check("http://inbox.example.org", environ())
    assert check("https://panel.example", environ())
    assert check(None, environ())


def test_forwarded_headers_alone_do_not_make_a_foreign_origin_ours(check):
    assert not check(FOREIGN, environ(**FORWARDED))
    assert not check(FOREIGN, environ())


@pytest.mark.parametrize("hops, status", [(0, 400), (1, 200)])
def test_a_polling_handshake_believes_forwarded_headers_only_from_trusted_proxies(hops, status):
    """Through the app's whole WSGI chain: ProxyFix (TRUSTED_PROXY_HOPS) then Engine.IO."""
    app = create_app({"CONFIG": "testing", "TRUSTED_PROXY_HOPS": hops})
    response = app.test_client().get(
        "/socket.io/?EIO=4&transport=polling",
        headers={
            "Origin": "https://inbox.example.org",
            "X-Forwarded-Host": "inbox.example.org",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "203.0.113.9",
        },
    )
    assert response.status_code == status, response.get_data(as_text=True)
