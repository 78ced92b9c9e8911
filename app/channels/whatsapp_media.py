"""Fetching a customer's file from the Graph API by its media id.

Meta's webhook names a file by id only: GET /{version}/{media-id} answers a
download URL (valid about five minutes) and the type; the URL itself needs the
same bearer token. The id lives about seven days, so a failed fetch can be
retried from the queue long after the message was stored.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import requests
from flask import current_app

from app.outbound.n8n import short

_CHUNK_BYTES = 64 * 1024


class FetchError(Exception):
    """The file could not be fetched this time; the message says why."""


@dataclass(frozen=True)
class Download:
    """A file on its way from the Graph API: its type and its bytes, chunk by chunk."""

    mime_type: str
    size: int | None
    chunks: Iterator[bytes]


def _headers() -> dict:
    return {"Authorization": f"Bearer {current_app.config['WHATSAPP_ACCESS_TOKEN']}"}


def _get(url: str, **kwargs) -> requests.Response:
    try:
        response = requests.get(
            url,
            headers=_headers(),
            timeout=current_app.config["OUTBOUND_TIMEOUT_SECONDS"],
            allow_redirects=False,
            **kwargs,
        )
    except requests.RequestException as exc:
        raise FetchError(f"Graph API unreachable: {short(exc)}") from exc
    if response.status_code != 200:
        raise FetchError(f"Graph API answered HTTP {response.status_code}: {short(response.text)}")
    return response


def lookup(media_id: str) -> tuple[str, str, int | None]:
    """(download URL, MIME type, size) of a media id."""
    config = current_app.config
    found = _get(f"{config['WHATSAPP_GRAPH_URL']}/{config['WHATSAPP_GRAPH_VERSION']}/{media_id}")
    try:
        body = found.json()
        return str(body["url"]), str(body.get("mime_type") or ""), body.get("file_size")
    except (ValueError, KeyError, TypeError) as exc:
        raise FetchError(f"the media look-up answered no url: {short(found.text)}") from exc


def download(media_id: str) -> Download:
    """Look the id up and start downloading the file (the bytes are read as they are consumed)."""
    url, mime_type, size = lookup(media_id)
    response = _get(url, stream=True)
    return Download(
        mime_type or response.headers.get("Content-Type", ""),
        size,
        response.iter_content(_CHUNK_BYTES),
    )
