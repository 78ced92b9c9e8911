"""Rich messages in the panel (a real Chromium): a picture that shows, a voice note
that plays, a document, a place, a quote and a reaction; an attachment sent with a
moving progress bar, its socket cut halfway and the upload resumed."""

import json
import os

import pytest
import requests
from playwright.sync_api import expect

from tests import media_samples as samples
from tests.e2e.conftest import customer_phone, open_conversation, wait_connected, webhook
from tests.live_server import WEBHOOK_SECRET, LiveServer


@pytest.fixture(scope="module")
def server(n8n, tmp_path_factory):
    """The browser tests' server, with its media under a temporary folder."""
    env = {
        "N8N_OUTBOUND_URL": n8n.url,
        "OUTBOUND_MAX_ATTEMPTS": "1",
        "MEDIA_ROOT": str(tmp_path_factory.mktemp("media")),
    }
    live = LiveServer(env=env).start()
    live.owner_id = live.create_user("owner@example.com", name="Owner Agent")
    yield live
    live.close()


def post_file(server, phone, message_type, data, filename, mime, **extra):
    payload = {
        "user_id": server.owner_id,
        "customer_name": "Ayşe Yılmaz",
        "customer_phone": phone,
        "message_type": message_type,
        "media": {"mime_type": mime, "filename": filename, **extra.pop("media", {})},
        **extra,
    }
    response = requests.post(
        server.url + "/api/webhooks/n8n/message",
        data={"payload": json.dumps(payload)},
        files={"file": (filename, data, mime)},
        headers={"X-Webhook-Secret": WEBHOOK_SECRET},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]


def test_inbound_media_show_and_play(server, open_page, screenshot):
    phone = customer_phone()
    first = webhook(server, server.owner_id, phone, "Siparişim bu mu?", message_id="wamid.q1")
    post_file(
        server,
        phone,
        "image",
        samples.png(),
        "urun.png",
        "image/png",
        media={"caption": "Ürünün fotoğrafı"},
    )
    post_file(
        server,
        phone,
        "audio",
        samples.wav(seconds=3),
        "ses.wav",
        "audio/wav",
        media={"voice": True},
    )
    post_file(
        server,
        phone,
        "document",
        samples.pdf(),
        "fatura.pdf",
        "application/pdf",
        message_content="Fatura",
    )
    webhook(
        server,
        server.owner_id,
        phone,
        "",
        message_type="location",
        message_content=None,
        location={
            "latitude": 41.0256,
            "longitude": 28.9741,
            "name": "Galata Kulesi",
            "address": "Beyoğlu",
        },
        context={"message_id": "wamid.q1"},
    )
    webhook(
        server,
        server.owner_id,
        phone,
        None,
        message_type="reaction",
        reaction={"message_id": "wamid.q1", "emoji": "👍"},
    )
    page = open_page("owner@example.com")
    open_conversation(page, first["conversationId"])
    wait_connected(page)

    image = page.locator(".media-image")
    expect(image).to_have_count(1)
    page.wait_for_function("() => document.querySelector('.media-image').naturalWidth > 0")
    full = page.locator(".media-image-link").get_attribute("href")
    assert requests.get(server.url + full, timeout=10).content == samples.png()
    # A link whose credential no longer holds (a replayed event's, hours later) is
    # refreshed once from REST.
    page.evaluate(
        "() => { const img = document.querySelector('.media-image');"
        " img.src = img.src.replace(/token=[^&]+/, 'token=expired'); }"
    )
    page.wait_for_function(
        "() => { const img = document.querySelector('.media-image');"
        " return !img.src.includes('token=expired') && img.complete && img.naturalWidth > 0; }"
    )

    audio = page.locator(".media-audio")
    expect(audio).to_have_count(1)
    expect(page.locator(".media-voice-label")).to_contain_text("Voice message")
    audio.evaluate("a => { a.muted = true; return a.play(); }")
    page.wait_for_function(
        "() => { const a = document.querySelector('.media-audio');"
        " return a.readyState >= 2 && a.currentTime > 0.2; }"
    )

    expect(page.locator(".media-document-name")).to_have_text("fatura.pdf")
    expect(page.locator(".media-document-size")).to_have_text(f"{len(samples.pdf())} B")
    expect(page.locator(".media-location-link")).to_have_text("📍 Galata Kulesi")
    expect(page.locator(".message-quote-text")).to_have_text("Siparişim bu mu?")
    reacted = page.locator(f'.message[data-message-id="{first["id"]}"] .message-reactions')
    expect(reacted).to_have_text("👍")

    webhook(
        server,
        server.owner_id,
        phone,
        None,
        message_type="reaction",
        reaction={"message_id": "wamid.q1", "emoji": "❤️"},
    )
    expect(reacted).to_have_text("❤️")  # live, through message_reaction
    expect(page.locator(".conversation-item.active .conversation-preview")).to_have_text("Location")
    scroll_to_end = (
        "() => { const l = document.getElementById('message-list'); l.scrollTop = l.scrollHeight; }"
    )
    page.evaluate(scroll_to_end)
    screenshot(page, "panel-media.png")

    page.select_option("#lang-select", "tr")
    expect(page.locator(".media-voice-label")).to_contain_text("Sesli mesaj")
    expect(page.locator(".media-download")).to_have_text("İndir")
    expect(page.locator("#attach-button")).to_have_attribute("title", "Dosya ekle")
    expect(page.locator(".conversation-item.active .conversation-preview")).to_have_text("Konum")
    page.evaluate(scroll_to_end)
    screenshot(page, "panel-media-tr.png")


