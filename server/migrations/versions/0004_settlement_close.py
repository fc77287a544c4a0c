"""settlement close, payouts, escrow, earnings; known instances

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fed_instances',
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('software', sa.String(length=64), nullable=False),
    sa.Column('mecene', sa.Boolean(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('instance_actor', sa.String(length=2048), nullable=True),
    sa.Column('checked_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('host')
    )
    op.create_table('stl_earnings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('creator', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('thing_uri', sa.String(length=2048), nullable=False),
    sa.Column('source', sa.String(length=255), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('flattrs', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('creator', 'period', 'thing_uri', 'source')
    )
    with op.batch_alter_table('stl_earnings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stl_earnings_creator'), ['creator'], unique=False)

    op.create_table('stl_payouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('payout_id', sa.String(length=2048), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('settled_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('payout_id'),
    sa.UniqueConstraint('period', 'host')
    )
    op.create_table('stl_period_closes',
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('donors_total', sa.Integer(), nullable=False),
    sa.Column('donors_done', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('period')
    )
    op.create_table('stl_received_payouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payout_id', sa.String(length=2048), nullable=False),
    sa.Column('source_host', sa.String(length=255), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('credited', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('refused', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('payout_id')
    )
    with op.batch_alter_table('stl_received_payouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stl_received_payouts_source_host'), ['source_host'], unique=False)

    op.create_table('stl_shares',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('donor', sa.String(length=64), nullable=False),
    sa.Column('thing_uri', sa.String(length=2048), nullable=False),
    sa.Column('author_uri', sa.String(length=2048), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('recipient', sa.String(length=2048), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('destination', sa.String(length=8), nullable=False),
    sa.Column('settled_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('amount >= 0', name='ck_stl_shares_amount_not_negative'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('period', 'donor', 'thing_uri')
    )
    with op.batch_alter_table('stl_shares', schema=None) as batch_op:
        batch_op.create_index('ix_stl_shares_destination_author', ['destination', 'author_uri'], unique=False)
        batch_op.create_index('ix_stl_shares_period_host', ['period', 'host'], unique=False)

    op.create_table('stl_donor_closes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('donor', sa.String(length=64), nullable=False),
    sa.Column('spend', sa.BigInteger(), nullable=False),
    sa.Column('fee', sa.BigInteger(), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['transaction_id'], ['stl_transactions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('period', 'donor')
    )
    with op.batch_alter_table('stl_accounts', schema=None) as batch_op:
        batch_op.alter_column('owner',
               existing_type=sa.VARCHAR(length=255),
               type_=sa.String(length=2048),
               existing_nullable=False)



def downgrade() -> None:
    with op.batch_alter_table('stl_accounts', schema=None) as batch_op:
        batch_op.alter_column('owner',
               existing_type=sa.String(length=2048),
               type_=sa.VARCHAR(length=255),
               existing_nullable=False)

    op.drop_table('stl_donor_closes')
    with op.batch_alter_table('stl_shares', schema=None) as batch_op:
        batch_op.drop_index('ix_stl_shares_period_host')
        batch_op.drop_index('ix_stl_shares_destination_author')

    op.drop_table('stl_shares')
    with op.batch_alter_table('stl_received_payouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stl_received_payouts_source_host'))

    op.drop_table('stl_received_payouts')
    op.drop_table('stl_period_closes')
    op.drop_table('stl_payouts')
    with op.batch_alter_table('stl_earnings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stl_earnings_creator'))

    op.drop_table('stl_earnings')
    op.drop_table('fed_instances')
