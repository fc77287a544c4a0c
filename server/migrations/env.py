"""Alembic environment: runs on the connection `server.migrate` hands over."""

from alembic import context

import federation.models
import server.models
import settlement.models

target_metadata = [server.models.Base.metadata, federation.models.Base.metadata, settlement.models.Base.metadata]


def run() -> None:
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run()
