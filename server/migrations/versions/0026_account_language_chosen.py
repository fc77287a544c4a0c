"""account language chosen: an account's language is its own choice, or none (its browser's language then)

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('language', existing_type=sa.String(length=16), nullable=True, server_default=None)
    # No page let anyone choose before this revision: every stored 'en' was the default, not a choice.
    op.execute("UPDATE users SET language = NULL")


def downgrade() -> None:
    op.execute("UPDATE users SET language = 'en' WHERE language IS NULL")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('language', existing_type=sa.String(length=16), nullable=False, server_default='en')
