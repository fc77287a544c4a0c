"""clearing: credits pending until their paying instance clears them, clearings, and awaited payouts in rounds

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

OPEN = "state IN ('notified', 'paid')"
#: Names the unnamed unique constraints SQLite reflects, so that batch mode can drop one.
NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    op.create_table('stl_pending_credits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('creator', sa.String(length=64), nullable=False),
    sa.Column('source_host', sa.String(length=255), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('released', sa.BigInteger(), nullable=False),
    sa.Column('payout_id', sa.String(length=2048), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('released >= 0 AND released <= amount', name='ck_stl_pending_credits_released_in_range'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_stl_pending_credits_source', 'stl_pending_credits', ['source_host', 'currency', 'id'])
    op.create_table('stl_clearings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uri', sa.String(length=2048), nullable=False),
    sa.Column('peer_host', sa.String(length=255), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('we_paid', sa.Boolean(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('netted', sa.BigInteger(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('answer_activity_id', sa.String(length=2048), nullable=True),
    sa.Column('reason', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('amount > 0 AND netted >= 0', name='ck_stl_clearings_amounts'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uri')
    )
    op.create_index('uq_stl_clearings_open', 'stl_clearings', ['peer_host', 'currency'], unique=True,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    _awaited_rounds()


def _awaited_rounds() -> None:
    """(period, host) unique no more: a period's lines refused for a credit limit leave again in a later round."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    old = "uq_stl_awaited_payouts_period" if sqlite else "stl_awaited_payouts_period_host_key"
    with op.batch_alter_table('stl_awaited_payouts', naming_convention=NAMES) as batch_op:
        batch_op.add_column(sa.Column('round', sa.Integer(), nullable=False, server_default='1'))
        batch_op.drop_constraint(old, type_='unique')
        batch_op.create_unique_constraint('uq_stl_awaited_payouts_round', ['period', 'host', 'round'])


def downgrade() -> None:
    with op.batch_alter_table('stl_awaited_payouts') as batch_op:
        batch_op.drop_constraint('uq_stl_awaited_payouts_round', type_='unique')
        batch_op.create_unique_constraint('stl_awaited_payouts_period_host_key', ['period', 'host'])
        batch_op.drop_column('round')
    op.drop_index('uq_stl_clearings_open', table_name='stl_clearings')
    op.drop_table('stl_clearings')
    op.drop_index('ix_stl_pending_credits_source', table_name='stl_pending_credits')
    op.drop_table('stl_pending_credits')
