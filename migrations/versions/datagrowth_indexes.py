"""data growth: indexes for the conversation list's pages and unread counts

Revision ID: datagrowth_indexes
Revises: cloud_numbers
Create Date: 2026-12-07 20:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "datagrowth_indexes"
down_revision = "cloud_numbers"
branch_labels = None
depends_on = None


def upgrade():
    # Plain CREATE INDEX statements: no table rewrite needed (batch mode not involved).
    op.create_index(
        "ix_messages_unread",
        "messages",
        ["conversation_id"],
        sqlite_where=sa.text("direction = 'INBOUND' AND is_read IS 0"),
        postgresql_where=sa.text("direction = 'INBOUND' AND is_read IS false"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_conversations_owner_activity_pg",
            "conversations",
            ["user_id", sa.text("last_message_at DESC NULLS LAST"), sa.text("id DESC")],
        )
        op.create_index(
            "ix_conversations_activity_pg",
            "conversations",
            [sa.text("last_message_at DESC NULLS LAST"), sa.text("id DESC")],
        )
    else:
        op.create_index(
            "ix_conversations_owner_activity", "conversations", ["user_id", "last_message_at"]
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_conversations_activity_pg", table_name="conversations")
        op.drop_index("ix_conversations_owner_activity_pg", table_name="conversations")
    else:
        op.drop_index("ix_conversations_owner_activity", table_name="conversations")
    op.drop_index("ix_messages_unread", table_name="messages")
