"""Fetching a file by media id from the Graph API (a local stand-in): look-up, then download."""

import pytest

from app.channels import whatsapp_media
from tests import graph_server
from tests.graph_server import GraphServer

JPEG = b"\xff\xd8\xff\xe0" + b"jpeg bytes " * 10_000


@pytest.fixture
def graph(app):
    with GraphServer() as server:
        app.config.update(
            WHATSAPP_GRAPH_URL=server.url,
            WHATSAPP_GRAPH_VERSION=graph_server.VERSION,
            WHATSAPP_ACCESS_TOKEN=graph_server.TOKEN,
            OUTBOUND_TIMEOUT_SECONDS=2,
        )
        yield server


def test_a_file_is_looked_up_then_downloaded_with_the_token(graph):
    graph.media["1013859600285441"] = ("image/jpeg", JPEG)
    found = whatsapp_media.download("1013859600285441")
    assert found.mime_type == "image/jpeg" and found.size == len(JPEG)
    assert b"".join(found.chunks) == JPEG
    paths = [r.path for r in graph.requests]
    assert paths == [f"/{graph_server.VERSION}/1013859600285441", "/files/1013859600285441"]
    assert all(r.headers["Authorization"] == f"Bearer {graph_server.TOKEN}" for r in graph.requests)


def test_an_unknown_media_id_is_a_fetch_error(graph):
    with pytest.raises(whatsapp_media.FetchError, match="HTTP 404"):
        whatsapp_media.download("404404")


def test_a_failing_download_is_a_fetch_error(graph):
    graph.media["77"] = ("audio/ogg", b"OggS")
    graph.plan["media:/files/77"] = [500]
    with pytest.raises(whatsapp_media.FetchError, match="HTTP 500"):
        whatsapp_media.download("77")


def test_a_wrong_token_is_a_fetch_error(graph, app):
    graph.media["78"] = ("audio/ogg", b"OggS")
    app.config["WHATSAPP_ACCESS_TOKEN"] = "expired"
    with pytest.raises(whatsapp_media.FetchError, match="HTTP 401"):
        whatsapp_media.download("78")


def test_an_unreachable_graph_api_is_a_fetch_error(app):
    app.config.update(WHATSAPP_GRAPH_URL="http://127.0.0.1:9", OUTBOUND_TIMEOUT_SECONDS=1)
    with pytest.raises(whatsapp_media.FetchError, match="unreachable"):
        whatsapp_media.download("1")
