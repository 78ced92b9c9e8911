"""A real HTTP server on a free local port playing n8n's outbound webhook.

Each reply's content picks how it is answered: `plan[content]` is a list of
answers for its successive attempts (an HTTP status, or HANG: hold the request
until `release()`, then answer 503); after the list, and for unplanned
content, it answers 200 with a WhatsApp id. Every request is recorded with the
answer it got.
"""

import threading
import time
from dataclasses import dataclass

from tests.stand_in_server import HANG, JsonHandler, StandInServer

__all__ = ["HANG", "N8nServer", "Request"]


@dataclass
class Request:
    """One POST n8n received, and what it answered."""

    body: dict
    headers: dict
    answer: int
    whatsapp_id: str | None = None

    @property
    def message_id(self) -> str:
        return self.body.get("message_id")


class _Handler(JsonHandler):
    def do_POST(self):
        n8n = self.stand_in
        body = self.read_json()
        answer = n8n.answer_for(body.get("message_content", ""))
        time.sleep(n8n.delay)
        if answer == HANG:
            n8n.hanging.set()
            n8n.wait_released()
            answer = 503
        whatsapp_id = n8n.next_wamid("test") if 200 <= answer < 300 else None
        n8n.record(Request(body, dict(self.headers), answer, whatsapp_id))
        self.send_json(answer, {"whatsapp_message_id": whatsapp_id} if whatsapp_id else {})


class N8nServer(StandInServer):
    """Start with `with N8nServer() as n8n:` or start()/stop()."""

    name = "n8n"
    Handler = _Handler

    def __init__(self):
        super().__init__()
        self.delay = 0.0  # seconds before each answer: a slower n8n
        self.hanging = threading.Event()
        self.url = f"{self.base_url}/webhook/reply"

    def for_message(self, message_id: str) -> list[Request]:
        return [r for r in self.requests if r.message_id == message_id]

    def accepted(self, message_id: str) -> list[Request]:
        """The requests for this message that n8n answered 2xx."""
        return [r for r in self.for_message(message_id) if 200 <= r.answer < 300]
