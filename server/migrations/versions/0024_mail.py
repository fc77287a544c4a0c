"""mail: email addresses and preferences of accounts, the mail outbox, and the single-use links sent by email

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mail_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('to_address', sa.String(length=320), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('context', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('locked_by', sa.String(length=128), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_mail_outbox_due', ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_outbox_username'), ['username'], unique=False)

    op.create_table('mail_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('mail_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_tokens_username'), ['username'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=16), server_default='en', nullable=False))
        batch_op.add_column(sa.Column('mail_summaries', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('mail_notices', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('unsubscribe_token', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_users_unsubscribe_token', ['unsubscribe_token'])


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint('uq_users_unsubscribe_token', type_='unique')
        batch_op.drop_column('unsubscribe_token')
        batch_op.drop_column('mail_notices')
        batch_op.drop_column('mail_summaries')
        batch_op.drop_column('language')
        batch_op.drop_column('email')

    with op.batch_alter_table('mail_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_tokens_username'))

    op.drop_table('mail_tokens')
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_outbox_username'))
        batch_op.drop_index('ix_mail_outbox_due')

    op.drop_table('mail_outbox')
