"""The process contract: the Procfile's lines as a platform runs them, and wsgi.py's patching."""

import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from tests import services
from tests.clients import PyClient
from tests.live_server import BIN, PASSWORD, ROOT, WEBHOOK_SECRET, free_port

# Chooses its databases itself: run once, not again in the PostgreSQL pass.
pytestmark = pytest.mark.database_pinned


def procfile() -> dict[str, str]:
    """Process type -> command, as a platform reads the Procfile."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if line.strip() and ":" in line)


def platform_env(**extra) -> dict:
    """The environment a platform would give: config variables and the venv on PATH."""
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "SECRET_KEY": "process-secret-key-long-enough-for-hs256-signing",
        "JWT_SECRET_KEY": "process-jwt-secret-key-long-enough-for-hs256",
        "N8N_WEBHOOK_SECRET": WEBHOOK_SECRET,
        **extra,
    }


def run(command: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def heroku_database():
    """A fresh PostgreSQL database, named by a Heroku-style postgres:// URL."""
    url = services.create_postgres_database()
    yield "postgres://" + url.split("://", 1)[1]
    services.drop_postgres_database(url)


def test_release_line_builds_the_schema_the_models_expect(heroku_database):
    env = platform_env(DATABASE_URL=heroku_database)
    release = run(procfile()["release"], env)
    assert release.returncode == 0, release.stderr
    check = run("flask db check", env)
    assert check.returncode == 0, check.stdout + check.stderr
    created = run(f"flask users create ops@example.com --password {PASSWORD} --role ADMIN", env)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().isdigit()


def test_release_line_builds_the_schema_the_models_expect_on_sqlite(tmp_path):
    """The embedded default too: indexes a model makes for one database only
    (`ddl_if`) must neither be missing there nor expected on the other."""
    env = platform_env(DATABASE_URL=f"sqlite:///{tmp_path / 'release.db'}")
    release = run(procfile()["release"], env)
    assert release.returncode == 0, release.stderr
    check = run("flask db check", env)
    assert check.returncode == 0, check.stdout + check.stderr


def test_web_line_serves_rest_webhook_and_sockets(heroku_database, tmp_path):
    port = free_port()
    env = platform_env(DATABASE_URL=heroku_database, PORT=str(port))
    assert run(procfile()["release"], env).returncode == 0
    user_id = int(run(f"flask users create web@example.com --password {PASSWORD}", env).stdout)
    log = open(tmp_path / "web.log", "wb")
    web = subprocess.Popen(
        ["bash", "-c", procfile()["web"]],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, web, tmp_path / "web.log")
        assert requests.get(url + "/health", timeout=5).json() == {
            "status": "ok",
            "database": "ok",
            "messageQueue": "local",
        }
        login = requests.post(
            url + "/api/auth/login",
            json={"email": "web@example.com", "password": PASSWORD},
            timeout=10,
        )
        client = PyClient(url, login.json()["accessToken"])
        try:
            body = {
                "user_id": user_id,
                "customer_name": "Deniz",
                "customer_phone": "+905550002020",
                "message_content": "served by the Procfile",
            }
            posted = requests.post(
                url + "/api/webhooks/n8n/message",
                json=body,
                headers={"X-Webhook-Secret": WEBHOOK_SECRET},
                timeout=10,
            )
            assert posted.status_code == 201
            (message,) = client.wait_for("new_message")
            assert message["messageContent"] == "served by the Procfile"
        finally:
            client.close()
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        try:
            web.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(web.pid, signal.SIGKILL)
            web.wait()
        log.close()


def wait_healthy(url: str, process: subprocess.Popen, log_path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, log_path.read_text()[-3000:]
        try:
            if requests.get(url + "/health", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise AssertionError(f"not healthy in {timeout}s: {log_path.read_text()[-3000:]}")


def test_wsgi_patches_gevent_before_anything_else_is_imported(tmp_path):
    """Libraries that open sockets must load after the patch, or they block the worker."""
    env = platform_env(DATABASE_URL=f"sqlite:///{tmp_path}/wsgi.db")
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    order = [
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    ]
    patched_at = order.index("gevent.monkey")
    for library in ("app", "flask", "sqlalchemy", "redis", "psycopg", "socketio", "requests"):
        first = next((i for i, name in enumerate(order) if name.split(".")[0] == library), None)
        assert first is None or first > patched_at, f"{library} imported before patching"
