"""A real server process for integration tests, started as the Procfile starts it.

gunicorn with the gevent-websocket worker, one worker, on a free port, on its
own database (a temporary SQLite file, or a fresh PostgreSQL database with
database="postgres"), optionally with REDIS_URL.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from tests import services

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WEBHOOK_SECRET = "live-webhook-secret"
PASSWORD = "live-password-123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """One gunicorn process; start(), stop(), restart() keep the port and database."""

    def __init__(self, database: str | None = None, env: dict | None = None, database_url=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._tmp = tempfile.mkdtemp(prefix="inbox-live-")
        self._own_database = database_url is None
        if database_url:
            self.database_url = database_url
        elif (database or os.environ.get("TEST_DATABASE")) == "postgres":
            self.database_url = services.create_postgres_database()
        else:
            self.database_url = f"sqlite:///{self._tmp}/inbox.db"
        self.env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": "live-secret-key-long-enough-for-hs256-signing",
            "JWT_SECRET_KEY": "live-jwt-secret-key-long-enough-for-hs256",
            "N8N_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "PORT": str(self.port),
            "FLASK_APP": "wsgi",
            "MEDIA_ROOT": f"{self._tmp}/media",
            "MEDIA_UPLOAD_DIR": f"{self._tmp}/uploads",
            **(env or {}),
        }
        self.process = None
        self.log_path = Path(self._tmp) / "server.log"

    def flask(self, *args: str) -> str:
        """Run a `flask` CLI command against this server's database; returns stdout."""
        result = subprocess.run(
            [str(BIN / "flask"), *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed: {result.stderr}")
        return result.stdout

    def start(self) -> "LiveServer":
        if self.process is None and not Path(self._tmp, ".migrated").exists():
            self.flask("db", "upgrade")
            Path(self._tmp, ".migrated").touch()
        command = [
            str(BIN / "gunicorn"),
            "-k",
            "geventwebsocket.gunicorn.workers.GeventWebSocketWorker",
            "-w",
            "1",
            "--no-control-socket",
            "--graceful-timeout",
            "2",
            "-b",
            f"127.0.0.1:{self.port}",
            "wsgi:app",
        ]
        log = open(self.log_path, "ab")
        # Its own process group, so a kill reaches the gunicorn worker too.
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True
        )
        self._wait_healthy()
        return self

    def _wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            try:
                if requests.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server not healthy in {timeout}s: {self.log_path.read_text()[-3000:]}")

    def stop(self, kill: bool = False) -> None:
        """Stop gracefully (SIGTERM to gunicorn), or crash it: SIGKILL to master and worker."""
        if self.process is None:
            return
        if kill:
            os.killpg(self.process.pid, signal.SIGKILL)
        else:
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._wait_group_gone(self.process.pid)
        self.process = None

    @staticmethod
    def _wait_group_gone(pgid: int, timeout: float = 10) -> None:
        """Wait until no process of the group is left (a worker outliving its master)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        os.killpg(pgid, signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        if self._own_database and self.database_url.startswith("postgres"):
            services.drop_postgres_database(self.database_url)
        shutil.rmtree(self._tmp, ignore_errors=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    # What a client of the server does.

    def create_user(self, email: str, role: str = "USER", name: str = "") -> int:
        args = ["users", "create", email, "--password", PASSWORD, "--role", role]
        return int(self.flask(*args, *(["--name", name] if name else [])).strip())

    def login(self, email: str, password: str = PASSWORD) -> dict:
        response = requests.post(
            self.url + "/api/auth/login", json={"email": email, "password": password}, timeout=10
        )
        response.raise_for_status()
        return response.json()

    def post_webhook(self, body: dict, secret: str = WEBHOOK_SECRET) -> requests.Response:
        return requests.post(
            self.url + "/api/webhooks/n8n/message",
            json=body,
            headers={"X-Webhook-Secret": secret},
            timeout=10,
        )

    def get(self, path: str, token: str, **params) -> requests.Response:
        return requests.get(
            self.url + path, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
