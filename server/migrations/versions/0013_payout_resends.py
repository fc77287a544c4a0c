"""payout resends: when each payout was last sent, so that one left unanswered is sent again

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('stl_payouts', sa.Column('sent_at', sa.DateTime(), nullable=True))
    op.add_column('stl_claim_payouts', sa.Column('sent_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column('stl_claim_payouts', 'sent_at')
    op.drop_column('stl_payouts', 'sent_at')
