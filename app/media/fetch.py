"""Downloading a WhatsApp file that n8n names by URL: bounded in time and size, and
never to our own network.

A URL (and each redirect, followed by hand) must be http(s) to a host whose
every address is public: private, loopback, link-local and reserved ranges
are refused unless MEDIA_FETCH_ALLOW_PRIVATE=1, so a webhook caller cannot
make the server read its neighbours (SSRF).
"""

import ipaddress
import socket
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import requests
from flask import current_app

from app.errors import BadGateway, ValidationError
from app.media.storage import CHUNK_BYTES

MAX_REDIRECTS = 5
FIELD = "media.url"


def check_destination(url: str, allow_private: bool) -> None:
    """400 unless `url` is http(s) to a host that resolves only to allowed addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("media.url must be an http or https URL", field=FIELD)
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise BadGateway(f"media.url host does not resolve: {exc}", field=FIELD) from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not address.is_global:
            raise ValidationError("media.url points to a private or loopback address", field=FIELD)


def download(url: str) -> Iterator[bytes]:
    """The file's bytes in chunks; 502 when it cannot be had (n8n retries later).

    The caller stops reading past its size limit; the timeout applies to the
    connect and to each read.
    """
    config = current_app.config
    response = _open(
        url, config["MEDIA_FETCH_ALLOW_PRIVATE"], config["MEDIA_FETCH_TIMEOUT_SECONDS"]
    )
    return _chunks(response)


def _open(url: str, allow_private: bool, timeout: float) -> requests.Response:
    for _ in range(MAX_REDIRECTS + 1):
        check_destination(url, allow_private)
        try:
            response = requests.get(url, stream=True, timeout=timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise BadGateway(f"media download failed: {exc}", field=FIELD) from None
        if response.is_redirect:
            url = urljoin(url, response.headers["Location"])
            response.close()
            continue
        if response.status_code != 200:
            response.close()
            raise BadGateway(f"media download answered HTTP {response.status_code}", field=FIELD)
        return response
    raise BadGateway("media download redirected too often", field=FIELD)


def _chunks(response: requests.Response) -> Iterator[bytes]:
    with response:
        try:
            yield from response.iter_content(CHUNK_BYTES)
        except requests.RequestException as exc:
            raise BadGateway(f"media download broke off: {exc}", field=FIELD) from None
