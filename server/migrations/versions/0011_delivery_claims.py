"""delivery claims name their process, so that a process starting again takes its own back

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('fed_deliveries', sa.Column('locked_by', sa.String(length=128), nullable=True))


def downgrade() -> None:
    op.drop_column('fed_deliveries', 'locked_by')
