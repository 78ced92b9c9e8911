"""Meta's webhook envelopes, shaped after the examples of Meta's "messages webhook reference".

Each builder returns one part (a message or a status); `envelope()` wraps
changes the way Meta batches them, and `signed()` gives the body and headers
Meta would send.
"""

import base64
import hashlib
import itertools
import json
import time

from app.webhooks.meta_signature import META_SIGNATURE_HEADER, sign

APP_SECRET = "test-meta-app-secret"
VERIFY_TOKEN = "test-verify-token"
PHONE_NUMBER_ID = "106540352242922"
CUSTOMER = "905551110000"  # a wa_id: the number without +
_wamids = itertools.count(1)


def wamid() -> str:
    return f"wamid.HBgMOTA1NTUxMTEwMDAwFQIAEhgU{next(_wamids):012d}"


def message(kind: str, part, *, sender: str = CUSTOMER, at: int | None = None, **extra) -> dict:
    """An inbound message of `kind` whose `kind` part is `part` (sent now unless `at`)."""
    at = int(time.time()) if at is None else at
    found = {"from": sender, "id": extra.pop("id", None) or wamid(), "timestamp": str(at)}
    found["type"] = kind
    if part is not None:
        found[kind] = part
    return {**found, **extra}


def text(body: str, **kw) -> dict:
    return message("text", {"body": body}, **kw)


def location(**kw) -> dict:
    place = {
        "latitude": 41.0082,
        "longitude": 28.9784,
        "name": "Sultanahmet",
        "address": "Fatih, İstanbul",
    }
    return message("location", place, **kw)


def contacts(**kw) -> dict:
    card = {
        "name": {"formatted_name": "Barbara Johnson", "first_name": "Barbara"},
        "phones": [{"phone": "+1 (940) 555-1234", "type": "HOME", "wa_id": "19405551234"}],
    }
    return message("contacts", [card], **kw)


def button_reply(**kw) -> dict:
    answer = {"type": "button_reply", "button_reply": {"id": "change-button", "title": "Değiştir"}}
    return message("interactive", answer, **kw)


def list_reply(**kw) -> dict:
    answer = {
        "type": "list_reply",
        "list_reply": {"id": "priority_express", "title": "Express", "description": "Next day"},
    }
    return message("interactive", answer, **kw)


def quick_reply_button(**kw) -> dict:
    return message("button", {"payload": "STOP_PROMOS", "text": "Stop promotions"}, **kw)


def reaction(to_wamid: str, emoji: str = "\U0001f600", **kw) -> dict:
    return message("reaction", {"message_id": to_wamid, "emoji": emoji}, **kw)


def unsupported(**kw) -> dict:
    error = {
        "code": 131051,
        "title": "Message type unknown",
        "message": "Message type unknown",
        "error_data": {"details": "Message type is currently not supported."},
    }
    return message("unsupported", None, errors=[error], **kw)


def image(
    media_id: str = "1013859600285441",
    caption: str = "Faturam",
    data: bytes = b"",
    mime_type: str = "image/jpeg",
    **kw,
) -> dict:
    """An image by media id; `data` gives the sha256 Meta sends for the file's bytes."""
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    part = {"caption": caption, "mime_type": mime_type, "sha256": digest, "id": media_id}
    return message("image", part, **kw)


def status(reply_wamid: str, state: str, *, at: int | None = None, error: dict | None = None):
    at = int(time.time()) if at is None else at
    found = {"id": reply_wamid, "status": state, "timestamp": str(at), "recipient_id": CUSTOMER}
    if error is not None:
        found["errors"] = [error]
    return found


def meta_error(code: int, title: str, details: str) -> dict:
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details},
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
    }


def change(
    messages=(),
    statuses=(),
    *,
    number: str = PHONE_NUMBER_ID,
    name: str = "Ayşe Kaya",
    sender: str = CUSTOMER,
    field: str = "messages",
) -> dict:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": number},
    }
    if messages:
        value["contacts"] = [{"profile": {"name": name}, "wa_id": sender}]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return {"value": value, "field": field}


def envelope(*changes: dict, entries: int = 1) -> dict:
    """Meta's envelope; `entries` > 1 spreads the changes over that many entries."""
    groups = [list(changes[i::entries]) for i in range(entries)]
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": group} for group in groups if group],
    }


def signed(body: dict, secret: str = APP_SECRET) -> tuple[bytes, dict]:
    """The raw body and the headers Meta sends with it."""
    raw = json.dumps(body, ensure_ascii=False).encode()
    return raw, {"Content-Type": "application/json", META_SIGNATURE_HEADER: sign(secret, raw)}
