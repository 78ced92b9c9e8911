"""Rich messages from the n8n webhook, stored in both storages, served by GET /api/media.

Every test runs twice: local files, and S3 on moto's standalone server.
"""

import io
import itertools
import json
import os

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.extensions import db
from app.models import Event, Media, Message
from tests import media_samples as samples
from tests.conftest import WEBHOOK_SECRET, received, webhook_body
from tests.media_samples import FileServer
from tests.moto_s3 import MotoS3

_buckets = itertools.count(1)


@pytest.fixture(scope="module")
def moto():
    with MotoS3() as server:
        yield server


@pytest.fixture(params=["local", "s3"])
def stored_keys(request, app, tmp_path):
    """Configures the app's storage; returns a function listing the stored keys."""
    if request.param == "local":
        app.config["MEDIA_ROOT"] = str(tmp_path / "media")
        root = tmp_path / "media"
        return lambda: sorted(
            str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()
        )
    moto = request.getfixturevalue("moto")
    bucket = moto.bucket(f"media-{os.getpid()}-{next(_buckets)}")
    app.config.update(MEDIA_S3_BUCKET=bucket, MEDIA_S3_ENDPOINT_URL=moto.endpoint)
    return lambda: sorted(moto.keys(bucket))


@pytest.fixture
def owner(people):
    return people["owner"]


@pytest.fixture
def files():
    with FileServer() as server:
        yield server


@pytest.fixture
def allow_private(app):
    """The file server is on loopback, which downloads refuse unless allowed."""
    app.config["MEDIA_FETCH_ALLOW_PRIVATE"] = True


def post_multipart(client, payload: dict, data: bytes, filename="file.bin", mimetype=None):
    return client.post(
        "/api/webhooks/n8n/message",
        data={"payload": json.dumps(payload), "file": (_stream(data), filename, mimetype)},
        headers={"X-Webhook-Secret": WEBHOOK_SECRET},
        content_type="multipart/form-data",
    )


def _stream(data: bytes):
    return io.BytesIO(data)


def counts():
    return (
        db.session.scalar(select(func.count()).select_from(Message)),
        db.session.scalar(select(func.count()).select_from(Media)),
    )


def test_multipart_image_is_stored_sniffed_thumbnailed_and_served(
    client, owner, socket_for, stored_keys
):
    watcher = socket_for(owner)
    image = samples.png()
    payload = webhook_body(owner, message_type="image", message_id="wamid.img1")
    del payload["message_content"]
    payload["media"] = {"mime_type": "image/png", "caption": "Fatura", "filename": "f.png"}
    response = post_multipart(client, payload, image, "f.png", "image/png")
    assert response.status_code == 201, response.get_json()
    event = received(watcher)["new_message"][0]
    media = event["media"]
    assert event["messageType"] == "image" and event["messageContent"] == "Fatura"
    assert media["mimeType"] == "image/png" and media["size"] == len(image)
    assert media["filename"] == "f.png" and media["caption"] == "Fatura" and not media["voice"]
    served = client.get(media["url"])  # no bearer token: the url's own credential
    assert served.status_code == 200 and served.data == image
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Security-Policy"] == "sandbox"
    assert served.headers["Content-Disposition"].startswith("inline")
    thumbnail = client.get(media["thumbnailUrl"])
    assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(thumbnail.data)) as small:
        assert small.format == "JPEG" and small.size == (320, 240)
    assert len(stored_keys()) == 2  # the file and its thumbnail


