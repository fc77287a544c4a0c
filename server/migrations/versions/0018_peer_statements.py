"""peer statements: each period's statement sent to every peer, and the peers' statements checked against our books

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stl_statements_sent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('peer_host', sa.String(length=255), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('activity_id', sa.String(length=2048), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('period', 'peer_host', 'currency')
    )
    op.create_table('stl_statement_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.String(length=2048), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('peer_host', sa.String(length=255), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('result', sa.String(length=8), nullable=False),
    sa.Column('differences', sa.JSON(), nullable=False),
    sa.Column('checked_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('activity_id')
    )
    op.create_index('ix_stl_statement_checks_peer', 'stl_statement_checks', ['peer_host', 'currency', 'id'])


def downgrade() -> None:
    op.drop_index('ix_stl_statement_checks_peer', table_name='stl_statement_checks')
    op.drop_table('stl_statement_checks')
    op.drop_table('stl_statements_sent')
