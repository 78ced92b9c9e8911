"""A real TURN server for the call tests: coturn (Debian's `coturn`) on loopback.

It checks credentials as production does (use-auth-secret with a shared secret,
the scheme of GET /api/realtime/ice-servers), listens and relays on 127.0.0.1
only, and is told to allow loopback peers, which coturn refuses by default.
"""

import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests import services
from tests.live_server import free_port

REALM = "inbox.test"


def _free_port_range(size: int = 40) -> int:
    """The first port of `size` free UDP ports in a row (coturn's relay range)."""
    for _ in range(50):
        first = 40000 + secrets.randbelow(20000)
        ports = range(first, first + size)
        if all(_udp_free(port) for port in ports):
            return first
    raise RuntimeError("no free UDP port range for coturn's relays")


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class TurnServer:
    """`turnserver` on a free port with a fresh shared secret; start() and stop()."""

    def __init__(self):
        self.port = free_port()
        self.secret = secrets.token_urlsafe(24)
        self.folder = Path(tempfile.mkdtemp(prefix="inbox-turn-"))
        self.log_path = self.folder / "turn.log"
        self.process = None

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    def start(self) -> "TurnServer":
        binary = shutil.which("turnserver")
        if binary is None:
            services.unavailable("turnserver is missing (apt-get install coturn)")
        first = _free_port_range()
        command = [
            binary,
            "-n",  # no configuration file: everything is on this line
            "--listening-ip=127.0.0.1",
            f"--listening-port={self.port}",
            "--relay-ip=127.0.0.1",
            f"--min-port={first}",
            f"--max-port={first + 39}",
            "--use-auth-secret",
            f"--static-auth-secret={self.secret}",
            f"--realm={REALM}",
            "--fingerprint",
            "--no-tls",
            "--no-dtls",
            "--no-cli",
            "--no-multicast-peers",
            "--allow-loopback-peers",
            "--allowed-peer-ip=127.0.0.1",
            f"--userdb={self.folder / 'turndb'}",
            f"--pidfile={self.folder / 'turnserver.pid'}",
            f"--log-file={self.log_path}",
            "--simple-log",
            "--verbose",  # logs each allocation with its username
            "--no-stdout-log",
        ]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        self._wait_listening()
        return self

    def _wait_listening(self, timeout: float = 15) -> None:
        """Until the TCP listener (opened with the UDP one) accepts a connection."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"turnserver exited: {self.log()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"turnserver not listening in {timeout}s: {self.log()[-2000:]}")

    def log(self) -> str:
        """What coturn logged (allocations, refused credentials)."""
        return "".join(
            path.read_text(errors="replace") for path in sorted(self.folder.glob("turn*.log"))
        )

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)
