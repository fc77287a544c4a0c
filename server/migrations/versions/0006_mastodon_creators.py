"""mastodon creators and boosts: escrow notice opt-outs, auto-flattr of boosts

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bot_opt_outs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_uri', sa.String(length=2048), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('actor_uri')
    )
    with op.batch_alter_table('linked_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('auto_flattr_boosts', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('bot_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answer', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('bot_tasks', schema=None) as batch_op:
        batch_op.drop_column('answer')
    with op.batch_alter_table('linked_accounts', schema=None) as batch_op:
        batch_op.drop_column('auto_flattr_boosts')
    op.drop_table('bot_opt_outs')
