"""deliveries not understood: a delivery may name an activity its receiver's server may not know

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('fed_deliveries', sa.Column('may_be_unknown', sa.Boolean(), nullable=False,
                                              server_default=sa.false()))


def downgrade() -> None:
    op.drop_column('fed_deliveries', 'may_be_unknown')
