"""Debian's nginx in front of two test servers, configured by docs/nginx.conf.example.

The documented configuration is used as it is, with only what a test machine must
change substituted: the two upstream ports, the listening ports, a self-signed
certificate, and file paths a test may write to. A substitution that no longer
matches the document fails loudly, so the test and the document cannot drift apart.
"""

import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests import services
from tests.live_server import ROOT, free_port

DOCUMENTED = ROOT / "docs" / "nginx.conf.example"


class Nginx:
    """nginx serving https://127.0.0.1:<port> for the servers on `upstream_ports`."""

    def __init__(self, upstream_ports: tuple[int, int]):
        self.upstream_ports = upstream_ports
        self.port = free_port()
        self.http_port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.dir = Path(tempfile.mkdtemp(prefix="inbox-nginx-"))
        self.dir.chmod(0o755)  # nginx's workers (nobody, under root) write temp files here
        self.process = None

    def start(self) -> "Nginx":
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(binary).exists():
            services.unavailable("nginx is not installed (apt-get install nginx)")
        self._certificate()
        config = self.dir / "nginx.conf"
        config.write_text(self.configuration())
        command = [binary, "-p", str(self.dir), "-c", str(config)]
        command += ["-e", str(self.dir / "error.log")]
        command += ["-g", f"daemon off; pid {self.dir / 'nginx.pid'};"]
        log = open(self.dir / "stderr.log", "ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=log)
        self._wait_listening()
        return self

    def configuration(self) -> str:
        """docs/nginx.conf.example with this machine's ports and paths."""
        text = DOCUMENTED.read_text()
        a, b = self.upstream_ports
        temp = "".join(
            f"    {kind}_temp_path {self.dir / kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        for documented, here in [
            ("server 127.0.0.1:5001 ", f"server 127.0.0.1:{a} "),
            ("server 127.0.0.1:5002 ", f"server 127.0.0.1:{b} "),
            ("listen 443 ssl;", f"listen 127.0.0.1:{self.port} ssl;"),
            ("listen 80;", f"listen 127.0.0.1:{self.http_port};"),
            ("/etc/letsencrypt/live/inbox.example.com/fullchain.pem", str(self.dir / "cert.pem")),
            ("/etc/letsencrypt/live/inbox.example.com/privkey.pem", str(self.dir / "key.pem")),
            ("http {\n", f"http {{\n    access_log {self.dir / 'access.log'};\n{temp}"),
        ]:
            assert text.count(documented) == 1, f"{documented!r} not once in {DOCUMENTED}"
            text = text.replace(documented, here)
        return text

    @property
    def fail_timeout(self) -> float:
        """Seconds nginx skips a process that refused a connection (the documented fail_timeout)."""
        return float(re.search(r"fail_timeout=(\d+)s", DOCUMENTED.read_text()).group(1))

    def answered(self, status: int) -> int:
        """How many requests nginx answered with this status (from its access log)."""
        log = self.dir / "access.log"
        return log.read_text(errors="replace").count(f'" {status} ') if log.exists() else 0

    def _certificate(self) -> None:
        """A self-signed certificate for 127.0.0.1 (clients skip verification)."""
        openssl = shutil.which("openssl")
        if openssl is None:
            services.unavailable("openssl is not installed (apt-get install openssl)")
        subprocess.run(
            [
                openssl,
                *("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
                *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
                *("-keyout", str(self.dir / "key.pem"), "-out", str(self.dir / "cert.pem")),
            ],
            check=True,
            capture_output=True,
        )

    def _wait_listening(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nginx not listening in {timeout}s: {self.log()}")

    def log(self) -> str:
        logs = [self.dir / "error.log", self.dir / "stderr.log"]
        return "".join(p.read_text(errors="replace") for p in logs if p.exists())[-3000:]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "Nginx":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
