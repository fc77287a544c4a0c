"""live things index: a page of a creator's live things is read from one partial index, on PostgreSQL too

PostgreSQL's planner, told that a creator owns a tenth of the things, walked the
primary key backwards past every other creator's newer things rather than take
the (creator, id) index; an index of the live things alone lets the page's ids
come from an index-only scan.

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

LIVE = "deleted_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table('things', schema=None) as batch_op:
        batch_op.create_index('ix_things_live_creator_id', ['creator', 'id'], unique=False,
                              sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))


def downgrade() -> None:
    with op.batch_alter_table('things', schema=None) as batch_op:
        batch_op.drop_index('ix_things_live_creator_id')
