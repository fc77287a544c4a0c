"""inbox retries: an item that failed waits before its next try

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('fed_inbox_items', sa.Column('next_attempt_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column('fed_inbox_items', 'next_attempt_at')
