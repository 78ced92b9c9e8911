"""A redis-server of the test's own on a free port, to stop and start at will.

Tests that take Redis away cannot use the shared one; tests that only need
Redis use this too, so pub/sub channels (shared by every logical db of a
server) never mix with another test run's.
"""

import shutil
import signal
import subprocess
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests import services
from tests.live_server import free_port


class PrivateRedis:
    """`redis-server --port N --save "" --appendonly no`, restartable on the same port."""

    def __init__(self):
        self.port = free_port()
        self.process = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> "PrivateRedis":
        binary = shutil.which("redis-server")
        if binary is None:
            services.unavailable("redis-server is not installed")
        command = [binary, "--port", str(self.port), "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self._wait_until(lambda: self._answers(), "answering")
        return self

    def stop(self, kill: bool = False) -> None:
        """SIGTERM (or SIGKILL) the server and wait until its port refuses connections."""
        if self.process is None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        self.process.wait(timeout=10)
        self.process = None
        self._wait_until(lambda: not self._answers(), "stopped")

    def freeze(self) -> None:
        """SIGSTOP: the port still accepts connections, but nothing answers."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def _answers(self) -> bool:
        try:
            probe = redis.Redis(port=self.port, socket_timeout=0.5, retry=Retry(NoBackoff(), 0))
            return probe.ping()
        except redis.exceptions.RedisError:
            return False

    def _wait_until(self, condition, what: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on port {self.port} not {what}")
            time.sleep(0.02)

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis.from_url(self.url(db), socket_timeout=2)
