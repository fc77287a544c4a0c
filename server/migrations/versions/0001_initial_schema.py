"""initial schema

Revision ID: 0001
Revises: (none)
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('fed_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.String(length=2048), nullable=False),
    sa.Column('sender_username', sa.String(length=64), nullable=False),
    sa.Column('inbox_url', sa.String(length=2048), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('activity_id', 'inbox_url')
    )
    with op.batch_alter_table('fed_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fed_deliveries_host'), ['host'], unique=False)
        batch_op.create_index(batch_op.f('ix_fed_deliveries_next_attempt_at'), ['next_attempt_at'], unique=False)

    op.create_table('fed_followers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('local_username', sa.String(length=64), nullable=False),
    sa.Column('follower_uri', sa.String(length=2048), nullable=False),
    sa.Column('follow_id', sa.String(length=2048), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('local_username', 'follower_uri')
    )
    op.create_table('fed_following',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('local_username', sa.String(length=64), nullable=False),
    sa.Column('target_uri', sa.String(length=2048), nullable=False),
    sa.Column('follow_id', sa.String(length=2048), nullable=False),
    sa.Column('accepted', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('follow_id'),
    sa.UniqueConstraint('local_username', 'target_uri')
    )
    op.create_table('fed_host_health',
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('open_until', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('host')
    )
    op.create_table('fed_inbox_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.String(length=2048), nullable=False),
    sa.Column('actor_uri', sa.String(length=2048), nullable=False),
    sa.Column('activity', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('processed_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('activity_id')
    )
    with op.batch_alter_table('fed_inbox_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fed_inbox_items_state'), ['state'], unique=False)

    op.create_table('fed_local_actors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('private_key_pem', sa.Text(), nullable=False),
    sa.Column('public_key_pem', sa.Text(), nullable=False),
    sa.Column('also_known_as', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('fed_outbox_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.String(length=2048), nullable=False),
    sa.Column('actor_username', sa.String(length=64), nullable=False),
    sa.Column('activity', sa.JSON(), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('activity_id')
    )
    with op.batch_alter_table('fed_outbox_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fed_outbox_items_actor_username'), ['actor_username'], unique=False)

    op.create_table('fed_remote_actors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uri', sa.String(length=2048), nullable=False),
    sa.Column('key_id', sa.String(length=2048), nullable=False),
    sa.Column('public_key_pem', sa.Text(), nullable=False),
    sa.Column('inbox', sa.String(length=2048), nullable=False),
    sa.Column('shared_inbox', sa.String(length=2048), nullable=True),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_id'),
    sa.UniqueConstraint('uri')
    )


def downgrade() -> None:
    op.drop_table('fed_remote_actors')
    with op.batch_alter_table('fed_outbox_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fed_outbox_items_actor_username'))

    op.drop_table('fed_outbox_items')
    op.drop_table('fed_local_actors')
    with op.batch_alter_table('fed_inbox_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fed_inbox_items_state'))

    op.drop_table('fed_inbox_items')
    op.drop_table('fed_host_health')
    op.drop_table('fed_following')
    op.drop_table('fed_followers')
    with op.batch_alter_table('fed_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fed_deliveries_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_fed_deliveries_host'))

    op.drop_table('fed_deliveries')
    op.drop_table('users')
