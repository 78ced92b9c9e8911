"""What the local stand-ins for third-party services (n8n, Meta's Graph API) share.

Each is a real HTTP server on a free loopback port, in a thread of the test
process. `plan[key]` lists the answers to a key's successive attempts (an HTTP
status, or HANG: hold the request until `release()`); after the list they
answer 200. Every request is recorded, and `wait_for` blocks until the
recorded requests satisfy a predicate.
"""

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HANG = "hang"


class StandInServer:
    """Start with `with Server() as server:` or start()/stop(); subclasses give
    `Handler` (a JsonHandler) and `name` (for timeout messages)."""

    name = "the stand-in"
    Handler: type[BaseHTTPRequestHandler]

    def __init__(self):
        self.plan: dict[str, list] = {}
        self.requests: list = []
        self._attempts: dict[str, int] = {}
        self._released = threading.Event()
        self._changed = threading.Condition()
        self._wamids = itertools.count(1)
        handler = type("BoundHandler", (self.Handler,), {"stand_in": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self):
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
        """Let held (HANG) requests finish."""
        self._released.set()

    def wait_released(self) -> None:
        self._released.wait(60)

    def next_wamid(self, prefix: str) -> str:
        return f"wamid.{prefix}-{next(self._wamids)}"

    def answer_for(self, key: str):
        """The planned answer to this key's next attempt (200 past the plan)."""
        with self._changed:
            attempt = self._attempts.get(key, 0)
            self._attempts[key] = attempt + 1
        planned = self.plan.get(key, [])
        return planned[attempt] if attempt < len(planned) else 200

    def record(self, request) -> None:
        with self._changed:
            self.requests.append(request)
            self._changed.notify_all()

    def wait_for(self, predicate, timeout: float = 15) -> list:
        """Block until predicate(requests) is true; returns the requests."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.requests):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{self.name} did not see that; got {self.requests}")
                self._changed.wait(remaining)
            return list(self.requests)


class JsonHandler(BaseHTTPRequestHandler):
    """A request handler that reads and answers JSON; `stand_in` is its server."""

    stand_in: StandInServer

    def read_json(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def send_json(self, status: int, reply: dict) -> None:
        self.send_bytes(status, "application/json", json.dumps(reply).encode())

    def send_bytes(self, status: int, content_type: str, data: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the server that asked was killed meanwhile

    def log_message(self, *args):
        pass
