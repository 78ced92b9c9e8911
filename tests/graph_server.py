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

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HANG = "hang"
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


class GraphServer:
    """Start with `with GraphServer() as graph:`; `url` is WHATSAPP_GRAPH_URL."""

    def __init__(self):
        self.plan: dict[str, list] = {}
        self.codes: dict[str, int] = {}
        self.media: dict[str, tuple[str, bytes]] = {}  # media id -> (mime type, bytes)
        self.requests: list[Request] = []
        self._attempts: dict[str, int] = {}
        self._released = threading.Event()
        self._changed = threading.Condition()
        self._wamids = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "GraphServer":
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def release(self) -> None:
        self._released.set()

    def sends(self) -> list[Request]:
        return [r for r in self.requests if r.method == "POST"]

    def wait_for(self, predicate, timeout: float = 15) -> list[Request]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.requests):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"the Graph API did not see that; got {self.requests}")
                self._changed.wait(remaining)
            return list(self.requests)

    def _answer_for(self, key: str):
        with self._changed:
            attempt = self._attempts.get(key, 0)
            self._attempts[key] = attempt + 1
        planned = self.plan.get(key, [])
        return planned[attempt] if attempt < len(planned) else 200

    def _record(self, request: Request) -> None:
        with self._changed:
            self.requests.append(request)
            self._changed.notify_all()

    def _handler_class(self):
        graph = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                request = Request("POST", self.path, dict(self.headers), body)
                if not self._authorized(request):
                    return
                if not re.fullmatch(rf"/{VERSION}/[0-9]+/messages", self.path):
                    return self._error(request, 404, 100, "Unknown path")
                answer = graph._answer_for(request.key)
                if answer == HANG:
                    graph._released.wait(60)
                    answer = 503
                if answer != 200:
                    code = graph.codes.get(request.key, 131000)
                    return self._error(request, answer, code, f"Planned failure {answer}")
                wamid = f"wamid.graph-{next(graph._wamids)}"
                self._send(
                    request,
                    200,
                    {
                        "messaging_product": "whatsapp",
                        "contacts": [
                            {"input": body.get("to"), "wa_id": str(body.get("to")).lstrip("+")}
                        ],
                        "messages": [{"id": wamid}],
                    },
                )

            def do_GET(self):
                request = Request("GET", self.path, dict(self.headers))
                if not self._authorized(request):
                    return
                lookup = re.fullmatch(rf"/{VERSION}/([0-9A-Za-z_.-]+)", self.path)
                download = re.fullmatch(r"/files/([0-9A-Za-z_.-]+)", self.path)
                media_id = (lookup or download).group(1) if (lookup or download) else None
                answer = graph._answer_for(f"media:{self.path}")
                if answer == HANG:  # held until release(), then served
                    graph._released.wait(60)
                    answer = 200
                if media_id not in graph.media or answer != 200:
                    status = 404 if media_id not in graph.media else answer
                    return self._error(request, status, 131052, "Media download error")
                mime, data = graph.media[media_id]
                if lookup:
                    return self._send(
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
                graph._record(request)
                self.send_response(200)
                self.send_header("Content-Type", mime)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

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
                self._send(request, status, {"error": error})

            def _send(self, request: Request, status: int, reply: dict) -> None:
                request.answer = status
                graph._record(request)
                data = json.dumps(reply).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        return Handler
