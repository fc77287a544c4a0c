"""money in: top-ups through payment providers, refunds and requests for them, disputes, providers' events

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stl_provider_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('event_id', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('provider', 'event_id')
    )
    op.create_table('stl_refund_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('answer', sa.String(length=500), nullable=False),
    sa.Column('asked_at', sa.DateTime(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('stl_refund_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stl_refund_requests_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_stl_refund_requests_username'), ['username'], unique=False)

    op.create_table('stl_topups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reference', sa.String(length=255), nullable=True),
    sa.Column('refunded', sa.BigInteger(), nullable=False),
    sa.Column('failure', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('amount > 0 AND refunded >= 0 AND refunded <= amount', name='ck_stl_topups_amounts'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('provider', 'reference'),
    sa.UniqueConstraint('public_id')
    )
    with op.batch_alter_table('stl_topups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stl_topups_state'), ['state'], unique=False)
        batch_op.create_index('ix_stl_topups_user', ['username', 'id'], unique=False)

    op.create_table('stl_disputes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('topup_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('provider_reference', sa.String(length=255), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['topup_id'], ['stl_topups.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('provider', 'provider_reference'),
    sa.UniqueConstraint('public_id')
    )
    with op.batch_alter_table('stl_disputes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stl_disputes_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_stl_disputes_topup_id'), ['topup_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stl_disputes_username'), ['username'], unique=False)

    op.create_table('stl_refunds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('topup_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('provider_reference', sa.String(length=255), nullable=False),
    sa.Column('failure', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['topup_id'], ['stl_topups.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('public_id')
    )
    with op.batch_alter_table('stl_refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stl_refunds_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_stl_refunds_topup_id'), ['topup_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stl_refunds_username'), ['username'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stl_refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stl_refunds_username'))
        batch_op.drop_index(batch_op.f('ix_stl_refunds_topup_id'))
        batch_op.drop_index(batch_op.f('ix_stl_refunds_state'))

    op.drop_table('stl_refunds')
    with op.batch_alter_table('stl_disputes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stl_disputes_username'))
        batch_op.drop_index(batch_op.f('ix_stl_disputes_topup_id'))
        batch_op.drop_index(batch_op.f('ix_stl_disputes_state'))

    op.drop_table('stl_disputes')
    with op.batch_alter_table('stl_topups', schema=None) as batch_op:
        batch_op.drop_index('ix_stl_topups_user')
        batch_op.drop_index(batch_op.f('ix_stl_topups_state'))

    op.drop_table('stl_topups')
    with op.batch_alter_table('stl_refund_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stl_refund_requests_username'))
        batch_op.drop_index(batch_op.f('ix_stl_refund_requests_state'))

    op.drop_table('stl_refund_requests')
    op.drop_table('stl_provider_events')