def test_media_by_url_is_downloaded(client, owner, files, allow_private, headers_for, stored_keys):
    files.files["/voice.wav"] = sound = samples.wav()
    payload = webhook_body(owner, message_type="audio", message_id="wamid.voice")
    del payload["message_content"]
    payload["media"] = {"url": files.url("/voice.wav"), "mime_type": "audio/wav", "voice": True}
    response = client.post(
        "/api/webhooks/n8n/message", json=payload, headers={"X-Webhook-Secret": WEBHOOK_SECRET}
    )
    assert response.status_code == 201, response.get_json()
    conversation_id = response.get_json()["data"]["conversationId"]
    listed = client.get(
        f"/api/conversations/{conversation_id}/messages", headers=headers_for(owner)
    ).get_json()
    media = listed[0]["media"]
    assert media["voice"] is True and media["mimeType"] == "audio/x-wav"
    assert client.get(media["url"]).data == sound
    again = client.post(
        "/api/webhooks/n8n/message", json=payload, headers={"X-Webhook-Secret": WEBHOOK_SECRET}
    )
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    assert files.requested == ["/voice.wav"]  # a repeat is answered before any download
    assert len(stored_keys()) == 1


def test_redirects_are_followed(client, owner, files, allow_private, stored_keys):
    files.files["/real.pdf"] = samples.pdf()
    files.redirects["/moved"] = "/real.pdf"
    payload = webhook_body(owner, message_type="document", message_content="PDF")
    payload["media"] = {"url": files.url("/moved"), "mime_type": "application/pdf"}
    response = client.post(
        "/api/webhooks/n8n/message", json=payload, headers={"X-Webhook-Secret": WEBHOOK_SECRET}
    )
    assert response.status_code == 201
    assert files.requested == ["/moved", "/real.pdf"]


def test_failed_download_is_502_and_stores_nothing(
    client, owner, files, allow_private, socket_for, stored_keys
):
    watcher = socket_for(owner)
    payload = webhook_body(owner, message_type="image", message_content="x")
    payload["media"] = {"url": files.url("/missing.jpg"), "mime_type": "image/jpeg"}
    response = client.post(
        "/api/webhooks/n8n/message", json=payload, headers={"X-Webhook-Secret": WEBHOOK_SECRET}
    )
    assert response.status_code == 502
    assert response.get_json()["error"]["code"] == "bad_gateway"
    assert counts() == (0, 0) and stored_keys() == []
    assert "new_message" not in received(watcher)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.1.2.3", "[::1]", "169.254.169.254"])
