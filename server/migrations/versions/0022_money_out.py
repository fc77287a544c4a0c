"""money out: creators' payout details, their withdrawals and the operator's batches of them

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stl_payout_details',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('account_holder', sa.String(length=70), nullable=False),
    sa.Column('iban', sa.String(length=34), nullable=True),
    sa.Column('bic', sa.String(length=11), nullable=True),
    sa.Column('instructions', sa.String(length=1000), nullable=True),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('held_until', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('username')
    )
    op.create_table('stl_withdrawal_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('executed_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('public_id')
    )
    with op.batch_alter_table('stl_withdrawal_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stl_withdrawal_batches_state'), ['state'], unique=False)

    op.create_table('stl_withdrawals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('account_holder', sa.String(length=70), nullable=False),
    sa.Column('iban', sa.String(length=34), nullable=True),
    sa.Column('bic', sa.String(length=11), nullable=True),
    sa.Column('instructions', sa.String(length=1000), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount > 0', name='ck_stl_withdrawals_amount'),
    sa.ForeignKeyConstraint(['batch_id'], ['stl_withdrawal_batches.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('public_id')
    )
    with op.batch_alter_table('stl_withdrawals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stl_withdrawals_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stl_withdrawals_state'), ['state'], unique=False)
        batch_op.create_index('ix_stl_withdrawals_user', ['username', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stl_withdrawals', schema=None) as batch_op:
        batch_op.drop_index('ix_stl_withdrawals_user')
        batch_op.drop_index(batch_op.f('ix_stl_withdrawals_state'))
        batch_op.drop_index(batch_op.f('ix_stl_withdrawals_batch_id'))

    op.drop_table('stl_withdrawals')
    with op.batch_alter_table('stl_withdrawal_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stl_withdrawal_batches_state'))

    op.drop_table('stl_withdrawal_batches')
    op.drop_table('stl_payout_details')
