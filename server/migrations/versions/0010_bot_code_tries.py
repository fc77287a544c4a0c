"""bot code tries: failed link codes per remote account, so that codes cannot be guessed by volume

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bot_code_tries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_uri', sa.String(length=2048), nullable=False),
    sa.Column('tried_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_bot_code_tries_actor_uri'), 'bot_code_tries', ['actor_uri'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_bot_code_tries_actor_uri'), table_name='bot_code_tries')
    op.drop_table('bot_code_tries')
