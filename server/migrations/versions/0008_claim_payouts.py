"""claim payouts: escrow claimed from another Mecene instance travels in a payout of its own

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stl_claim_payouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payout_id', sa.String(length=2048), nullable=True),
    sa.Column('author_uri', sa.String(length=2048), nullable=False),
    sa.Column('creator', sa.String(length=2048), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('refused', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('settled_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('payout_id')
    )
    with op.batch_alter_table('stl_claim_payouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stl_claim_payouts_author_uri'), ['author_uri'], unique=False)
    with op.batch_alter_table('stl_shares', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim_payout_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_stl_shares_claim_payout_id'), ['claim_payout_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stl_shares', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stl_shares_claim_payout_id'))
        batch_op.drop_column('claim_payout_id')
    with op.batch_alter_table('stl_claim_payouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stl_claim_payouts_author_uri'))
    op.drop_table('stl_claim_payouts')
