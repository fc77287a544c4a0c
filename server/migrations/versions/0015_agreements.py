"""agreements: money between two Mecene instances, per peer and currency, under terms both operators agreed

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

OPEN = "state IN ('in_force', 'offered', 'proposed')"


def upgrade() -> None:
    op.create_table('stl_agreements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uri', sa.String(length=2048), nullable=False),
    sa.Column('peer_host', sa.String(length=255), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('proposed_by_us', sa.Boolean(), nullable=False),
    sa.Column('credit_limit', sa.BigInteger(), nullable=True),
    sa.Column('iban', sa.String(length=34), nullable=True),
    sa.Column('account_holder', sa.String(length=70), nullable=True),
    sa.Column('instructions', sa.String(length=1000), nullable=True),
    sa.Column('peer_credit_limit', sa.BigInteger(), nullable=True),
    sa.Column('peer_iban', sa.String(length=34), nullable=True),
    sa.Column('peer_account_holder', sa.String(length=70), nullable=True),
    sa.Column('peer_instructions', sa.String(length=1000), nullable=True),
    sa.Column('offer_activity_id', sa.String(length=2048), nullable=False),
    sa.Column('answer_activity_id', sa.String(length=2048), nullable=True),
    sa.Column('end_activity_id', sa.String(length=2048), nullable=True),
    sa.Column('reason', sa.String(length=64), nullable=True),
    sa.Column('ended_by_us', sa.Boolean(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('credit_limit >= 0', name='ck_stl_agreements_credit_limit_not_negative'),
    sa.CheckConstraint('peer_credit_limit >= 0', name='ck_stl_agreements_peer_credit_limit_not_negative'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('offer_activity_id'),
    sa.UniqueConstraint('uri')
    )
    op.create_index('uq_stl_agreements_open', 'stl_agreements', ['peer_host', 'currency'], unique=True,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))


def downgrade() -> None:
    op.drop_index('uq_stl_agreements_open', table_name='stl_agreements')
    op.drop_table('stl_agreements')
