"""Starting and stopping the servers under test: ours (as the Procfile runs it) and the Node peer.

Every server listens on 127.0.0.1 only and is pinned to core 0 with taskset; the
load generator gets core 1.
"""

import json
import os
import resource
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
APP_PYTHON = ROOT / ".venv" / "bin" / "python"
WEBHOOK_SECRET = "bench-webhook-secret"


def pinned(core: int, argv: list[str]) -> list[str]:
    """argv run on one core (when the machine has two and taskset exists)."""
    if (os.cpu_count() or 1) < 2 or not Path("/usr/bin/taskset").exists():
        return argv
    return ["taskset", "-c", str(core), *argv]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _open_files_to_hard_limit():
    """In the child before exec: a server holding 10,000 sockets needs the descriptors."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def wait_healthy(port: int, timeout: float = 30.0) -> dict:
    """Poll GET /health until 200; returns its JSON."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as reply:
                return json.load(reply)
        except OSError as exc:
            last = exc
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} not healthy after {timeout:.0f} s: {last}")


class ServerUnderTest:
    """One running server process; measured_pid is the process that holds the sockets."""

    label = "server"

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.process = None
        self.port = None
        self.measured_pid = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict:
        return {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}

    def start(self, name: str):
        """Start on a free port, pinned to core 0, and wait until /health answers."""
        self.port = free_port()
        log = open(self.log_dir / f"{name}.log", "w")
        self.process = subprocess.Popen(
            pinned(0, self.command()),
            cwd=ROOT,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_open_files_to_hard_limit,
            start_new_session=True,
        )
        log.close()
        try:
            self.health = wait_healthy(self.port)
            self.measured_pid = self.find_measured_pid()
        except BaseException:
            self.stop()
            raise

    def find_measured_pid(self) -> int:
        return self.process.pid

    def check_webhook(self, accounts: Path) -> str | None:
        """None when the server stores one webhook (201); else what it answered instead."""
        spec = json.loads(accounts.read_text())
        owner = next(a["id"] for a in spec["accounts"] if a["role"] == "USER")
        body = {
            "user_id": owner,
            "customer_name": "Bench preflight",
            "customer_phone": "+15550000000",
            "message_content": "preflight",
            "message_id": f"preflight-{time.time_ns()}",
        }
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/webhooks/n8n/message",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "X-Webhook-Secret": spec["secret"]},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                status, text = reply.status, reply.read()
        except urllib.error.HTTPError as refusal:
            status, text = refusal.code, refusal.read()
        if status == 201:
            return None
        return f"a test webhook got {status}: {text[:300].decode(errors='replace')}"

    def stop(self):
        """Quick shutdown (SIGINT), then SIGKILL after 10 s; only our own process group."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


class NodePeer(ServerUnderTest):
    """bench/peer/server.js: socket.io 4.8, our webhook -> room emit, tokens bench:<id>:<role>."""

    label = "Node peer"

    def command(self):
        return ["node", str(BENCH / "peer" / "server.js"), str(self.port)]

    def environment(self):
        return super().environment() | {"N8N_WEBHOOK_SECRET": WEBHOOK_SECRET}

    @staticmethod
    def prepare(work_dir: Path, users: int, admins: int) -> Path:
        """The peer has no user table: it accepts any bench:<id>:<role> token."""
        accounts = [
            {"id": i, "role": "USER", "token": f"bench:{i}:USER"} for i in range(1, users + 1)
        ]
        accounts += [
            {"id": i, "role": "ADMIN", "token": f"bench:{i}:ADMIN"}
            for i in range(users + 1, users + admins + 1)
        ]
        path = work_dir / "accounts-peer.json"
        path.write_text(json.dumps({"secret": WEBHOOK_SECRET, "accounts": accounts}))
        return path


class OurServer(ServerUnderTest):
    """Our app, served by the Procfile's web command on a fresh SQLite database."""

    label = "ours"

    def __init__(
        self,
        log_dir: Path,
        database_url: str,
        redis_url: str | None = None,
        extra_env: dict | None = None,
    ):
        super().__init__(log_dir)
        self.database_url = database_url
        self.redis_url = redis_url
        self.extra_env = extra_env or {}
        self.secrets = {
            "SECRET_KEY": secrets.token_urlsafe(32),
            "JWT_SECRET_KEY": secrets.token_urlsafe(32),
        }

    def environment(self):
        env = (
            super().environment()
            | self.secrets
            | {
                "DATABASE_URL": self.database_url,
                "N8N_WEBHOOK_SECRET": WEBHOOK_SECRET,
                # Tokens made before a long run must outlive it (the default is 15 minutes).
                "JWT_ACCESS_TOKEN_MINUTES": "240",
            }
        )
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        return env | self.extra_env

    def start(self, name: str):
        """With Redis, start from an empty bench database: a stopped server's presence
        entries live on there for their TTL and would count against the next one's
        per-user socket limit."""
        if self.redis_url:
            flush_redis_db(self.redis_url)
        super().start(name)

    def command(self):
        """The Procfile's web line, bound to 127.0.0.1 on our port, gunicorn from .venv."""
        argv = shlex.split(procfile_web_line())
        argv = [
            str(ROOT / ".venv" / "bin" / argv[0]) if argv[0] == "gunicorn" else argv[0],
            *argv[1:],
        ]
        bind = argv.index("-b") + 1 if "-b" in argv else None
        if bind is None:
            return argv + ["-b", f"127.0.0.1:{self.port}"]
        argv[bind] = f"127.0.0.1:{self.port}"
        return argv

    def find_measured_pid(self) -> int:
        """gunicorn's worker (the master's only child) holds the sockets."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            children = (
                Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
                .read_text()
                .split()
            )
            if children:
                return int(children[0])
            time.sleep(0.1)
        raise RuntimeError("no gunicorn worker found")

    def prepare(self, work_dir: Path, users: int, admins: int) -> Path:
        """Build the schema and the bench users; returns the accounts file with fresh tokens."""
        env = self.environment()
        run_checked([str(ROOT / ".venv" / "bin" / "flask"), "db", "upgrade"], env, 120)
        path = work_dir / "accounts-ours.json"
        run_checked(
            [
                str(APP_PYTHON),
                str(BENCH / "accounts.py"),
                "--users",
                str(users),
                "--admins",
                str(admins),
                "--secret",
                WEBHOOK_SECRET,
                "--out",
                str(path),
            ],
            env,
            900,
        )
        return path


class SimpleWebSocketServer(OurServer):
    """Our app on python-engineio's own gevent driver: `gunicorn -k gevent` with
    simple-websocket, from a venv without gevent-websocket (bench/.venv-simple,
    made from requirements.txt less gevent-websocket, plus requirements-simple.txt)."""

    label = "ours-simple"

    def command(self):
        argv = super().command()
        argv[0] = str(simple_venv() / "bin" / "gunicorn")
        argv[argv.index("-k") + 1] = "gevent"
        return argv


def simple_venv() -> Path:
    """bench/.venv-simple, made on first use."""
    venv = BENCH / ".venv-simple"
    if not (venv / "bin" / "gunicorn").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        requirements = [
            line
            for line in (ROOT / "requirements.txt").read_text().splitlines()
            if line.strip() and not line.startswith("gevent-websocket")
        ]
        listed = venv / "requirements.txt"
        listed.write_text("\n".join(requirements) + "\n")
        pip = [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check"]
        extra = BENCH / "requirements-simple.txt"
        subprocess.run([*pip, "-r", str(listed), "-r", str(extra)], check=True)
    return venv


def procfile_web_line() -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.split(":", 1)[1].strip()
    raise RuntimeError("Procfile has no web: line")


def run_checked(argv: list[str], env: dict, timeout: float):
    """Run a setup step on core 1 (the server's core stays quiet); raise with its output."""
    done = subprocess.run(
        pinned(1, argv), cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode:
        raise RuntimeError(
            f"{' '.join(argv[:3])} failed ({done.returncode}): {done.stderr[-2000:]}"
        )
    return done


def redis_command(*words: str, port: int = 6379) -> bytes:
    """Send one command to the local Redis (RESP); its first reply line."""
    request = f"*{len(words)}\r\n" + "".join(f"${len(w)}\r\n{w}\r\n" for w in words)
    with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
        conn.sendall(request.encode())
        return conn.recv(256).split(b"\r\n")[0]


def redis_reachable() -> bool:
    try:
        return redis_command("PING") == b"+PONG"
    except OSError:
        return False


def flush_redis_db(redis_url: str):
    """Empty the bench's own Redis database (the number ending redis_url), nothing else."""
    number = redis_url.rsplit("/", 1)[1]
    request = f"*2\r\n$6\r\nSELECT\r\n${len(number)}\r\n{number}\r\n*1\r\n$7\r\nFLUSHDB\r\n"
    with socket.create_connection(("127.0.0.1", 6379), timeout=2) as conn:
        conn.sendall(request.encode())
        replies = b""
        while replies.count(b"\r\n") < 2:
            chunk = conn.recv(256)
            if not chunk:
                break
            replies += chunk
    if replies != b"+OK\r\n+OK\r\n":
        raise RuntimeError(f"could not empty Redis database {number}: {replies!r}")
