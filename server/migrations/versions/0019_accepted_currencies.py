"""accepted currencies: which currencies a known instance lets others pay its creators in

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

INSTANCES = sa.table('fed_instances', sa.column('mecene', sa.Boolean()), sa.column('currency', sa.String()),
                     sa.column('accepted_currencies', sa.JSON()))


def upgrade() -> None:
    op.add_column('fed_instances', sa.Column('accepted_currencies', sa.JSON(), nullable=False,
                                             server_default=sa.text("'[]'")))
    _own_currency_alone()


def _own_currency_alone() -> None:
    """An instance learned before it could say more accepts its own currency, as one that still says nothing does."""
    mecene = INSTANCES.c.mecene.is_(True)
    found = op.get_bind().execute(sa.select(INSTANCES.c.currency).where(mecene).distinct())
    for currency in found.scalars().all():
        op.execute(INSTANCES.update().where(mecene, INSTANCES.c.currency == currency)
                   .values(accepted_currencies=[currency]))


def downgrade() -> None:
    op.drop_column('fed_instances', 'accepted_currencies')
