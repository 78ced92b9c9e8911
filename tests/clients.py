"""Real socket clients for integration tests: python-socketio and the npm socket.io-client."""

import json
import queue
import subprocess
import threading
import time
from pathlib import Path

import socketio

ROOT = Path(__file__).resolve().parent.parent


class PyClient:
    """A python-socketio client that records every event it receives, in order."""

    def __init__(
        self, url: str, token: str, last_event_id: int | None = None, connect: bool = True
    ):
        self.url = url
        self.events: list[tuple[str, dict]] = []
        self._arrived = threading.Condition()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("*", self._record)
        self.auth = {"token": token}
        if last_event_id is not None:
            self.auth["lastEventId"] = last_event_id
        if connect:
            self.connect()

    def _record(self, name, data=None):
        with self._arrived:
            self.events.append((name, data))
            self._arrived.notify_all()

    def connect(self) -> None:
        self.sio.connect(self.url, auth=self.auth, transports=["websocket"], wait_timeout=10)

    def of(self, name: str) -> list[dict]:
        return [data for event, data in self.events if event == name]

    def wait_for(self, name: str, count: int = 1, timeout: float = 10) -> list[dict]:
        """Block until `count` events of this name arrived; returns all of them."""
        return self._wait(lambda: self.of(name), name, count, timeout)

    def wait_after(self, name: str, last_event_id: int, count: int, timeout: float = 10):
        """Block until `count` events of this name newer than last_event_id arrived; returns them.

        A replay may first re-send events committed just before last_event_id
        (the replay margin, docs/deploy.md); a client drops those it has.
        """

        def newer() -> list[dict]:
            return [e for e in self.of(name) if e["eventId"] > last_event_id]

        return self._wait(newer, name, count, timeout)

    def _wait(self, found, name: str, count: int, timeout: float) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(found()) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{count} x {name} not received; got {self.events}")
                self._arrived.wait(remaining)
        return found()

    def call(self, name: str, data, timeout: float = 10):
        return self.sio.call(name, data, timeout=timeout)

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


class JsClient:
    """The official socket.io-client 4.x in Node, driven through tests/js/listen.js."""

    def __init__(self, url: str, token: str, last_event_id: int | None = None):
        args = ["node", str(ROOT / "tests/js/listen.js"), url, token]
        if last_event_id is not None:
            args.append(str(last_event_id))
        self.process = subprocess.Popen(
            args, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        self.lines: queue.Queue = queue.Queue()
        self.seen: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(json.loads(line))

    def wait_for(self, predicate, timeout: float = 10) -> dict:
        """The first output line (including earlier unconsumed ones) matching predicate."""
        for line in self.seen:
            if predicate(line):
                self.seen.remove(line)
                return line
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching line; unmatched: {self.seen}")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if predicate(line):
                return line
            self.seen.append(line)

    def wait_event(self, name: str, timeout: float = 10) -> dict:
        return self.wait_for(
            lambda line: line["type"] == "event" and line["event"] == name, timeout
        )["data"]

    def emit(self, name: str, data, ack: bool = True) -> None:
        self.process.stdin.write(json.dumps({"emit": name, "data": data, "ack": ack}) + "\n")
        self.process.stdin.flush()

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.stdin.write(json.dumps({"exit": True}) + "\n")
                self.process.stdin.flush()
                self.process.wait(timeout=5)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.process.kill()
