"""history indexes: pages and the earnings API read an account's rows on an index, however long its history

Revision ID: 0027
Revises: 0026
"""

from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('stl_donor_closes', schema=None) as batch_op:
        batch_op.create_index('ix_stl_donor_closes_donor_period', ['donor', 'period'], unique=False)
    with op.batch_alter_table('stl_pending_credits', schema=None) as batch_op:
        batch_op.create_index('ix_stl_pending_credits_creator', ['creator', 'currency'], unique=False)
    with op.batch_alter_table('things', schema=None) as batch_op:
        batch_op.drop_index('ix_things_creator')
        batch_op.create_index('ix_things_creator_id', ['creator', 'id'], unique=False)
    with op.batch_alter_table('received_flattrs', schema=None) as batch_op:
        batch_op.drop_index('ix_received_flattrs_thing_period')
        batch_op.create_index('ix_received_flattrs_period_thing', ['period', 'thing_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('received_flattrs', schema=None) as batch_op:
        batch_op.drop_index('ix_received_flattrs_period_thing')
        batch_op.create_index('ix_received_flattrs_thing_period', ['thing_id', 'period'], unique=False)
    with op.batch_alter_table('things', schema=None) as batch_op:
        batch_op.drop_index('ix_things_creator_id')
        batch_op.create_index('ix_things_creator', ['creator'], unique=False)
    with op.batch_alter_table('stl_pending_credits', schema=None) as batch_op:
        batch_op.drop_index('ix_stl_pending_credits_creator')
    with op.batch_alter_table('stl_donor_closes', schema=None) as batch_op:
        batch_op.drop_index('ix_stl_donor_closes_donor_period')
