"""SQLite's WAL checkpoints: off the request path when served, and what the checkpointer does."""

import sqlite3

import pytest

from app import create_app
from app.extensions import db
from app.models import User
from app.sqlite_tuning import checkpoint

pytestmark = pytest.mark.database_pinned  # SQLite only, whatever TEST_DATABASE says


def _pragma(app, name):
    with app.app_context():
        return db.session.execute(db.text(f"PRAGMA {name}")).scalar()


def test_outside_a_server_sqlite_checkpoints_by_itself(tmp_path, monkeypatch):
    monkeypatch.delenv("SERVER_SOFTWARE", raising=False)
    app = create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/t.db"})
    assert _pragma(app, "journal_mode") == "wal"
    assert _pragma(app, "wal_autocheckpoint") == 1000


def test_checkpoint_copies_the_log_into_the_database_without_blocking_writers(file_app):
    _app, path = file_app
    db.session.execute(db.text("PRAGMA wal_autocheckpoint=0"))
    for n in range(50):
        db.session.add(User(email=f"u{n}@example.com", password_hash="x", name="u"))
        db.session.commit()
    busy, frames, copied = checkpoint(str(path))
    assert (busy, copied) == (0, frames) and frames > 0
    # The app's connection stays usable, and the rows are in the database file.
    assert db.session.query(User).count() == 50
    reader = sqlite3.connect(path)
    assert reader.execute("SELECT count(*) FROM users").fetchone() == (50,)
    reader.close()
