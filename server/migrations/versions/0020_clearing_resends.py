"""clearing resends: when each clearing notice of ours was last sent, so that one left unanswered is sent again

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('stl_clearings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sent_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('stl_clearings', schema=None) as batch_op:
        batch_op.drop_column('sent_at')
