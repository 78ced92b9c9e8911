"""What an inbound Cloud API message says, as the inbox's type and text.

Meta's `type` names the part of the message that carries it (`text`,
`location`, `interactive`, ...). The text is what the conversation list and
the panel show; media parts (an id until fetched) keep their caption.
"""

from typing import Any

from app.schemas.whatsapp import InboundMessage

MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
# Message types of the contract besides media; Meta's others become `unsupported`.
STORED_TYPES = ("text", "location", "contacts", "interactive", "button", *MEDIA_TYPES)


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _text(message: InboundMessage) -> str:
    return str(_dict(message.part("text")).get("body", ""))


def _location(message: InboundMessage) -> str:
    place = _dict(message.part("location"))
    label = ", ".join(str(place[k]) for k in ("name", "address") if place.get(k))
    where = f"{place.get('latitude')}, {place.get('longitude')}"
    return f"{label} ({where})" if label else where


def _contact_line(contact: dict) -> str:
    name = _dict(contact.get("name")).get("formatted_name", "")
    numbers = [p.get("phone") or p.get("wa_id") for p in contact.get("phones", []) if p]
    return " ".join(str(part) for part in (name, *numbers) if part)


def _contacts(message: InboundMessage) -> str:
    shared = message.part("contacts")
    cards = shared if isinstance(shared, list) else []
    return "\n".join(line for line in (_contact_line(_dict(c)) for c in cards) if line)


def _interactive(message: InboundMessage) -> str:
    """The reply a customer picked: a button's or a list row's title."""
    answer = _dict(message.part("interactive"))
    picked = _dict(answer.get(str(answer.get("type", "")))) or _dict(answer.get("button_reply"))
    return str(picked.get("title") or picked.get("body") or picked.get("id") or "")


def _button(message: InboundMessage) -> str:
    pressed = _dict(message.part("button"))
    return str(pressed.get("text") or pressed.get("payload") or "")


def _media(message: InboundMessage) -> str:
    return str(_dict(message.part(message.type)).get("caption") or "")


def _unsupported(message: InboundMessage) -> str:
    reasons = "; ".join(error.text for error in message.errors)
    return reasons or f"Unsupported message ({message.type})"


_READERS = {
    "text": _text,
    "location": _location,
    "contacts": _contacts,
    "interactive": _interactive,
    "button": _button,
    **{kind: _media for kind in MEDIA_TYPES},
}


def type_and_text(message: InboundMessage) -> tuple[str, str]:
    """(messageType, content) of an inbound message; an unknown type is `unsupported`."""
    reader = _READERS.get(message.type)
    if reader is None:
        return "unsupported", _unsupported(message)
    return message.type, reader(message)


def media_id(message: InboundMessage) -> str | None:
    """The Graph API media id of an image, audio, video, document or sticker."""
    if message.type not in MEDIA_TYPES:
        return None
    found = _dict(message.part(message.type)).get("id")
    return str(found) if found else None


def location(message: InboundMessage) -> dict | None:
    """A shared place as the inbox keeps it: {latitude, longitude, name, address}."""
    if message.type != "location":
        return None
    place = _dict(message.part("location"))
    return {
        "latitude": place.get("latitude"),
        "longitude": place.get("longitude"),
        "name": place.get("name"),
        "address": place.get("address"),
    }


def media_fetch(message: InboundMessage) -> dict | None:
    """What to fetch for a file known by its Graph media id (None for other messages)."""
    found = media_id(message)
    if found is None:
        return None
    part = _dict(message.part(message.type))
    return {
        "media_id": found,
        "mime_type": part.get("mime_type"),
        "filename": part.get("filename"),
        "caption": part.get("caption"),
        "sha256": part.get("sha256"),
        "voice": bool(part.get("voice")),
    }
