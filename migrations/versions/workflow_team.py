"""workflow: conversation status, labels and transfer aliases, search index, canned responses

Revision ID: workflow_team
Revises: 2d64ef8071ec
Create Date: 2026-12-07 19:30:00

"""
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "workflow_team"
down_revision = "media_rich"
branch_labels = None
depends_on = None

# The same statements as app/services/search_index.py, frozen here.
SQLITE_FTS_TABLE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5("
    "search_text, content='', tokenize='unicode61 remove_diacritics 2')"
)
POSTGRES_GIN_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_messages_search ON messages "
    "USING gin (to_tsvector('simple', coalesce(search_text, '')))"
)
_TURKISH = str.maketrans({"I": "i", "İ": "i", "ı": "i"})


def _fold(text):
    """app/services/search_text.fold as of this revision (backfill of existing messages)."""
    out = []
    for char in text:
        decomposed = unicodedata.normalize("NFKD", char.translate(_TURKISH).casefold())
        base = "".join(c for c in decomposed if not unicodedata.combining(c))
        out.append("".join(c if c.isalnum() else " " for c in base))
    return " ".join("".join(out).split())


def upgrade():
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=16), server_default="open", nullable=False))
        batch_op.add_column(sa.Column("snoozed_until", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("labels", sa.Text(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.Text(), nullable=True))
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("also_user_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_events_also_user_id_id", ["also_user_id", "id"], unique=False)
    op.create_table(
        "conversation_aliases",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("customer_phone", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"], name="fk_conversation_aliases_conversation"
        ),
        sa.PrimaryKeyConstraint("user_id", "customer_phone"),
    )
    op.create_table(
        "canned_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("shortcut", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name="fk_canned_responses_owner"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name="fk_canned_responses_author"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("canned_responses", schema=None) as batch_op:
        batch_op.create_index("ix_canned_responses_owner", ["owner_id"], unique=False)
    _backfill_search_text()
    if op.get_bind().dialect.name == "sqlite":
        op.execute(SQLITE_FTS_TABLE)
        op.execute(
            "INSERT INTO messages_fts (rowid, search_text) "
            "SELECT seq, search_text FROM messages WHERE search_text IS NOT NULL"
        )
    else:
        op.execute(POSTGRES_GIN_INDEX)


def _backfill_search_text():
    """Fold the content of the messages stored before search existed."""
    connection = op.get_bind()
    messages = sa.table("messages", sa.column("seq"), sa.column("content"), sa.column("search_text"))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(messages.c.seq, messages.c.content)
            .where(messages.c.seq > last)
            .order_by(messages.c.seq)
            .limit(1000)
        ).all()
        if not rows:
            return
        connection.execute(
            messages.update().where(messages.c.seq == sa.bindparam("b_seq")),
            [{"b_seq": seq, "search_text": _fold(content or "")} for seq, content in rows],
        )
        last = rows[-1][0]


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS messages_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_messages_search")
    with op.batch_alter_table("canned_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_canned_responses_owner")
    op.drop_table("canned_responses")
    op.drop_table("conversation_aliases")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_also_user_id_id")
        batch_op.drop_column("also_user_id")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("search_text")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("labels")
        batch_op.drop_column("snoozed_until")
        batch_op.drop_column("status")
