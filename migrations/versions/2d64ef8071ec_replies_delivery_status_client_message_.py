"""replies: delivery status, client message id, outbound queue

Revision ID: 2d64ef8071ec
Revises: ab799aeac1a0
Create Date: 2026-11-24 01:56:28.778958

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2d64ef8071ec'
down_revision = 'ab799aeac1a0'
branch_labels = None
depends_on = None


def upgrade():
    # messages first: on SQLite batch mode rebuilds the table, which must not be
    # referenced by the new queue yet.
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sent_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('client_message_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('status', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('status_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('error', sa.Text(), nullable=True))
        batch_op.create_unique_constraint('uq_messages_conversation_client_id', ['conversation_id', 'client_message_id'])
        batch_op.create_foreign_key('fk_messages_sent_by_users', 'users', ['sent_by'], ['id'])

    op.create_table('outbound_deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('message_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['message_seq'], ['messages.seq'], name='fk_outbound_deliveries_message'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_seq')
    )
    with op.batch_alter_table('outbound_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_outbound_deliveries_due', ['state', 'next_attempt_at'], unique=False)


def downgrade():
    with op.batch_alter_table('outbound_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_outbound_deliveries_due')

    op.drop_table('outbound_deliveries')

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_constraint('fk_messages_sent_by_users', type_='foreignkey')
        batch_op.drop_constraint('uq_messages_conversation_client_id', type_='unique')
        batch_op.drop_column('error')
        batch_op.drop_column('status_at')
        batch_op.drop_column('status')
        batch_op.drop_column('client_message_id')
        batch_op.drop_column('sent_by')
