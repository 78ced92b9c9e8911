"""An app shared by a whole test module (property-based tests run many examples on one app).

Like the `app` fixture of conftest.py: in-memory SQLite, or a fresh PostgreSQL
database with TEST_DATABASE=postgres.
"""

import contextlib
import os
import shutil
import tempfile

from app import create_app
from app.extensions import db
from tests import services


@contextlib.contextmanager
def fresh_app(**overrides):
    """Yield an app on an empty database, inside its app context; drop it afterwards."""
    url = (
        services.create_postgres_database()
        if os.environ.get("TEST_DATABASE") == "postgres"
        else None
    )
    files = tempfile.mkdtemp(prefix="inbox-module-app-")
    config = {
        "CONFIG": "testing",
        "MEDIA_ROOT": f"{files}/media",
        "MEDIA_UPLOAD_DIR": f"{files}/uploads",
        **overrides,
    }
    if url:
        config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + url.split("://", 1)[1]
    app = create_app(config)
    with app.app_context():
        db.create_all()
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()
            shutil.rmtree(files, ignore_errors=True)
    if url:
        services.drop_postgres_database(url)