def test_an_attachment_uploads_with_progress_and_resumes_after_a_cut(
    server, open_page, screenshot, tmp_path
):
    conversation = webhook(server, server.owner_id, customer_phone(), "Videoyu atar mısınız?")
    page = open_page("owner@example.com")
    open_conversation(page, conversation["conversationId"])
    wait_connected(page)
    video = tmp_path / "tanitim.mp4"
    head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    video.write_bytes(head + os.urandom(12 * 1024 * 1024 - len(head)))
    # Record every upload_start's answer, to see the resume ask where it stood.
    page.evaluate(
        """() => {
          const client = window.socketClient;
          const call = client.call.bind(client);
          window.uploadStarts = [];
          client.call = async (event, payload, timeout) => {
            const ack = await call(event, payload, timeout);
            if (event === 'upload_start') window.uploadStarts.push(ack);
            return ack;
          };
        }"""
    )
    page.set_input_files("#attach-input", str(video))
    bar = page.locator("#upload-bar")
    expect(page.locator("#upload-progress")).to_be_visible()
    page.wait_for_function("() => document.getElementById('upload-bar').value > 0")
    first = float(bar.get_attribute("data-received"))
    page.wait_for_function(
        "v => Number(document.getElementById('upload-bar').dataset.received) > v", arg=first
    )
    screenshot(page, "panel-upload-progress.png")
    page.evaluate("() => window.socketClient.socket.io.engine.close()")  # the socket is cut
    page.wait_for_function("() => window.uploadStarts.length >= 2", timeout=30000)
    starts = page.evaluate("() => window.uploadStarts")
    assert starts[1]["uploadId"] == starts[0]["uploadId"] and starts[1]["received"] > 0
    sent = page.locator(".message-outbound .media-video")
    expect(sent).to_have_count(1, timeout=60000)
    expect(page.locator("#upload-progress")).to_be_hidden()
    src = sent.get_attribute("src")
    assert requests.get(server.url + src, timeout=30).content == video.read_bytes()
    screenshot(page, "panel-upload-sent.png")


def test_cancel_stops_an_upload(server, open_page, tmp_path):
    conversation = webhook(server, server.owner_id, customer_phone(), "Belge?")
    page = open_page("owner@example.com")
    open_conversation(page, conversation["conversationId"])
    wait_connected(page)
    document = tmp_path / "buyuk.pdf"
    document.write_bytes(samples.pdf() + os.urandom(20 * 1024 * 1024))
    page.evaluate(
        """() => {
          const client = window.socketClient;
          const call = client.call.bind(client);
          window.chunksSent = 0;
          client.call = (event, payload, timeout) => {
            if (event === 'upload_chunk') window.chunksSent += 1;
            return call(event, payload, timeout);
          };
        }"""
    )
    page.set_input_files("#attach-input", str(document))
    page.wait_for_function("() => document.getElementById('upload-bar').value > 0")
    page.click("#upload-cancel")
    expect(page.locator("#upload-progress")).to_be_hidden()
    sent = page.evaluate("() => window.chunksSent")
    page.wait_for_timeout(500)  # time for chunks that should not come
    assert page.evaluate("() => window.chunksSent") == sent
    expect(page.locator(".message-outbound")).to_have_count(0)


DROP_AND_PASTE = """async ({ bytes, how }) => {
  const file = new File([new Uint8Array(bytes)], `${how}.png`, { type: 'image/png' });
  const transfer = new DataTransfer();
  transfer.items.add(file);
  if (how === 'drop') {
    const zone = document.getElementById('conversation');
    zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, cancelable: true }));
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, cancelable: true }));
  } else {
    const input = document.getElementById('reply-input');
    input.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, cancelable: true }));
  }
}"""


def test_a_dropped_and_a_pasted_picture_are_sent(server, open_page):
    conversation = webhook(server, server.owner_id, customer_phone(), "Fotoğraf?")
    page = open_page("owner@example.com")
    open_conversation(page, conversation["conversationId"])
    wait_connected(page)
    picture = list(samples.png(200, 120))
    sent = page.locator(".message-outbound .media-image")
    page.evaluate(DROP_AND_PASTE, {"bytes": picture, "how": "drop"})
    expect(sent).to_have_count(1, timeout=20000)
    page.evaluate(DROP_AND_PASTE, {"bytes": picture, "how": "paste"})
    expect(sent).to_have_count(2, timeout=20000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.message-outbound .media-image')]"
        ".every((img) => img.complete && img.naturalWidth > 0)"
    )
    names = page.locator(".message-outbound .media-image").evaluate_all(
        "imgs => imgs.map((img) => img.alt)"
    )
    assert sorted(names) == ["drop.png", "paste.png"]