def test_private_and_loopback_addresses_are_refused(client, owner, host, stored_keys):
    payload = webhook_body(owner, message_type="image", message_content="x")
    payload["media"] = {"url": f"http://{host}/a.jpg", "mime_type": "image/jpeg"}
    response = client.post(
        "/api/webhooks/n8n/message", json=payload, headers={"X-Webhook-Secret": WEBHOOK_SECRET}
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "media.url"
    assert counts() == (0, 0) and stored_keys() == []


def test_a_redirect_to_a_private_address_is_checked_again(
    app, client, owner, files, stored_keys, monkeypatch
):
    """The first hop is allowed (private allowed), the check is then turned on for the
    hop that follows: the redirect's target is refused on its own."""
    from app.media import fetch

    files.redirects["/hop"] = "http://127.0.0.1:9/secret"
    checked = []
    real_check = fetch.check_destination

    def check(url, allow_private):
        checked.append(url)
        return real_check(url, allow_private and len(checked) == 1)

    monkeypatch.setattr(fetch, "check_destination", check)
    payload = webhook_body(owner, message_type="image", message_content="x")
    payload["media"] = {"url": files.url("/hop"), "mime_type": "image/jpeg"}
    app.config["MEDIA_FETCH_ALLOW_PRIVATE"] = True
    response = client.post(
        "/api/webhooks/n8n/message", json=payload, headers={"X-Webhook-Secret": WEBHOOK_SECRET}
    )
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "media.url"
    assert checked == [files.url("/hop"), "http://127.0.0.1:9/secret"]
    assert counts() == (0, 0)


def test_a_lying_type_is_refused(client, owner, stored_keys):
    payload = webhook_body(owner, message_type="image", message_content="x")
    payload["media"] = {"mime_type": "image/jpeg"}
    response = post_multipart(client, payload, samples.pdf(), "a.jpg", "image/jpeg")
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "media"
    assert counts() == (0, 0) and stored_keys() == []


def test_an_oversize_sticker_is_413(client, owner, stored_keys):
    payload = webhook_body(owner, message_type="sticker", message_content="x")
    payload["media"] = {"mime_type": "image/webp"}
    big = samples.webp() + b"\0" * (500 * 1024)
    response = post_multipart(client, payload, big, "s.webp", "image/webp")
    assert response.status_code == 413
    assert counts() == (0, 0) and stored_keys() == []


def test_a_sha256_that_does_not_match_is_refused(client, owner, stored_keys):
    payload = webhook_body(owner, message_type="sticker", message_content="x")
    payload["media"] = {"mime_type": "image/webp", "sha256": "AAAA"}
    response = post_multipart(client, payload, samples.webp(), "s.webp", "image/webp")
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "media.sha256"
    assert stored_keys() == []


def test_json_bodies_keep_the_64_kib_limit(client, owner, stored_keys):
    payload = webhook_body(owner, message_content="x" * 70_000)
    response = client.post(
        "/api/webhooks/n8n/message", json=payload, headers={"X-Webhook-Secret": WEBHOOK_SECRET}
    )
    assert response.status_code == 413


def test_documents_are_attachments_and_ranges_answer_206(
    client, owner, people, headers_for, stored_keys
):
    document = samples.pdf()
    payload = webhook_body(owner, message_type="document", message_content="Teklif")
    payload["media"] = {"mime_type": "application/pdf", "filename": "teklif ü.pdf"}
    assert post_multipart(client, payload, document, "t.pdf", "application/pdf").status_code == 201
    media_id = db.session.scalar(select(Media.id))
    path = f"/api/media/{media_id}"
    whole = client.get(path, headers=headers_for(owner))
    assert whole.status_code == 200 and whole.data == document
    assert whole.mimetype == "application/pdf"
    assert whole.headers["Content-Disposition"].startswith("attachment")
    assert "teklif%20%C3%BC.pdf" in whole.headers["Content-Disposition"]
    part = client.get(path, headers={**headers_for(owner), "Range": "bytes=5-9"})
    assert part.status_code == 206 and part.data == document[5:10]
    assert part.headers["Content-Range"] == f"bytes 5-9/{len(document)}"
    assert client.get(path, headers=headers_for(people["admin"])).status_code == 200
    assert client.get(path, headers=headers_for(people["other"])).status_code == 403
    assert client.get(path).status_code == 401
    assert client.get(path + "?token=forged").status_code == 401
    assert client.get("/api/media/med_unknown", headers=headers_for(owner)).status_code == 404


def test_location_quote_and_reaction(client, owner, socket_for, stored_keys):
    watcher = socket_for(owner)
    first = webhook_body(owner, message_id="wamid.first")
    assert (
        client.post(
            "/api/webhooks/n8n/message", json=first, headers={"X-Webhook-Secret": WEBHOOK_SECRET}
        ).status_code
        == 201
    )
    place = {"latitude": 41.0082, "longitude": 28.9784, "name": "Galata", "address": "Beyoğlu"}
    reply = webhook_body(owner, message_type="location", message_id="wamid.second")
    del reply["message_content"]
    reply.update(location=place, context={"message_id": "wamid.first"})
    assert (
        client.post(
            "/api/webhooks/n8n/message", json=reply, headers={"X-Webhook-Secret": WEBHOOK_SECRET}
        ).status_code
        == 201
    )
    reaction = webhook_body(owner, message_type="reaction")
    del reaction["message_content"]
    reaction["reaction"] = {"message_id": "wamid.first", "emoji": "👍"}
    answer = client.post(
        "/api/webhooks/n8n/message", json=reaction, headers={"X-Webhook-Secret": WEBHOOK_SECRET}
    )
    assert answer.status_code == 200
    events = received(watcher)
    first_event, second_event = events["new_message"]
    assert answer.get_json()["data"]["id"] == first_event["id"]
    assert second_event["location"] == place and second_event["replyTo"] == first_event["id"]
    assert second_event["messageType"] == "location"
    [reacted] = events["message_reaction"]
    assert reacted["reactions"] == {"👍": 1} and reacted["messageId"] == first_event["id"]
    assert reacted["eventId"] == db.session.scalar(select(func.max(Event.id)))
    assert counts() == (2, 0)
    reaction["reaction"]["emoji"] = ""
    client.post(
        "/api/webhooks/n8n/message", json=reaction, headers={"X-Webhook-Secret": WEBHOOK_SECRET}
    )
    assert received(watcher)["message_reaction"][0]["reactions"] == {}


def test_a_reaction_to_an_unknown_message_is_404(client, owner, stored_keys):
    reaction = webhook_body(owner, message_type="reaction")
    reaction["reaction"] = {"message_id": "wamid.nothing", "emoji": "❤️"}
    response = client.post(
        "/api/webhooks/n8n/message", json=reaction, headers={"X-Webhook-Secret": WEBHOOK_SECRET}
    )
    assert response.status_code == 404
    assert response.get_json()["error"]["field"] == "reaction.message_id"


@pytest.mark.parametrize("kind", ["interactive", "button", "contacts"])
def test_other_types_are_stored_with_their_text(client, owner, kind, socket_for, stored_keys):
    watcher = socket_for(owner)
    body = webhook_body(owner, message_type=kind, message_content="Evet, onaylıyorum")
    response = client.post(
        "/api/webhooks/n8n/message", json=body, headers={"X-Webhook-Secret": WEBHOOK_SECRET}
    )
    assert response.status_code == 201
    event = received(watcher)["new_message"][0]
    assert event["messageType"] == kind and event["messageContent"] == "Evet, onaylıyorum"


def test_unsupported_needs_no_text(client, owner, stored_keys):
    body = webhook_body(owner, message_type="unsupported")
    del body["message_content"]
    response = client.post(
        "/api/webhooks/n8n/message", json=body, headers={"X-Webhook-Secret": WEBHOOK_SECRET}
    )
    assert response.status_code == 201


def test_prune_deletes_old_files(app, client, owner, runner, stored_keys):
    payload = webhook_body(owner, message_type="sticker", message_content="x")
    payload["media"] = {"mime_type": "image/webp"}
    assert post_multipart(client, payload, samples.webp(), "s.webp").status_code == 201
    kept = runner.invoke(args=["media", "prune", "--older-than", "1"])
    assert "pruned 0" in kept.output and len(stored_keys()) == 1
    pruned = runner.invoke(args=["media", "prune", "--older-than", "0"])
    assert "pruned 1" in pruned.output
    assert stored_keys() == [] and counts() == (1, 0)


def test_unfinished_uploads_are_deleted_after_their_time(app, owner, socket_for, stored_keys):
    from datetime import timedelta

    from app.media import uploads
    from app.models import MediaUpload

    conversation_id = _conversation_of(app, owner)
    tab = socket_for(owner)
    declared = {"conversationId": conversation_id, "filename": "a.txt", "mimeType": "text/plain"}
    stale = tab.emit("upload_start", {**declared, "size": 10}, callback=True)["uploadId"]
    fresh = tab.emit("upload_start", {**declared, "size": 10}, callback=True)["uploadId"]
    chunk = {"uploadId": stale, "offset": 0, "data": b"hello"}
    assert tab.emit("upload_chunk", chunk, callback=True) == {"ok": True, "received": 5}
    db.session.get(MediaUpload, stale).created_at -= timedelta(seconds=3601)
    db.session.commit()
    assert uploads.expire(app) == 1
    assert db.session.get(MediaUpload, stale) is None and not uploads.part_path(stale).exists()
    assert db.session.get(MediaUpload, fresh) is not None
    assert tab.emit("upload_chunk", chunk, callback=True) == {"error": "Unknown upload"}


def _conversation_of(app, owner) -> int:
    response = app.test_client().post(
        "/api/webhooks/n8n/message",
        json=webhook_body(owner),
        headers={"X-Webhook-Secret": WEBHOOK_SECRET},
    )
    return response.get_json()["data"]["conversationId"]


def test_a_signed_multipart_request_is_accepted(client, owner, stored_keys):
    """The HMAC covers the raw multipart body, which the form parser then reads again."""
    import time

    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    from app.webhooks.verification import sign

    payload = webhook_body(owner, message_type="sticker", message_content="x")
    payload["media"] = {"mime_type": "image/webp"}
    boundary, body = encode_multipart(
        {
            "payload": json.dumps(payload),
            "file": FileStorage(io.BytesIO(samples.webp()), "s.webp", content_type="image/webp"),
        }
    )
    timestamp = str(int(time.time()))
    headers = {
        "X-Signature-256": sign(WEBHOOK_SECRET, timestamp, body),
        "X-Signature-Timestamp": timestamp,
    }
    content_type = f"multipart/form-data; boundary={boundary}"
    response = client.post(
        "/api/webhooks/n8n/message", data=body, headers=headers, content_type=content_type
    )
    assert response.status_code == 201, response.get_json()
    tampered = body.replace(b"image/webp", b"image/png!")
    response = client.post(
        "/api/webhooks/n8n/message", data=tampered, headers=headers, content_type=content_type
    )
    assert response.status_code == 401
    assert len(stored_keys()) == 1


def test_rest_multipart_reply_refusals(app, client, owner, people, headers_for, stored_keys):
    conversation_id = _conversation_of(app, owner)
    path = f"/api/conversations/{conversation_id}/messages"

    def post(user, data):
        return client.post(
            path, data=data, headers=headers_for(user), content_type="multipart/form-data"
        )

    picture = (io.BytesIO(samples.png(64, 64)), "p.png", "image/png")
    assert post(people["other"], {"file": picture}).status_code == 403
    missing = post(owner, {"content": "no file"})
    assert missing.status_code == 400 and missing.get_json()["error"]["field"] == "file"
    lying = post(owner, {"file": (io.BytesIO(samples.pdf()), "p.png", "image/png")})
    assert lying.status_code == 400 and lying.get_json()["error"]["field"] == "media"
    big = (io.BytesIO(samples.png(64, 64) + b"\0" * (5 * 1024 * 1024)), "p.png", "image/png")
    assert post(owner, {"file": big}).status_code == 413
    assert stored_keys() == [] and counts() == (1, 0)
    sent = post(owner, {"file": (io.BytesIO(samples.png(64, 64)), "p.png", "image/png")})
    assert sent.status_code == 201
    body = sent.get_json()
    assert body["messageType"] == "image" and body["status"] == "pending"
    assert body["media"]["thumbnailUrl"] and body["messageContent"] == ""


def test_webhook_media_refusals(client, owner, stored_keys):
    def post(**fields):
        return client.post(
            "/api/webhooks/n8n/message",
            json=webhook_body(owner, **fields),
            headers={"X-Webhook-Secret": WEBHOOK_SECRET},
        )

    as_text = post(message_type="text", media={"url": "http://x.test/a", "mime_type": "image/png"})
    assert as_text.get_json()["error"]["field"] == "message_type"
    no_url = post(message_type="image", media={"mime_type": "image/png"})
    assert no_url.get_json()["error"]["field"] == "media.url"
    body = webhook_body(owner, message_type="image")
    del body["message_content"]
    nothing = client.post(
        "/api/webhooks/n8n/message", json=body, headers={"X-Webhook-Secret": WEBHOOK_SECRET}
    )
    assert nothing.status_code == 400 and nothing.get_json()["error"]["field"] == "media"
    ftp = post(message_type="image", media={"url": "ftp://x.test/a", "mime_type": "image/png"})
    assert ftp.get_json()["error"]["field"] == "media.url"
    far = post(message_type="location", location={"latitude": 91, "longitude": 0})
    assert far.status_code == 400 and far.get_json()["error"]["field"].startswith("location")
    assert counts() == (0, 0) and stored_keys() == []
