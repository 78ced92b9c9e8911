"""media: stored files, uploads in progress, rich message columns

Revision ID: media_rich
Revises: 2d64ef8071ec
Create Date: 2026-12-07 19:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'media_rich'
down_revision = '2d64ef8071ec'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('location', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('reply_to', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('reactions', sa.Text(), nullable=True))

    op.create_table('media',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=40), nullable=True),
    sa.Column('storage_key', sa.String(length=255), nullable=False),
    sa.Column('mime_type', sa.String(length=127), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=True),
    sa.Column('caption', sa.Text(), nullable=True),
    sa.Column('voice', sa.Boolean(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('thumbnail_key', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id')
    )
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.create_index('ix_media_user_id', ['user_id'], unique=False)
        batch_op.create_index('ix_media_created_at', ['created_at'], unique=False)

    op.create_table('media_uploads',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('mime_type', sa.String(length=127), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('received', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('media_uploads', schema=None) as batch_op:
        batch_op.create_index('ix_media_uploads_user_id', ['user_id'], unique=False)
        batch_op.create_index('ix_media_uploads_created_at', ['created_at'], unique=False)


def downgrade():
    op.drop_table('media_uploads')
    op.drop_table('media')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('reactions')
        batch_op.drop_column('reply_to')
        batch_op.drop_column('location')
