"""`flask media prune --older-than DAYS`: delete old files and their records."""

from datetime import timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import delete, select

from app.extensions import db
from app.media.storage import storage
from app.models import Media
from app.timeutil import utcnow

media_cli = AppGroup("media", help="Stored media files.")


@media_cli.command("prune")
@click.option("--older-than", "days", type=click.IntRange(min=0), required=True, help="Days")
def prune(days: int) -> None:
    """Delete media files stored more than DAYS days ago (the messages stay, without file)."""
    cutoff = utcnow() - timedelta(days=days)
    count = 0
    for media in list(db.session.scalars(select(Media).where(Media.created_at < cutoff))):
        for key in (media.storage_key, media.thumbnail_key):
            if key:
                storage().delete(key)
        db.session.execute(delete(Media).where(Media.id == media.id))
        db.session.commit()
        count += 1
    click.echo(f"pruned {count} media files older than {days} days")
