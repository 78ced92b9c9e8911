"""A real HTTP server on a free local port standing in for Meta's Graph API.

It answers what the inbox asks of WhatsApp: message sends
(POST /{version}/{phone_number_id}/messages), media look-ups
(GET /{version}/{media_id}) and media downloads (GET /files/{media_id}), each
only with the right bearer token. `plan[key]` lists the answers to a send's
successive attempts, keyed by the text body or the template name: an HTTP
status (with a Graph-style error body, `codes[key]` its error code), or HANG
(answer only after `release()`, past the client's timeout). After the list
it answers 200 with a new wamid. Every request is recorded.
"""

import re
from dataclasses import dataclass, field

from tests.stand_in_server import HANG, JsonHandler, StandInServer

__all__ = ["HANG", "TOKEN", "VERSION", "GraphServer", "Request"]

TOKEN = "test-graph-access-token"
VERSION = "v25.0"


@dataclass
class Request:
    method: str
    path: str
    headers: dict
    body: dict = field(default_factory=dict)
    answer: int = 200

    @property
    def key(self) -> str:
        """The text body or the template name of a send."""
        template = self.body.get("template") or {}
        return template.get("name") or (self.body.get("text") or {}).get("body", "")


class _Handler(JsonHandler):
    def do_POST(self):
        graph = self.stand_in
        body = self.read_json()
        request = Request("POST", self.path, dict(self.headers), body)
        if not self._authorized(request):
            return
        if not re.fullmatch(rf"/{VERSION}/[0-9]+/messages", self.path):
            return self._error(request, 404, 100, "Unknown path")
        answer = graph.answer_for(request.key)
        if answer == HANG:
            graph.wait_released()
            answer = 503
        if answer != 200:
            code = graph.codes.get(request.key, 131000)
            return self._error(request, answer, code, f"Planned failure {answer}")
        to = body.get("to")
        self._reply(
            request,
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": str(to).lstrip("+")}],
                "messages": [{"id": graph.next_wamid("graph")}],
            },
        )

    def do_GET(self):
        graph = self.stand_in
        request = Request("GET", self.path, dict(self.headers))
        if not self._authorized(request):
            return
        lookup = re.fullmatch(rf"/{VERSION}/([0-9A-Za-z_.-]+)", self.path)
        download = re.fullmatch(r"/files/([0-9A-Za-z_.-]+)", self.path)
        media_id = (lookup or download).group(1) if (lookup or download) else None
        answer = graph.answer_for(f"media:{self.path}")
        if answer == HANG:  # held until release(), then served
            graph.wait_released()
            answer = 200
        if media_id not in graph.media or answer != 200:
            status = 404 if media_id not in graph.media else answer
            return self._error(request, status, 131052, "Media download error")
        mime, data = graph.media[media_id]
        if lookup:
            return self._reply(
                request,
                200,
                {
                    "messaging_product": "whatsapp",
                    "url": f"{graph.url}/files/{media_id}",
                    "mime_type": mime,
                    "file_size": len(data),
                    "id": media_id,
                },
            )
        request.answer = 200
        graph.record(request)
        self.send_bytes(200, mime, data)

    def _authorized(self, request: Request) -> bool:
        if self.headers.get("Authorization") == f"Bearer {TOKEN}":
            return True
        self._error(request, 401, 190, "Invalid OAuth access token")
        return False

    def _error(self, request: Request, status: int, code: int, message: str) -> None:
        error = {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": message},
            "fbtrace_id": "AbCdEf",
        }
        self._reply(request, status, {"error": error})

    def _reply(self, request: Request, status: int, reply: dict) -> None:
        request.answer = status
        self.stand_in.record(request)
        self.send_json(status, reply)


class GraphServer(StandInServer):
    """Start with `with GraphServer() as graph:`; `url` is WHATSAPP_GRAPH_URL."""

    name = "the Graph API"
    Handler = _Handler

    def __init__(self):
        super().__init__()
        self.codes: dict[str, int] = {}
        self.media: dict[str, tuple[str, bytes]] = {}  # media id -> (mime type, bytes)
        self.url = self.base_url

    def sends(self) -> list[Request]:
        return [r for r in self.requests if r.method == "POST"]
