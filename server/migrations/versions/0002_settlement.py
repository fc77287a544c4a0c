"""settlement: ledger accounts, transactions and entries, budgets, flattrs

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stl_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('owner', sa.String(length=255), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'owner', 'currency')
    )
    op.create_table('stl_budgets',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount >= 0', name='ck_stl_budgets_amount_not_negative'),
    sa.PrimaryKeyConstraint('username')
    )
    op.create_table('stl_flattrs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('donor', sa.String(length=64), nullable=False),
    sa.Column('thing_uri', sa.String(length=2048), nullable=False),
    sa.Column('author_uri', sa.String(length=2048), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('activity_id', sa.String(length=2048), nullable=False),
    sa.Column('like_activity_id', sa.String(length=2048), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('activity_id'),
    sa.UniqueConstraint('donor', 'thing_uri', 'period'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('stl_flattrs', schema=None) as batch_op:
        batch_op.create_index('ix_stl_flattrs_donor_period', ['donor', 'period'], unique=False)

    op.create_table('stl_transactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=False),
    sa.Column('memo', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    op.create_table('stl_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.CheckConstraint('amount <> 0', name='ck_stl_entries_amount_nonzero'),
    sa.ForeignKeyConstraint(['account_id'], ['stl_accounts.id'], ),
    sa.ForeignKeyConstraint(['transaction_id'], ['stl_transactions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('stl_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stl_entries_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stl_entries_transaction_id'), ['transaction_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stl_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stl_entries_transaction_id'))
        batch_op.drop_index(batch_op.f('ix_stl_entries_account_id'))

    op.drop_table('stl_entries')
    op.drop_table('stl_transactions')
    with op.batch_alter_table('stl_flattrs', schema=None) as batch_op:
        batch_op.drop_index('ix_stl_flattrs_donor_period')

    op.drop_table('stl_flattrs')
    op.drop_table('stl_budgets')
    op.drop_table('stl_accounts')
