"""A Cloud API picture in the panel: the message shows at once, the picture once fetched."""

import pytest
import requests
from playwright.sync_api import expect

from tests import graph_server
from tests import whatsapp_payloads as meta
from tests.e2e.conftest import log_in, open_conversation, wait_connected
from tests.graph_server import HANG, GraphServer
from tests.live_server import LiveServer
from tests.media_samples import png


@pytest.fixture(scope="module")
def graph():
    with GraphServer() as server:
        yield server


@pytest.fixture(scope="module")
def server(graph, tmp_path_factory):
    live = LiveServer(
        env={
            "WHATSAPP_APP_SECRET": meta.APP_SECRET,
            "WHATSAPP_GRAPH_URL": graph.url,
            "WHATSAPP_GRAPH_VERSION": graph_server.VERSION,
            "WHATSAPP_ACCESS_TOKEN": graph_server.TOKEN,
            "MEDIA_ROOT": str(tmp_path_factory.mktemp("media")),
        }
    ).start()
    live.create_user("resim@example.com", name="Resim Agent")
    live.flask("numbers", "add", meta.PHONE_NUMBER_ID, "--user", "resim@example.com")
    yield live
    live.close()


def test_the_picture_appears_in_the_message_already_shown(server, graph, browser, screenshot):
    picture = png(320, 200)
    graph.media["900100"] = ("image/png", picture)
    graph.plan["media:/files/900100"] = [HANG]  # the download waits for the test
    sent = meta.image(
        media_id="900100", caption="Kargo etiketi", data=picture, mime_type="image/png"
    )
    raw, headers = meta.signed(meta.envelope(meta.change([sent])))
    response = requests.post(server.url + "/api/webhooks/whatsapp", data=raw, headers=headers)
    assert response.status_code == 200

    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        log_in(page, server.url, "resim@example.com")
        item = page.locator(".conversation-item").first
        conversation_id = int(item.get_attribute("data-conversation-id"))
        open_conversation(page, conversation_id)
        wait_connected(page)
        bubble = page.locator(".message-inbound", has=page.get_by_text("Kargo etiketi"))
        expect(bubble).to_have_count(1)
        expect(bubble.locator("img.media-image")).to_have_count(0)
        graph.release()
        expect(bubble.locator("img.media-image")).to_have_count(1)
        image = bubble.locator("img.media-image")
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        screenshot(page, "cloud-media-arrived.png")
    finally:
        context.close()
