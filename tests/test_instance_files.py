"""instance/ holds secrets, demo passwords and the SQLite database: owner-only.

Before, instance/demo-credentials.json and instance/n8n_webhook_secret were
written 0644 in a 0755 folder, readable by every local user.
"""

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import config
from app import create_app

RUN_SH = Path(__file__).resolve().parents[1] / "scripts" / "run.sh"


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def instance(tmp_path, monkeypatch):
    folder = tmp_path / "instance"
    monkeypatch.setattr(config, "INSTANCE_DIR", folder)
    return folder


def test_a_generated_secret_is_owner_only_in_an_owner_only_folder(instance):
    secret = config.instance_secret("n8n_webhook_secret", 24)
    assert len(secret) >= 32
    assert mode(instance) == 0o700
    assert mode(instance / "n8n_webhook_secret") == 0o600
    assert config.instance_secret("n8n_webhook_secret", 24) == secret


def test_files_left_readable_by_an_older_version_are_narrowed(instance):
    instance.mkdir(mode=0o755)
    instance.chmod(0o755)
    old = instance / "n8n_webhook_secret"
    old.write_text("kept-secret")
    old.chmod(0o644)
    assert config.instance_secret("n8n_webhook_secret") == "kept-secret"
    assert (mode(instance), mode(old)) == (0o700, 0o600)


def test_the_app_makes_its_instance_folder_owner_only():
    app = create_app({"CONFIG": "testing"})
    assert mode(Path(app.instance_path)) == 0o700


def test_demo_credentials_are_written_owner_only(app, tmp_path):
    app.instance_path = str(tmp_path)
    path = tmp_path / "demo-credentials.json"
    result = app.test_cli_runner().invoke(args=["users", "demo"])
    assert result.exit_code == 0, result.output
    assert mode(path) == 0o600
    accounts = json.loads(path.read_text())
    assert {a["email"] for a in accounts} == {"admin@example.com", "agent@example.com"}
    path.chmod(0o644)  # as an older version left it: narrowed when written again
    assert app.test_cli_runner().invoke(args=["users", "demo"]).exit_code == 0
    assert mode(path) == 0o600
    assert json.loads(path.read_text()) == accounts


def test_run_sh_takes_the_webhook_secret_from_an_owner_only_file(instance):
    """The line scripts/run.sh runs, against a temporary instance folder."""
    code = (
        f"import config, pathlib; config.INSTANCE_DIR = pathlib.Path({str(instance)!r}); "
        "print(config.instance_secret('n8n_webhook_secret', 24))"
    )
    secret = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert (instance / "n8n_webhook_secret").read_text() == secret
    assert mode(instance / "n8n_webhook_secret") == 0o600
    assert "config.instance_secret('n8n_webhook_secret', 24)" in RUN_SH.read_text()
