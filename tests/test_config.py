"""config.py: reading it writes nothing; the embedded default's secrets are generated
once, kept private in instance/, and shared by every app built afterwards."""

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import config

ROOT = Path(__file__).resolve().parents[1]


def test_importing_config_writes_nothing(tmp_path):
    shutil.copy(ROOT / "config.py", tmp_path / "config.py")
    env = {k: v for k, v in os.environ.items() if k not in config.INSTANCE_SECRETS}
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "-c", "import config"], cwd=tmp_path, env=env, check=True)
    assert not (tmp_path / "instance").exists()


def test_missing_secrets_are_generated_private_and_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path / "instance")
    first, second = {}, {}
    config.fill_instance_secrets(first)
    config.fill_instance_secrets(second)
    assert first == second  # another process, or a restart, gets the same ones
    assert first["SECRET_KEY"] != first["JWT_SECRET_KEY"]
    assert len(first["SECRET_KEY"]) >= 48
    for name in config.INSTANCE_SECRETS.values():
        assert stat.S_IMODE((tmp_path / "instance" / name).stat().st_mode) == 0o600


def test_secrets_from_the_environment_are_kept_and_nothing_written(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path / "instance")
    given = {"SECRET_KEY": "s" * 48, "JWT_SECRET_KEY": "j" * 48}
    config.fill_instance_secrets(given)
    assert given == {"SECRET_KEY": "s" * 48, "JWT_SECRET_KEY": "j" * 48}
    assert not (tmp_path / "instance").exists()
