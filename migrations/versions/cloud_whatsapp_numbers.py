"""cloud: WhatsApp numbers, error codes and templates of replies, the media fetch queue;
phone numbers in E.164

Customer phones written in different spellings (`+90 555 111 00 00`,
`905551110000`) were different conversations; they become one, the oldest,
with every message, queue row and logged event of the others moved into it.

Revision ID: cloud_numbers
Revises: workflow_team
Create Date: 2026-12-07 19:30:00

"""
import json
from collections import defaultdict

from alembic import op
import sqlalchemy as sa

from app import phones


# revision identifiers, used by Alembic.
revision = 'cloud_numbers'
down_revision = 'workflow_team'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('whatsapp_numbers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone_number_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name='fk_whatsapp_numbers_user'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('phone_number_id')
    )
    with op.batch_alter_table('whatsapp_numbers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_whatsapp_numbers_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_code', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('template', sa.Text(), nullable=True))

    op.create_table('whatsapp_media_fetches',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.String(length=40), nullable=False),
    sa.Column('media_id', sa.String(length=255), nullable=False),
    sa.Column('mime_type', sa.String(length=127), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=True),
    sa.Column('caption', sa.Text(), nullable=True),
    sa.Column('sha256', sa.String(length=128), nullable=True),
    sa.Column('voice', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id')
    )
    with op.batch_alter_table('whatsapp_media_fetches', schema=None) as batch_op:
        batch_op.create_index('ix_whatsapp_media_fetches_due', ['state', 'next_attempt_at'], unique=False)

    merge_duplicate_phones(op.get_bind())
    normalise_aliases(op.get_bind())


def downgrade():
    # The merge of conversations is not undone: the E.164 phones stay.
    with op.batch_alter_table('whatsapp_media_fetches', schema=None) as batch_op:
        batch_op.drop_index('ix_whatsapp_media_fetches_due')

    op.drop_table('whatsapp_media_fetches')

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('template')
        batch_op.drop_column('error_code')

    with op.batch_alter_table('whatsapp_numbers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_whatsapp_numbers_user_id'))

    op.drop_table('whatsapp_numbers')


def _normalised(phone):
    try:
        return phones.normalise(phone)
    except ValueError:
        return phone  # not a number at all: left as stored


def _referencing_columns(connection):
    """(table, column) of everything that names a conversation, whatever the lanes added:
    foreign keys to conversations.id, and `conversation_id` columns kept without one
    (the event log, media)."""
    inspector = sa.inspect(connection)
    found = set()
    for table in inspector.get_table_names():
        if table == 'conversations':
            continue
        for column in inspector.get_columns(table):
            if column['name'] == 'conversation_id':
                found.add((table, 'conversation_id'))
        for key in inspector.get_foreign_keys(table):
            if key['referred_table'] == 'conversations' and key['referred_columns'] == ['id']:
                found.add((table, key['constrained_columns'][0]))
    return sorted(found)


def merge_duplicate_phones(connection):
    """Merge each owner's conversations whose phones are one number, and store E.164."""
    rows = connection.execute(
        sa.text('SELECT id, user_id, customer_phone FROM conversations ORDER BY id')
    ).all()
    groups = defaultdict(list)
    for conversation_id, user_id, phone in rows:
        groups[(user_id, _normalised(phone))].append((conversation_id, phone))
    references = _referencing_columns(connection)
    for (_user_id, phone), members in groups.items():
        survivor, duplicates = members[0][0], [m[0] for m in members[1:]]
        if duplicates:
            _merge_into(connection, survivor, duplicates, references)
        if members[0][1] != phone:
            connection.execute(
                sa.text('UPDATE conversations SET customer_phone = :phone WHERE id = :id'),
                {'phone': phone, 'id': survivor},
            )


def _merge_into(connection, survivor, duplicates, references):
    """Move everything of the duplicates into the survivor, then delete them."""
    params = {'survivor': survivor, 'duplicates': duplicates}
    expanding = sa.bindparam('duplicates', expanding=True)
    # A reply's clientMessageId is unique per conversation: a clash keeps the survivor's.
    connection.execute(
        sa.text(
            'UPDATE messages SET client_message_id = NULL WHERE conversation_id IN :duplicates'
            ' AND client_message_id IN (SELECT client_message_id FROM messages'
            ' WHERE conversation_id = :survivor AND client_message_id IS NOT NULL)'
        ).bindparams(expanding),
        params,
    )
    _rewrite_logged_payloads(connection, survivor, duplicates)
    for table, column in references:
        connection.execute(
            sa.text(
                f'UPDATE {table} SET {column} = :survivor WHERE {column} IN :duplicates'
            ).bindparams(expanding),
            params,
        )
    connection.execute(
        sa.text('DELETE FROM conversations WHERE id IN :duplicates').bindparams(expanding), params
    )
    _refresh_preview(connection, survivor)


def _rewrite_logged_payloads(connection, survivor, duplicates):
    """Logged events name the survivor too, so a replay shows one conversation."""
    logged = connection.execute(
        sa.text('SELECT id, payload FROM events WHERE conversation_id IN :duplicates').bindparams(
            sa.bindparam('duplicates', expanding=True)
        ),
        {'duplicates': duplicates},
    ).all()
    for event_id, payload in logged:
        data = json.loads(payload)
        if 'conversationId' in data:
            data['conversationId'] = survivor
        connection.execute(
            sa.text('UPDATE events SET payload = :payload WHERE id = :id'),
            {'payload': json.dumps(data, ensure_ascii=False), 'id': event_id},
        )


def _refresh_preview(connection, conversation_id):
    """The preview is the newest message by WhatsApp time, as the write path keeps it."""
    newest = connection.execute(
        sa.text(
            'SELECT content, timestamp FROM messages WHERE conversation_id = :id'
            ' ORDER BY timestamp DESC, seq DESC LIMIT 1'
        ),
        {'id': conversation_id},
    ).first()
    if newest is not None:
        connection.execute(
            sa.text(
                'UPDATE conversations SET last_message = :content, last_message_at = :at'
                ' WHERE id = :id'
            ),
            {'content': newest[0][:200], 'at': newest[1], 'id': conversation_id},
        )


def normalise_aliases(connection):
    """A transferred conversation's aliases (user, phone) name the phone in E.164 too;
    two spellings of one number keep one alias."""
    if 'conversation_aliases' not in sa.inspect(connection).get_table_names():
        return
    rows = connection.execute(
        sa.text('SELECT user_id, customer_phone FROM conversation_aliases')
    ).all()
    kept = {(user_id, phone) for user_id, phone in rows if _normalised(phone) == phone}
    for user_id, phone in rows:
        target = _normalised(phone)
        if target == phone:
            continue
        key = {'user_id': user_id, 'phone': phone}
        if (user_id, target) in kept:
            connection.execute(
                sa.text(
                    'DELETE FROM conversation_aliases WHERE user_id = :user_id'
                    ' AND customer_phone = :phone'
                ),
                key,
            )
            continue
        connection.execute(
            sa.text(
                'UPDATE conversation_aliases SET customer_phone = :target'
                ' WHERE user_id = :user_id AND customer_phone = :phone'
            ),
            {**key, 'target': target},
        )
        kept.add((user_id, target))
