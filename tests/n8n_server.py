"""A real HTTP server on a free local port playing n8n's outbound webhook.

Each reply's content picks how it is answered: `plan[content]` is a list of
answers for its successive attempts (an HTTP status, or HANG: hold the request
until `release()`, then answer 503); after the list, and for unplanned
content, it answers 200 with a WhatsApp id. Every request is recorded with the
answer it got.
"""

import itertools
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HANG = "hang"


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


class N8nServer:
    """Start with `with N8nServer() as n8n:` or start()/stop()."""

    def __init__(self):
        self.plan: dict[str, list] = {}
        self.delay = 0.0  # seconds before each answer: a slower n8n
        self.requests: list[Request] = []
        self.hanging = threading.Event()
        self._released = threading.Event()
        self._changed = threading.Condition()
        self._wamids = itertools.count(1)
        self._attempts: dict[str, int] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhook/reply"

    def start(self) -> "N8nServer":
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
        """Let a held (HANG) request finish."""
        self._released.set()

    def _answer_for(self, content: str):
        with self._changed:
            attempt = self._attempts.get(content, 0)
            self._attempts[content] = attempt + 1
        planned = self.plan.get(content, [])
        return planned[attempt] if attempt < len(planned) else 200

    def _record(self, request: Request) -> None:
        with self._changed:
            self.requests.append(request)
            self._changed.notify_all()

    def for_message(self, message_id: str) -> list[Request]:
        return [r for r in self.requests if r.message_id == message_id]

    def accepted(self, message_id: str) -> list[Request]:
        """The requests for this message that n8n answered 2xx."""
        return [r for r in self.for_message(message_id) if 200 <= r.answer < 300]

    def wait_for(self, predicate, timeout: float = 15) -> list[Request]:
        """Block until predicate(requests) is true; returns the requests."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.requests):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"n8n did not see what was expected; got {self.requests}")
                self._changed.wait(remaining)
            return list(self.requests)

    def _handler_class(self):
        n8n = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                answer = n8n._answer_for(body.get("message_content", ""))
                time.sleep(n8n.delay)
                if answer == HANG:
                    n8n.hanging.set()
                    n8n._released.wait(60)
                    answer = 503
                whatsapp_id = f"wamid.test-{next(n8n._wamids)}" if 200 <= answer < 300 else None
                n8n._record(Request(body, dict(self.headers), answer, whatsapp_id))
                self._send(answer, {"whatsapp_message_id": whatsapp_id} if whatsapp_id else {})

            def _send(self, status: int, reply: dict) -> None:
                data = json.dumps(reply).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the server that asked was killed meanwhile

            def log_message(self, *args):
                pass

        return Handler
